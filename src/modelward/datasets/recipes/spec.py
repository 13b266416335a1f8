"""Recipes: a declarative list of cleaning steps, and the fitted feature transforms.

A recipe in YAML::

    name: wine_clean                 # the dataset the result becomes (CLI --name overrides)
    inputs:                          # alias -> dataset reference
      wine: wine@1
      regions: regions@latest
    from: wine                       # the input the steps start from (default: the first)
    steps:                           # row-level cleaning, applied in order by `prepare`
      - drop_duplicates: {subset: [id], keep: first}
      - drop_missing: {columns: [alcohol]}
      - fill_missing: {columns: [magnesium], method: median}
      - outliers: {columns: [proline], method: iqr, factor: 1.5, action: clip}
      - filter: "alcohol > 11"
      - derive: {ratio: "flavanoids / total_phenols"}
      - join: {with: regions, on: id, how: left}
      - rename: {od280_od315_of_diluted_wines: od_ratio}
      - select: [alcohol, ratio, od_ratio, region, target]
    features:                        # fitted transforms, compiled to scikit-learn
      target: target
      remainder: passthrough
      steps:
        - impute: {columns: [ratio], strategy: median}
        - scale: {columns: [alcohol, ratio], method: standard}
        - encode: {columns: [region], method: onehot}

Row steps produce a new dataset version (``modelward data prepare``). Feature steps are never
applied by ``prepare``: they learn from data (a mean, a category list), so they compile to an
unfitted scikit-learn ``ColumnTransformer`` that training fits on the training split only and
that is saved inside the model (:func:`~modelward.datasets.recipes.features.compile_transforms`).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from modelward.errors import InvalidInput

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
]


def _names(value: Any, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value) and value:
        return tuple(value)
    raise InvalidInput(f"{what} must be a column name or a non-empty list of names, not {value!r}")


def _choice(value: Any, options: Sequence[str], what: str) -> str:
    if value not in options:
        raise InvalidInput(f"{what} must be one of {', '.join(options)}, not {value!r}")
    return str(value)


def _number(value: Any, what: str, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{what} must be a number, not {value!r}")
    if positive and value <= 0:
        raise InvalidInput(f"{what} must be positive, not {value}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Step(abc.ABC):
    """A row-level step. Subclasses define ``kind`` and their parameters."""

    kind: ClassVar[str] = ""

    @abc.abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """Return the YAML/JSON form ``{kind: parameters}``."""


@dataclass(frozen=True, slots=True)
class DropDuplicates(Step):
    """Drop repeated rows (all columns, or ``subset``), keeping the first, last or none."""

    kind: ClassVar[str] = "drop_duplicates"
    subset: tuple[str, ...] | None = None
    keep: str = "first"

    def __post_init__(self) -> None:
        _choice(self.keep, ("first", "last", "none"), "drop_duplicates.keep")

    def to_dict(self) -> dict[str, Any]:
        return {self.kind: {"subset": _list(self.subset), "keep": self.keep}}


@dataclass(frozen=True, slots=True)
class DropMissing(Step):
    """Drop rows with a missing value in ``columns`` (default: any column); ``how``: any/all."""

    kind: ClassVar[str] = "drop_missing"
    columns: tuple[str, ...] | None = None
    how: str = "any"

    def __post_init__(self) -> None:
        _choice(self.how, ("any", "all"), "drop_missing.how")

    def to_dict(self) -> dict[str, Any]:
        return {self.kind: {"columns": _list(self.columns), "how": self.how}}


@dataclass(frozen=True, slots=True)
class FillMissing(Step):
    """Fill missing values over ``columns`` (default: every column the method applies to).

    Methods: ``forward``, ``backward``, ``constant`` (with ``value``), ``mean``, ``median``,
    ``mode``.
    """

    kind: ClassVar[str] = "fill_missing"
    method: str = "constant"
    columns: tuple[str, ...] | None = None
    value: Any = None

    METHODS: ClassVar[tuple[str, ...]] = (
        "forward",
        "backward",
        "constant",
        "mean",
        "median",
        "mode",
    )

    def __post_init__(self) -> None:
        _choice(self.method, self.METHODS, "fill_missing.method")
        if self.method == "constant" and self.value is None:
            raise InvalidInput("fill_missing with method constant needs a value")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"method": self.method, "columns": _list(self.columns)}
        if self.method == "constant":
            data["value"] = self.value
        return {self.kind: data}


@dataclass(frozen=True, slots=True)
class Outliers(Step):
    """Remove or clip outliers of numeric columns.

    ``iqr``: values outside ``[q1 - factor*IQR, q3 + factor*IQR]``; ``zscore``: values more than
    ``threshold`` standard deviations from the mean.
    """

    kind: ClassVar[str] = "outliers"
    columns: tuple[str, ...] | None = None
    method: str = "iqr"
    action: str = "remove"
    factor: float = 1.5
    threshold: float = 3.0

    def __post_init__(self) -> None:
        _choice(self.method, ("iqr", "zscore"), "outliers.method")
        _choice(self.action, ("remove", "clip"), "outliers.action")
        _number(self.factor, "outliers.factor")
        _number(self.threshold, "outliers.threshold")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "columns": _list(self.columns),
            "method": self.method,
            "action": self.action,
        }
        data["factor" if self.method == "iqr" else "threshold"] = (
            self.factor if self.method == "iqr" else self.threshold
        )
        return {self.kind: data}


@dataclass(frozen=True, slots=True)
class Filter(Step):
    """Keep the rows where a SQL expression is true, e.g. ``"alcohol > 12 AND hue < 1"``."""

    kind: ClassVar[str] = "filter"
    expression: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.expression, str) or not self.expression.strip():
            raise InvalidInput('filter needs a SQL expression, e.g. filter: "alcohol > 12"')

    def to_dict(self) -> dict[str, Any]:
        return {self.kind: self.expression}


@dataclass(frozen=True, slots=True)
class Select(Step):
    """Keep only these columns, in this order."""

    kind: ClassVar[str] = "select"
    columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.columns:
            raise InvalidInput("select needs a list of columns")

    def to_dict(self) -> dict[str, Any]:
        return {self.kind: list(self.columns)}


@dataclass(frozen=True, slots=True)
class Rename(Step):
    """Rename columns: ``{old: new}``."""

    kind: ClassVar[str] = "rename"
    mapping: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.mapping or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in self.mapping.items()
        ):
            raise InvalidInput("rename needs a mapping of old column name -> new name")

    def to_dict(self) -> dict[str, Any]:
        return {self.kind: dict(self.mapping)}


@dataclass(frozen=True, slots=True)
class Derive(Step):
    """Add (or replace) columns computed by SQL expressions: ``{name: expression}``."""

    kind: ClassVar[str] = "derive"
    columns: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.columns or not all(
            isinstance(k, str) and k and isinstance(v, str) and v.strip()
            for k, v in self.columns.items()
        ):
            raise InvalidInput("derive needs a mapping of new column -> SQL expression")

    def to_dict(self) -> dict[str, Any]:
        return {self.kind: dict(self.columns)}


@dataclass(frozen=True, slots=True)
class Join(Step):
    """Join another input (by its alias in ``inputs``) on key columns."""

    kind: ClassVar[str] = "join"
    with_: str = ""
    on: tuple[str, ...] = ()
    how: str = "inner"

    def __post_init__(self) -> None:
        if not self.with_:
            raise InvalidInput("join needs 'with': the alias of another input")
        if not self.on:
            raise InvalidInput("join needs 'on': the key column(s) both inputs share")
        _choice(self.how, ("inner", "left", "right", "outer"), "join.how")

    def to_dict(self) -> dict[str, Any]:
        return {self.kind: {"with": self.with_, "on": list(self.on), "how": self.how}}


def _list(value: tuple[str, ...] | None) -> list[str] | None:
    return list(value) if value is not None else None


# -- feature steps ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FeatureStep:
    """A fitted transform over some columns: ``scale``, ``encode`` or ``impute``."""

    kind: str
    columns: tuple[str, ...]
    method: str
    value: Any = None

    OPTIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "scale": ("standard", "minmax"),
        "encode": ("onehot", "ordinal"),
        "impute": ("mean", "median", "most_frequent", "constant"),
    }

    def __post_init__(self) -> None:
        if self.kind not in self.OPTIONS:
            raise InvalidInput(f"unknown feature step {self.kind!r}; use {', '.join(self.OPTIONS)}")
        _choice(self.method, self.OPTIONS[self.kind], f"{self.kind} method")
        if not self.columns:
            raise InvalidInput(f"feature step {self.kind} needs columns")
        if self.kind == "impute" and self.method == "constant" and self.value is None:
            raise InvalidInput("impute with strategy constant needs a value")

    def to_dict(self) -> dict[str, Any]:
        key = "strategy" if self.kind == "impute" else "method"
        data: dict[str, Any] = {"columns": list(self.columns), key: self.method}
        if self.value is not None:
            data["value"] = self.value
        return {self.kind: data}


def Scale(columns: Sequence[str], method: str = "standard") -> FeatureStep:  # noqa: N802
    """A scaling step: ``standard`` (zero mean, unit variance) or ``minmax`` ([0, 1])."""
    return FeatureStep("scale", tuple(columns), method)


def Encode(columns: Sequence[str], method: str = "onehot") -> FeatureStep:  # noqa: N802
    """An encoding step: ``onehot`` or ``ordinal`` (unknown categories are tolerated)."""
    return FeatureStep("encode", tuple(columns), method)


def Impute(  # noqa: N802
    columns: Sequence[str], strategy: str = "mean", value: Any = None
) -> FeatureStep:
    """An imputation step learned from training data: mean, median, most_frequent, constant."""
    return FeatureStep("impute", tuple(columns), strategy, value)


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """The fitted part of a recipe.

    Attributes:
        steps: Feature steps in order (a column may go through impute, then scale or encode).
        target: The label column, never transformed (and left out of the features).
        remainder: What happens to columns no step names: ``passthrough`` or ``drop``.
    """

    steps: tuple[FeatureStep, ...] = ()
    target: str | None = None
    remainder: str = "passthrough"

    def __post_init__(self) -> None:
        _choice(self.remainder, ("passthrough", "drop"), "features.remainder")
        if self.target is not None:
            for step in self.steps:
                if self.target in step.columns:
                    raise InvalidInput(
                        f"feature step {step.kind} names the target {self.target!r}; "
                        "the label is never transformed"
                    )

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML/JSON form."""
        return {
            "target": self.target,
            "remainder": self.remainder,
            "steps": [s.to_dict() for s in self.steps],
        }


STEP_KINDS: dict[str, type[Step]] = {
    cls.kind: cls
    for cls in (
        DropDuplicates,
        DropMissing,
        FillMissing,
        Outliers,
        Filter,
        Select,
        Rename,
        Derive,
        Join,
    )
}


@dataclass(frozen=True, slots=True)
class Recipe:
    """Inputs, row steps and feature steps.

    Attributes:
        inputs: Alias -> dataset reference (``wine@1``, ``wine`` for the newest).
        steps: Row-level steps, in order.
        features: Fitted transforms (compiled, never applied by ``prepare``).
        name: Name of the dataset the result becomes.
        start: Alias of the input the steps start from (default: the first).
    """

    inputs: Mapping[str, str] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    features: FeatureSpec | None = None
    name: str | None = None
    start: str | None = None

    @property
    def main_input(self) -> str:
        """Alias of the input the steps start from."""
        if self.start is not None:
            return self.start
        if not self.inputs:
            raise InvalidInput("the recipe has no inputs; add inputs: {alias: dataset@version}")
        return next(iter(self.inputs))

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML/JSON form."""
        data: dict[str, Any] = {"inputs": dict(self.inputs)}
        if self.name is not None:
            data["name"] = self.name
        if self.start is not None:
            data["from"] = self.start
        data["steps"] = [s.to_dict() for s in self.steps]
        if self.features is not None:
            data["features"] = self.features.to_dict()
        return data

    @classmethod
    def from_yaml(cls, path_or_text: str | Path) -> Recipe:
        """Read a recipe from a YAML file (or YAML text)."""
        from modelward.datasets.yamlio import load_yaml

        return cls.from_dict(load_yaml(path_or_text, "recipe"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recipe:
        """Read the YAML/JSON form (see the module docstring).

        Raises:
            InvalidInput: With the step number and what is wrong with it.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput(f"a recipe must be a mapping, not {type(data).__name__}")
        unknown = set(data) - {"name", "inputs", "from", "steps", "features"}
        if unknown:
            raise InvalidInput(
                f"unknown recipe key(s) {', '.join(sorted(unknown))}; use name, inputs, from, "
                "steps, features"
            )
        inputs = data.get("inputs") or {}
        if isinstance(inputs, str):
            inputs = [inputs]
        if isinstance(inputs, Sequence) and not isinstance(inputs, str):
            inputs = {str(ref).split("@")[0]: str(ref) for ref in inputs}
        if not isinstance(inputs, Mapping) or not inputs:
            raise InvalidInput("the recipe needs inputs: {alias: dataset@version}")
        start = data.get("from")
        if start is not None and start not in inputs:
            raise InvalidInput(f"'from: {start}' names no input; inputs are: {', '.join(inputs)}")
        steps = tuple(
            _parse_step(raw, index) for index, raw in enumerate(data.get("steps") or [], 1)
        )
        for index, step in enumerate(steps, 1):
            if isinstance(step, Join) and step.with_ not in inputs:
                raise InvalidInput(
                    f"step {index} (join) names input {step.with_!r}, which the recipe does not "
                    f"list; inputs are: {', '.join(inputs)}"
                )
        features = _parse_features(data.get("features"))
        name = data.get("name")
        return cls(
            inputs={str(k): str(v) for k, v in inputs.items()},
            steps=steps,
            features=features,
            name=str(name) if name is not None else None,
            start=str(start) if start is not None else None,
        )


def _split_step(raw: Any, index: int) -> tuple[str, Any]:
    if isinstance(raw, str):
        return raw, None
    if isinstance(raw, Mapping) and len(raw) == 1:
        kind, args = next(iter(raw.items()))
        return str(kind), args
    raise InvalidInput(
        f"step {index} must be a name or a one-key mapping such as "
        f"{{drop_missing: {{columns: [a]}}}}, not {raw!r}"
    )


def _kwargs(args: Any, kind: str, index: int, allowed: set[str]) -> dict[str, Any]:
    if args is None:
        return {}
    if not isinstance(args, Mapping):
        raise InvalidInput(f"step {index} ({kind}) takes a mapping of {', '.join(sorted(allowed))}")
    unknown = set(args) - allowed
    if unknown:
        raise InvalidInput(
            f"step {index} ({kind}) has unknown option(s) {', '.join(sorted(unknown))}; "
            f"it takes {', '.join(sorted(allowed))}"
        )
    return dict(args)


def _parse_step(raw: Any, index: int) -> Step:
    kind, args = _split_step(raw, index)
    try:
        return _build_step(kind, args, index)
    except InvalidInput as exc:
        if exc.message.startswith("step "):
            raise
        raise InvalidInput(f"step {index} ({kind}): {exc.message}") from None


def _build_step(kind: str, args: Any, index: int) -> Step:
    if kind == "drop_duplicates":
        kw = _kwargs(args, kind, index, {"subset", "keep"})
        return DropDuplicates(_names(kw.get("subset"), "subset"), kw.get("keep", "first"))
    if kind == "drop_missing":
        kw = _kwargs(args, kind, index, {"columns", "how"})
        return DropMissing(_names(kw.get("columns"), "columns"), kw.get("how", "any"))
    if kind == "fill_missing":
        kw = _kwargs(args, kind, index, {"columns", "method", "value"})
        return FillMissing(
            kw.get("method", "constant"), _names(kw.get("columns"), "columns"), kw.get("value")
        )
    if kind == "outliers":
        kw = _kwargs(args, kind, index, {"columns", "method", "action", "factor", "threshold"})
        return Outliers(
            _names(kw.get("columns"), "columns"),
            kw.get("method", "iqr"),
            kw.get("action", "remove"),
            kw.get("factor", 1.5),
            kw.get("threshold", 3.0),
        )
    if kind == "filter":
        return Filter(args if isinstance(args, str) else "")
    if kind == "select":
        return Select(_names(args, "select") or ())
    if kind == "rename":
        return Rename(dict(args) if isinstance(args, Mapping) else {})
    if kind == "derive":
        return Derive(dict(args) if isinstance(args, Mapping) else {})
    if kind == "join":
        kw = _kwargs(args, kind, index, {"with", "on", "how"})
        return Join(
            str(kw.get("with") or ""), _names(kw.get("on"), "on") or (), kw.get("how", "inner")
        )
    if kind in FeatureStep.OPTIONS:
        raise InvalidInput(
            f"{kind} learns from data, so it belongs under features.steps (fitted on the "
            "training split), not under steps"
        )
    raise InvalidInput(
        f"unknown step {kind!r}; use one of {', '.join(STEP_KINDS)} (and scale, encode, impute "
        "under features)"
    )


def _parse_features(raw: Any) -> FeatureSpec | None:
    if raw is None:
        return None
    if isinstance(raw, list):
        raw = {"steps": raw}
    if not isinstance(raw, Mapping):
        raise InvalidInput("features must be a mapping with steps (and target, remainder)")
    unknown = set(raw) - {"steps", "target", "remainder"}
    if unknown:
        raise InvalidInput(
            f"unknown features key(s) {', '.join(sorted(unknown))}; use steps, target, remainder"
        )
    steps = []
    for index, item in enumerate(raw.get("steps") or [], 1):
        kind, args = _split_step(item, index)
        if kind not in FeatureStep.OPTIONS:
            raise InvalidInput(
                f"features step {index}: unknown step {kind!r}; use scale, encode or impute"
            )
        key = "strategy" if kind == "impute" else "method"
        kw = _kwargs(args, kind, index, {"columns", key, "value"})
        default = {"scale": "standard", "encode": "onehot", "impute": "mean"}[kind]
        try:
            steps.append(
                FeatureStep(
                    kind,
                    _names(kw.get("columns"), "columns") or (),
                    str(kw.get(key, default)),
                    kw.get("value"),
                )
            )
        except InvalidInput as exc:
            raise InvalidInput(f"features step {index} ({kind}): {exc.message}") from None
    target = raw.get("target")
    return FeatureSpec(
        tuple(steps),
        str(target) if target is not None else None,
        str(raw.get("remainder", "passthrough")),
    )
