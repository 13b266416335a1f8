"""Deterministic train/validation/test splits of a version's rows, recorded with the version.

A split assigns every row one part. The assignment is computed once, from the seed (and the
stratification column's classes, when given), and stored as a small Parquet blob of one
``int8`` code per row (0 train, 1 validation, 2 test), so a run can say exactly which rows it
trained on even if a later NumPy or scikit-learn shuffled differently.

Unstratified: a permutation of the row numbers by ``numpy.random.default_rng(seed)``, cut at the
fractions. Stratified: scikit-learn's ``train_test_split`` (twice for three parts) with the
same seed, so each part keeps the class proportions.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelward.entities import DatasetSplit
from modelward.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "PARTS",
    "SplitIndices",
    "assign",
    "decode_assignment",
    "encode_assignment",
    "normalise_fractions",
]

#: Part names, in code order.
PARTS: tuple[str, ...] = ("train", "validation", "test")


@dataclass(frozen=True, slots=True)
class SplitIndices:
    """Row numbers of each part of a recorded split (ascending).

    Attributes:
        split: The recorded split.
        train: Row numbers in the training part.
        validation: Row numbers in the validation part (may be empty).
        test: Row numbers in the test part (may be empty).
    """

    split: DatasetSplit
    train: NDArray[np.int64]
    validation: NDArray[np.int64]
    test: NDArray[np.int64]

    def __getitem__(self, part: str) -> NDArray[np.int64]:
        if part not in PARTS:
            raise KeyError(f"no part {part!r}; parts are {', '.join(PARTS)}")
        value: NDArray[np.int64] = getattr(self, part)
        return value

    def to_dict(self) -> dict[str, Any]:
        """Return the split and the part sizes (not the indices)."""
        return {**self.split.to_dict(), "sizes": {p: len(self[p]) for p in PARTS}}


def normalise_fractions(
    train: float | None = None, validation: float | None = None, test: float | None = None
) -> dict[str, float]:
    """Return the three fractions, completing missing ones so they sum to 1.

    Nothing given: 0.7 / 0.15 / 0.15. One missing: it takes the rest. Two missing: validation
    is 0 and the other takes the rest.

    Raises:
        InvalidInput: A fraction outside [0, 1], no training part, or a sum other than 1.
    """
    given: dict[str, float | None] = {"train": train, "validation": validation, "test": test}
    for key, value in given.items():
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1
        ):
            raise InvalidInput(f"the {key} fraction must be a number in [0, 1], not {value!r}")
    if all(v is None for v in given.values()):
        given = {"train": 0.7, "validation": 0.15, "test": 0.15}
    missing = [k for k, v in given.items() if v is None]
    if len(missing) == 2:
        given["validation"] = given["validation"] or 0.0
        missing = [k for k, v in given.items() if v is None]
    if len(missing) == 1:
        rest = 1.0 - sum(float(v) for v in given.values() if v is not None)
        given[missing[0]] = round(rest, 12)
    fractions = {k: float(v or 0.0) for k, v in given.items()}
    if any(v < 0 for v in fractions.values()) or abs(sum(fractions.values()) - 1.0) > 1e-9:
        raise InvalidInput(
            f"split fractions must sum to 1, got train={fractions['train']:g}, "
            f"validation={fractions['validation']:g}, test={fractions['test']:g}"
        )
    if fractions["train"] <= 0:
        raise InvalidInput("the train fraction must be above 0")
    return fractions


def _counts(n: int, fractions: Mapping[str, float]) -> list[int]:
    """Largest-remainder rounding of ``n * fraction`` per part (sums to ``n``)."""
    raw = [n * fractions[p] for p in PARTS]
    counts = [int(r) for r in raw]
    order = sorted(range(len(PARTS)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def assign(
    n: int, fractions: Mapping[str, float], seed: int, labels: Any = None
) -> NDArray[np.int8]:
    """Return one part code per row (0 train, 1 validation, 2 test).

    Args:
        n: Row count.
        fractions: Part -> fraction (see :func:`normalise_fractions`).
        seed: Random seed.
        labels: Class label per row for a stratified split, or ``None``.

    Raises:
        InvalidInput: A class too small to be spread over the parts.
    """
    import numpy as np

    codes = np.zeros(n, dtype=np.int8)
    train_n, val_n, test_n = _counts(n, fractions)
    if labels is None:
        order = np.random.default_rng(seed).permutation(n)
        codes[order[train_n : train_n + val_n]] = 1
        codes[order[train_n + val_n :]] = 2
        return codes
    from sklearn.model_selection import train_test_split

    rows = np.arange(n)
    labels = np.asarray(labels)
    try:
        rest = rows
        if test_n:
            rest, test_rows = train_test_split(
                rows, test_size=test_n, random_state=seed, stratify=labels
            )
            codes[test_rows] = 2
        if val_n:
            _, val_rows = train_test_split(
                rest, test_size=val_n, random_state=seed, stratify=labels[rest]
            )
            codes[val_rows] = 1
    except ValueError as exc:
        raise InvalidInput(
            f"cannot stratify this split: {exc}; use fewer parts, larger fractions, or no "
            "stratify column"
        ) from None
    return codes


def encode_assignment(codes: NDArray[np.int8]) -> bytes:
    """Return the Parquet bytes of an assignment (one ``part`` int8 column)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table({"part": pa.array(codes, type=pa.int8())}), sink, compression="zstd")
    return sink.getvalue()


def decode_assignment(data: bytes) -> NDArray[np.int8]:
    """Read an assignment written by :func:`encode_assignment`."""
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    return np.asarray(table.column("part").to_numpy(), dtype=np.int8)
