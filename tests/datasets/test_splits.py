"""Splits: deterministic by seed, stratified on request, recorded with the version."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelward.datasets import DatasetService
from modelward.datasets.splits import normalise_fractions
from modelward.errors import Conflict, InvalidInput, NotFound

FRAME = pd.DataFrame(
    {"x": np.arange(1000), "label": np.repeat(["a", "b", "c", "d"], [700, 200, 50, 50])}
)


@pytest.fixture
def ref(service: DatasetService) -> str:
    return service.ingest(FRAME, name="d").version.ref


def test_parts_cover_every_row_once_in_the_asked_proportions(
    service: DatasetService, ref: str
) -> None:
    parts = service.split(ref, train=0.6, validation=0.25, test=0.15, seed=7)
    sizes = (len(parts.train), len(parts.validation), len(parts.test))
    assert sizes == (600, 250, 150)
    everything = np.concatenate([parts.train, parts.validation, parts.test])
    assert sorted(everything.tolist()) == list(range(1000))
    assert parts.split.name == "seed7"
    assert dict(parts.split.counts) == {"train": 600, "validation": 250, "test": 150}


def test_same_seed_same_rows_other_seed_other_rows(service: DatasetService, ref: str) -> None:
    first = service.split(ref, test=0.2, seed=1)
    again = service.split(ref, test=0.2, seed=1)
    other = service.split(ref, test=0.2, seed=2)
    assert np.array_equal(first.test, again.test)
    assert again.split.id == first.split.id
    assert not np.array_equal(first.test, other.test)
    recorded = service.get_split(ref, "seed1")
    assert np.array_equal(recorded.train, first.train)
    assert np.array_equal(service.get_split(ref, 2).test, other.test)


def test_stratified_parts_keep_class_proportions(service: DatasetService, ref: str) -> None:
    parts = service.split(ref, train=0.8, test=0.2, seed=3, stratify="label")
    labels = FRAME["label"].to_numpy()
    test_counts = pd.Series(labels[parts.test]).value_counts().to_dict()
    assert test_counts == {"a": 140, "b": 40, "c": 10, "d": 10}
    assert parts.split.name == "seed3-by-label"
    assert parts.split.stratify == "label"
    train_part = service.load(ref, split="seed3-by-label", part="train")
    assert len(train_part) == 800
    assert train_part["x"].tolist() == sorted(train_part["x"].tolist())


def test_split_errors(service: DatasetService, ref: str) -> None:
    service.split(ref, test=0.2, seed=1)
    with pytest.raises(Conflict, match="split 'seed1' of this version already exists with seed 1"):
        service.split(ref, test=0.3, seed=1)
    with pytest.raises(NotFound, match=r"d@1 has 0 splits with seed 5 \(seed1\)"):
        service.get_split(ref, 5)
    with pytest.raises(NotFound, match="no split 'other' of this dataset version"):
        service.get_split(ref, "other")
    service.split(ref, test=0.3, seed=2)
    with pytest.raises(NotFound, match=r"d@1 has 2 splits \(seed1, seed2\); name the one you want"):
        service.get_split(ref)
    with pytest.raises(InvalidInput, match="cannot stratify this split"):
        service.split(ref, test=0.001, seed=1, stratify="label", name="tiny")
    with pytest.raises(InvalidInput, match=r"d@1 has no column\(s\) nope"):
        service.split(ref, seed=1, stratify="nope")
    with pytest.raises(InvalidInput, match="seed must be a non-negative integer"):
        service.split(ref, seed=-1)
    with pytest.raises(InvalidInput, match="part must be one of train, validation, test"):
        service.load(ref, split="seed1", part="holdout")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ((None, None, None), {"train": 0.7, "validation": 0.15, "test": 0.15}),
        ((0.8, None, None), {"train": 0.8, "validation": 0.0, "test": 0.2}),
        ((None, None, 0.25), {"train": 0.75, "validation": 0.0, "test": 0.25}),
        ((0.6, 0.2, None), {"train": 0.6, "validation": 0.2, "test": 0.2}),
    ],
)
def test_missing_fractions_take_the_rest(
    given: tuple[float | None, float | None, float | None], expected: dict[str, float]
) -> None:
    assert normalise_fractions(*given) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ((0.5, 0.5, 0.5), "split fractions must sum to 1"),
        ((1.5, None, None), r"the train fraction must be a number in \[0, 1\]"),
        ((0.0, None, 1.0), "the train fraction must be above 0"),
    ],
)
def test_bad_fractions(given: tuple[float | None, ...], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        normalise_fractions(*given)
