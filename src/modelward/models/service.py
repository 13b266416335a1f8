"""The model service (``client.models``): log models to runs, load them back verified.

Model files live in the artifact store under the run's scope (``runs/<run id>``, path
``<name>/…``). Loading reads the manifest, checks it against the registered digest (for
``models:/`` URIs), downloads the files into a local cache keyed by the manifest digest
(``<home>/cache/models/<digest>``) while hashing each one against the manifest, and only then
hands the verified folder to the flavor. A changed byte anywhere is an
:class:`~modelward.errors.IntegrityError` and nothing is loaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from modelward.entities import now_ms
from modelward.entities.models import ModelManifest, ModelSignature, ModelVersion
from modelward.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from modelward.models import manifest as mf
from modelward.models.environment import runtime_environment, warn_on_mismatch
from modelward.models.flavors import LoadOptions, SaveRequest, detect_flavor, flavor_module
from modelward.models.predictor import DEFAULT_CHUNK_ROWS, Predictor
from modelward.models.uri import LocalRef, RegistryRef, RunRef, parse_model_uri

if TYPE_CHECKING:
    from modelward.config import Settings
    from modelward.store.metadata.base import MetadataStore

__all__ = ["LoggedModel", "ModelService"]

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024

#: ``run_id -> [{"name", "version", "role", ...}]``: the dataset versions a run used.
DatasetInputs = Callable[[str], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """What :meth:`ModelService.log_model` returns.

    Attributes:
        uri: ``runs:/<run id>/<name>``, usable with ``load_model`` and ``register_model``.
        run_id: The run holding the files.
        name: The model's folder in the run.
        manifest: The manifest written.
        manifest_digest: sha256 of the manifest file (what a registered version records).
    """

    uri: str
    run_id: str
    name: str
    manifest: ModelManifest
    manifest_digest: str


def check_model_path(name: Any) -> str:
    """A model's folder inside a run: a relative POSIX path without ``.``/``..`` parts."""
    if not isinstance(name, str) or not name.strip("/"):
        raise InvalidInput(f"a model name must be a non-empty string, not {name!r}")
    clean = name.strip("/")
    if any(p in {"", ".", ".."} for p in clean.split("/")) or "\\" in clean:
        raise InvalidInput(
            f"model name {name!r} must be a plain relative path such as 'model' or 'models/clf'"
        )
    return clean


class ModelService:
    """Package, log, load and export models.

    Args:
        store: The metadata store (runs, registry).
        artifacts: The artifact service (``client.artifacts``).
        settings: ``home`` locates the model cache.
        dataset_inputs: Returns the dataset versions a run used (from the datasets service),
            recorded in manifests; ``None`` records none.
    """

    def __init__(
        self,
        store: MetadataStore,
        artifacts: Any,
        settings: Settings,
        *,
        dataset_inputs: DatasetInputs | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.settings = settings
        self._dataset_inputs = dataset_inputs

    @property
    def cache_dir(self) -> Path:
        """Where verified model folders are cached, keyed by manifest digest."""
        return Path(self.settings.home) / "cache" / "models"

    # -- saving ------------------------------------------------------------------------------
    def save_model(
        self,
        model: Any,
        path: str | Path,
        *,
        input_example: Any = None,
        signature: ModelSignature | Mapping[str, Any] | None = None,
        flavor: str | None = None,
        onnx: bool = False,
        onnx_tolerance: float = 1e-4,
        init_kwargs: Mapping[str, Any] | None = None,
        code_paths: Sequence[str | Path] = (),
        artifacts: Mapping[str, str | Path] | None = None,
        requirements: Sequence[str] | None = None,
        metrics: Mapping[str, Any] | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        run_id: str | None = None,
        name: str | None = None,
        unsafe_pickle: bool = False,
    ) -> ModelManifest:
        """Write a model directory (files + manifest) at ``path``, which must not exist yet.

        See :meth:`log_model` for the arguments; this is its local half.
        """
        target = Path(path)
        if target.exists() and any(target.iterdir()):
            raise AlreadyExists(f"{target} already exists and is not empty; choose a new folder")
        flavor_name = flavor or detect_flavor(model, unsafe_pickle=unsafe_pickle)
        if flavor_name == "pickle" and not unsafe_pickle:
            raise InvalidInput(
                "the pickle flavor runs code when loaded; pass unsafe_pickle=True to use it"
            )
        sig = ModelSignature.from_dict(signature) if isinstance(signature, Mapping) else signature
        request = SaveRequest(
            input_example=input_example,
            signature=sig,
            onnx=onnx,
            onnx_tolerance=onnx_tolerance,
            init_kwargs=init_kwargs,
            code_paths=tuple(code_paths),
            artifacts=dict(artifacts or {}),
        )
        target.mkdir(parents=True, exist_ok=True)
        try:
            saved = flavor_module(flavor_name).save(model, target, request)
            options = dict(saved.options)
            options["packages"] = sorted(set(saved.packages))
            manifest = ModelManifest(
                format_version=mf.FORMAT_VERSION,
                name=name or target.name,
                flavor=flavor_name,
                flavor_options=options,
                framework=saved.framework,
                signature=saved.signature,
                requirements=list(requirements) if requirements is not None else saved.requirements,
                run_id=run_id,
                datasets=[dict(d) for d in datasets or ()],
                metrics=dict(metrics or {}),
                environment=runtime_environment(),
                files=mf.digest_files(target),
                onnx=saved.onnx,
                created_at=now_ms(),
                has_predict_proba=saved.has_predict_proba,
            )
            (target / mf.MANIFEST_FILE).write_bytes(mf.manifest_bytes(manifest))
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        return manifest

    def log_model(
        self,
        model: Any,
        name: str,
        *,
        run_id: str,
        input_example: Any = None,
        signature: ModelSignature | Mapping[str, Any] | None = None,
        flavor: str | None = None,
        onnx: bool = False,
        onnx_tolerance: float = 1e-4,
        init_kwargs: Mapping[str, Any] | None = None,
        code_paths: Sequence[str | Path] = (),
        artifacts: Mapping[str, str | Path] | None = None,
        requirements: Sequence[str] | None = None,
        metrics: Mapping[str, Any] | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        unsafe_pickle: bool = False,
    ) -> LoggedModel:
        """Save ``model`` into the run's artifacts under ``name``.

        Args:
            model: A fitted scikit-learn estimator or pipeline, a ``torch.nn.Module``, an ONNX
                model (``onnx.ModelProto``, bytes or ``.onnx`` path), a
                :class:`~modelward.models.PythonModel`, or anything with ``unsafe_pickle``.
            name: Folder inside the run (``model``, ``models/clf``).
            run_id: The run that produced the model.
            input_example: A few rows; gives the signature (names, dtypes, shapes) and the ONNX
                parity check.
            signature: An explicit signature (a :class:`ModelSignature` or its dict form).
            flavor: Force a flavor instead of detecting it.
            onnx: Also export a scikit-learn model to ONNX (needs ``input_example``).
            onnx_tolerance: Largest absolute difference the parity check accepts.
            init_kwargs: Constructor arguments of a PyTorch module or custom Python model.
            code_paths: Code files/folders shipped with a custom Python model.
            artifacts: Name -> file/folder copied beside a custom Python model.
            requirements: pip requirements (default: pinned versions of the flavor's libraries).
            metrics: Metrics to record (default: the run's latest metrics).
            datasets: Dataset versions to record (default: the run's recorded inputs).
            unsafe_pickle: Save with joblib/pickle; loading will need ``trust=True``.

        Raises:
            AlreadyExists: The run already has a model at ``name``.
        """
        name = check_model_path(name)
        run = self.store.get_run(run_id)
        scope = f"runs/{run_id}"
        if self.artifacts.list(scope, name):
            raise AlreadyExists(
                f"run {run_id} already has a model at {name!r}; choose another name",
                details={"run_id": run_id, "name": name},
            )
        if metrics is None:
            metrics = {k: v for k, v in run.metrics.items() if not k.startswith("system/")}
        if datasets is None:
            datasets = self._run_datasets(run_id)
        with tempfile.TemporaryDirectory(prefix="modelward-model-") as tmp:
            local = Path(tmp) / "model"
            manifest = self.save_model(
                model,
                local,
                input_example=input_example,
                signature=signature,
                flavor=flavor,
                onnx=onnx,
                onnx_tolerance=onnx_tolerance,
                init_kwargs=init_kwargs,
                code_paths=code_paths,
                artifacts=artifacts,
                requirements=requirements,
                metrics=metrics,
                datasets=datasets,
                run_id=run_id,
                name=name,
                unsafe_pickle=unsafe_pickle,
            )
            digest = hashlib.sha256((local / mf.MANIFEST_FILE).read_bytes()).hexdigest()
            self.artifacts.log_dir(scope, local, name)
        return LoggedModel(f"runs:/{run_id}/{name}", run_id, name, manifest, digest)

    def _run_datasets(self, run_id: str) -> list[dict[str, Any]]:
        if self._dataset_inputs is None:
            return []
        try:
            return list(self._dataset_inputs(run_id))
        except NotFound:
            return []

    # -- reading -----------------------------------------------------------------------------
    def read_manifest(self, uri: str | Path) -> tuple[ModelManifest, str]:
        """Return a model's manifest and its sha256, without downloading the model files."""
        ref = parse_model_uri(uri)
        if isinstance(ref, LocalRef):
            data = _local_manifest_bytes(ref.path)
            return mf.parse_manifest(data, str(ref.path)), hashlib.sha256(data).hexdigest()
        scope, path, expected = self._locate(ref)
        data = self._manifest_bytes(scope, path, str(ref))
        digest = hashlib.sha256(data).hexdigest()
        if expected is not None and digest != expected:
            raise IntegrityError(
                f"the manifest of {ref} changed since it was registered (sha256 {digest[:12]}…, "
                f"registered {expected[:12]}…); nothing was loaded. Register the model again "
                "if the change is intended",
                details={"uri": str(ref), "digest": digest, "registered": expected},
            )
        return mf.parse_manifest(data, str(ref)), digest

    def _locate(self, ref: RunRef | RegistryRef) -> tuple[str, str, str | None]:
        if isinstance(ref, RunRef):
            self.store.get_run(ref.run_id)
            return ref.scope, ref.path, None
        version = self.resolve(ref)
        return version.artifact_scope, version.artifact_path, version.manifest_digest

    def resolve(self, ref: RegistryRef) -> ModelVersion:
        """The registered version a ``models:/`` reference names (READY or ARCHIVED)."""
        from modelward.registry.resolve import resolve_version

        return resolve_version(self.store, ref)

    def _manifest_bytes(self, scope: str, path: str, where: str) -> bytes:
        try:
            data: bytes = self.artifacts.read_bytes(scope, f"{path}/{mf.MANIFEST_FILE}")
        except NotFound:
            if self.artifacts.list(scope, path):
                raise NotFound(
                    f"{where} has files but no {mf.MANIFEST_FILE}: it is not a modelward model "
                    "or its manifest was lost; log the model again",
                    details={"uri": where},
                ) from None
            raise NotFound(
                f"there is no model at {where}; check the run id and model name "
                "(modelward runs show RUN_ID lists a run's details)",
                details={"uri": where},
            ) from None
        return data

    def local_path(self, uri: str | Path) -> tuple[Path, ModelManifest]:
        """Download (or reuse from the cache) a verified copy of a model's folder."""
        ref = parse_model_uri(uri)
        if isinstance(ref, LocalRef):
            manifest = mf.read_manifest(ref.path)
            mf.verify_directory(ref.path, manifest)
            return ref.path, manifest
        manifest, digest = self.read_manifest(str(ref))
        scope, path, _ = self._locate(ref)
        final = self.cache_dir / digest
        if final.is_dir():
            try:
                mf.verify_directory(final, manifest)
                return final, manifest
            except IntegrityError as exc:
                log.warning("cached copy of %s is damaged (%s); downloading again", ref, exc)
                shutil.rmtree(final, ignore_errors=True)
        self._download(scope, path, manifest, digest, final, str(ref))
        return final, manifest

    def _download(
        self, scope: str, path: str, manifest: ModelManifest, digest: str, final: Path, where: str
    ) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = self.cache_dir / f".tmp-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            for rel, info in manifest.files.items():
                target = staging / rel
                if not target.resolve().is_relative_to(staging.resolve()):
                    raise IntegrityError(
                        f"the manifest of {where} names a file outside the model: {rel!r}"
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                h = hashlib.sha256()
                try:
                    with (
                        self.artifacts.open(scope, f"{path}/{rel}") as src,
                        target.open("wb") as dst,
                    ):
                        while chunk := src.read(_CHUNK):
                            h.update(chunk)
                            dst.write(chunk)
                except NotFound:
                    raise IntegrityError(
                        f"{where} is incomplete: {rel} is listed in its manifest but missing "
                        "from the store; nothing was loaded",
                        details={"uri": where, "file": rel},
                    ) from None
                if h.hexdigest() != info.get("sha256"):
                    raise IntegrityError(
                        f"{where}: {rel} does not match its manifest digest (the file was "
                        "changed or swapped); nothing was loaded",
                        details={"uri": where, "file": rel},
                    )
            (staging / mf.MANIFEST_FILE).write_bytes(mf.manifest_bytes(manifest))
            try:
                os.replace(staging, final)
            except OSError:
                if not final.is_dir():  # a concurrent loader put the same digest there first
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def load_model(
        self,
        uri: str | Path,
        *,
        trust: bool = False,
        trusted_types: Sequence[str] = (),
        backend: Literal["auto", "native", "onnx"] = "auto",
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        max_rows: int | None = None,
    ) -> Predictor:
        """Load a model as a :class:`~modelward.models.predictor.Predictor`, verified.

        Args:
            uri: ``runs:/RUN_ID/NAME``, ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``,
                ``models:/NAME/latest`` or a local folder.
            trust: Allow loading what can execute code (pickle, shipped code, any skops type).
            trusted_types: Extra type names a skops file may contain.
            backend: ``auto`` uses ONNX Runtime when an export passed its parity check.
            chunk_rows: Rows per model call for large batches.
            max_rows: Refuse batches larger than this.

        Raises:
            IntegrityError: A file differs from the manifest (nothing is loaded).
            UnsafeModel: Loading would execute untrusted code and ``trust`` is false.
            NotFound: No model at ``uri``.
        """
        if backend not in {"auto", "native", "onnx"}:
            raise InvalidInput(f"backend must be 'auto', 'native' or 'onnx', not {backend!r}")
        path, manifest = self.local_path(uri)
        module = flavor_module(manifest.flavor)
        from modelward.models.flavors import manifest_packages

        warn_on_mismatch(manifest.environment, manifest_packages(manifest), where=str(uri))
        loaded = module.load(
            path,
            manifest,
            LoadOptions(trust=trust, trusted_types=tuple(trusted_types), backend=backend),
        )
        return Predictor(
            loaded, manifest, source=str(uri), path=path, chunk_rows=chunk_rows, max_rows=max_rows
        )

    def export(
        self,
        uri: str | Path,
        output: str | Path,
        *,
        format: str = "onnx",
        trust: bool = False,
        trusted_types: Sequence[str] = (),
    ) -> Path:
        """Write a model in another format (``onnx``) to ``output`` and return the file path.

        A stored ONNX export (or an ONNX model) is copied; a scikit-learn model without one
        is converted now (no parity check: there is no example to compare on).
        """
        if format != "onnx":
            raise InvalidInput(f"unsupported export format {format!r}; supported: onnx")
        path, manifest = self.local_path(uri)
        target = Path(output)
        if target.is_dir():
            target = target / "model.onnx"
        target.parent.mkdir(parents=True, exist_ok=True)
        if manifest.onnx is not None:
            shutil.copyfile(path / str(manifest.onnx.get("file", "model.onnx")), target)
        elif manifest.flavor == "onnx":
            shutil.copyfile(path / str(manifest.flavor_options.get("file", "model.onnx")), target)
        elif manifest.flavor == "sklearn":
            from modelward.models.flavors import sklearn, sklearn_onnx

            estimator = sklearn.load_estimator(
                path, manifest, LoadOptions(trust=trust, trusted_types=tuple(trusted_types))
            )
            target.write_bytes(sklearn_onnx.convert(estimator, manifest.signature)[0])
        else:
            raise InvalidInput(
                f"cannot export a {manifest.flavor} model to ONNX here; log scikit-learn models "
                "with onnx=True, or export PyTorch modules with torch.onnx yourself"
            )
        return target


def _local_manifest_bytes(path: Path) -> bytes:
    file = path / mf.MANIFEST_FILE
    if not file.is_file():
        mf.read_manifest(path)  # raises the right NotFound
    return file.read_bytes()
