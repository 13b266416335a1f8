"""Preparation recipes: row-level cleaning steps and fitted feature transforms."""

from modelward.datasets.recipes.apply import apply_steps, evaluate_sql
from modelward.datasets.recipes.features import compile_transforms
from modelward.datasets.recipes.spec import (
    STEP_KINDS,
    Derive,
    DropDuplicates,
    DropMissing,
    Encode,
    FeatureSpec,
    FeatureStep,
    FillMissing,
    Filter,
    Impute,
    Join,
    Outliers,
    Recipe,
    Rename,
    Scale,
    Select,
    Step,
)

__all__ = [
    "STEP_KINDS",
    "Derive",
    "DropDuplicates",
    "DropMissing",
    "Encode",
    "FeatureSpec",
    "FeatureStep",
    "FillMissing",
    "Filter",
    "Impute",
    "Join",
    "Outliers",
    "Recipe",
    "Rename",
    "Scale",
    "Select",
    "Step",
    "apply_steps",
    "compile_transforms",
    "evaluate_sql",
]
