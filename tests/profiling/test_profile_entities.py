"""Profile entities: JSON round trip, lookups, malformed documents."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from modelward.errors import InvalidInput, NotFound
from modelward.profiling import PROFILE_FORMAT, DatasetProfile, profile_table


def _profile() -> DatasetProfile:
    rng = np.random.default_rng(0)
    n = 6_000
    return profile_table(
        pa.table(
            {
                "x": rng.normal(size=n),
                "i": rng.integers(0, 9, n),
                "c": pa.array(rng.choice(["a", "b", "c"], n)),
                "t": pa.array(np.arange(n).astype("datetime64[ms]")),
                "empty": pa.array([None] * n, type=pa.float64()),
            }
        ),
        sample_size=1024,
    )


def test_json_round_trip_is_lossless() -> None:
    prof = _profile()
    text = json.dumps(prof.to_dict())
    back = DatasetProfile.from_dict(json.loads(text))
    assert back == prof
    assert back.to_dict() == prof.to_dict()
    assert back.column("x").numeric.sample.flags.writeable is False  # type: ignore[union-attr]


def test_to_dict_is_plain_json_with_format_tag() -> None:
    data = _profile().to_dict()
    assert data["format"] == PROFILE_FORMAT
    assert data["sample_size"] == 1024
    x = data["columns"][0]
    assert x["kind"] == "numeric"
    assert set(x["numeric"]["quantiles"]) == {"0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99"}
    assert x["numeric"]["sample"]["size"] == 1024
    # Strict JSON (no NaN/Infinity tokens).
    json.dumps(data, allow_nan=False)


def test_column_lookup() -> None:
    prof = _profile()
    assert prof.names == ("x", "i", "c", "t", "empty")
    assert "c" in prof
    assert len(prof) == 5
    assert prof.column("empty").null_rate == 1.0
    with pytest.raises(NotFound, match=r"no column 'nope'; its columns are: x, i, c, t, empty"):
        prof.column("nope")


def test_quantile_helper() -> None:
    s = _profile().column("x").numeric
    assert s is not None
    assert s.quantile(0.5) == pytest.approx(dict(s.quantiles)[0.5])
    with pytest.raises(InvalidInput, match=r"a quantile must lie in \[0, 1\], got 2"):
        s.quantile(2)


def test_malformed_documents_are_rejected_with_reasons() -> None:
    good = _profile().to_dict()
    with pytest.raises(InvalidInput, match="unknown profile format 'other/9'"):
        DatasetProfile.from_dict({**good, "format": "other/9"})
    with pytest.raises(InvalidInput, match="profile is missing the field 'columns'"):
        DatasetProfile.from_dict({k: v for k, v in good.items() if k != "columns"})
    bad_kind = json.loads(json.dumps(good))
    bad_kind["columns"][0]["kind"] = "weird"
    with pytest.raises(InvalidInput, match="unknown column kind 'weird'"):
        DatasetProfile.from_dict(bad_kind)
    bad_sample = json.loads(json.dumps(good))
    bad_sample["columns"][0]["numeric"]["sample"]["data"] = "not base64!"
    with pytest.raises(InvalidInput, match="profile sample is not valid base64 float64 data"):
        DatasetProfile.from_dict(bad_sample)
    with pytest.raises(InvalidInput, match="a profile must be a JSON object, not list"):
        DatasetProfile.from_dict([])  # type: ignore[arg-type]
