"""Model packaging and loading: manifests, signatures, flavors and the one predictor type.

Heavy libraries (scikit-learn, skops, ONNX Runtime, torch) load only with the flavor that
needs them.
"""

from modelward.models.environment import EnvironmentMismatchWarning
from modelward.models.flavors.python import PythonModel
from modelward.models.predictor import Predictor
from modelward.models.service import LoggedModel, ModelService
from modelward.models.signature import infer_signature

__all__ = [
    "EnvironmentMismatchWarning",
    "LoggedModel",
    "ModelService",
    "Predictor",
    "PythonModel",
    "infer_signature",
]
