"""Recipes: every row step, prepared versions with lineage, and the errors a recipe can make."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from modelward.datasets import DatasetService, Recipe
from modelward.errors import InvalidInput

RAW = pd.DataFrame(
    {
        "id": [1, 2, 2, 3, 4, 5, 6],
        "x": [1.0, None, None, 3.0, 100.0, 5.0, None],
        "y": [10.0, 20.0, 20.0, None, 40.0, 50.0, 60.0],
        "c": ["a", "b", "b", None, "a", "a", "b"],
    }
)


@pytest.fixture
def raw(service: DatasetService) -> str:
    return service.ingest(RAW, name="raw").version.ref


def _prepare(service: DatasetService, raw: str, *steps: object) -> pd.DataFrame:
    result = service.prepare({"inputs": {"raw": raw}, "steps": list(steps)}, name="out")
    return service.load(result.version)


def test_drop_duplicates_and_missing(service: DatasetService, raw: str) -> None:
    assert _prepare(service, raw, "drop_duplicates")["id"].tolist() == [1, 2, 3, 4, 5, 6]
    kept = _prepare(service, raw, {"drop_duplicates": {"subset": ["c"], "keep": "last"}})
    assert kept["id"].tolist() == [3, 5, 6]
    none = _prepare(service, raw, {"drop_duplicates": {"subset": "id", "keep": "none"}})
    assert none["id"].tolist() == [1, 3, 4, 5, 6]
    assert _prepare(service, raw, "drop_missing")["id"].tolist() == [1, 4, 5]
    per_column = _prepare(service, raw, {"drop_missing": {"columns": ["y"]}})
    assert per_column["id"].tolist() == [1, 2, 2, 4, 5, 6]


@pytest.mark.parametrize(
    ("method", "value", "expected"),
    [
        ("forward", None, [1.0, 1.0, 1.0, 3.0, 100.0, 5.0, 5.0]),
        ("backward", None, [1.0, 3.0, 3.0, 3.0, 100.0, 5.0, None]),
        ("constant", -1, [1.0, -1.0, -1.0, 3.0, 100.0, 5.0, -1.0]),
        ("mean", None, [1.0, 27.25, 27.25, 3.0, 100.0, 5.0, 27.25]),
        ("median", None, [1.0, 4.0, 4.0, 3.0, 100.0, 5.0, 4.0]),
    ],
)
def test_fill_missing_methods(
    service: DatasetService, raw: str, method: str, value: object, expected: list[float | None]
) -> None:
    step = {"fill_missing": {"columns": ["x"], "method": method, "value": value}}
    got = _prepare(service, raw, step)["x"].tolist()
    assert [None if isinstance(v, float) and math.isnan(v) else v for v in got] == expected


def test_fill_missing_mode_on_text(service: DatasetService, raw: str) -> None:
    out = _prepare(service, raw, {"fill_missing": {"columns": ["c"], "method": "mode"}})
    assert out["c"].tolist() == ["a", "b", "b", "a", "a", "a", "b"]  # a and b tie: a sorts first


def test_outliers_removed_or_clipped(service: DatasetService, raw: str) -> None:
    removed = _prepare(service, raw, {"outliers": {"columns": ["x"], "method": "iqr"}})
    assert 100.0 not in removed["x"].tolist()
    assert len(removed) == 6  # rows with a missing x stay
    clipped = _prepare(
        service,
        raw,
        {"outliers": {"columns": ["y"], "method": "zscore", "threshold": 1.0, "action": "clip"}},
    )
    y = pd.Series(RAW["y"])
    assert clipped["y"].max() == pytest.approx(y.mean() + y.std(ddof=0))


def test_filter_select_rename_derive(service: DatasetService, raw: str) -> None:
    out = _prepare(
        service,
        raw,
        {"filter": "y >= 20 AND c = 'b'"},
        {"derive": {"z": "y / 10 + id", "flag": "x IS NULL"}},
        {"rename": {"c": "color"}},
        {"select": ["id", "color", "z", "flag"]},
    )
    assert out.columns.tolist() == ["id", "color", "z", "flag"]
    assert out["id"].tolist() == [2, 2, 6]
    assert out["z"].tolist() == [4.0, 4.0, 12.0]
    assert out["flag"].tolist() == [True, True, True]


def test_join_two_inputs(service: DatasetService, raw: str) -> None:
    regions = pd.DataFrame({"id": [1, 2, 3], "region": ["north", "south", "east"], "y": [0, 0, 0]})
    other = service.ingest(regions, name="regions").version.ref
    result = service.prepare(
        {
            "inputs": {"raw": raw, "regions": other},
            "steps": ["drop_duplicates", {"join": {"with": "regions", "on": "id", "how": "left"}}],
        },
        name="joined",
    )
    out = service.load(result.version)
    assert out["region"].tolist()[:3] == ["north", "south", "east"]
    assert out["region"].isna().tolist()[3:] == [True, True, True]
    assert "y_regions" in out.columns
    assert result.version.parents == ("raw@1", "regions@1")


def test_prepared_version_records_lineage_and_resolved_recipe(
    service: DatasetService, raw: str, tmp_path: Path
) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "name: clean\ninputs:\n  raw: raw@latest\nsteps:\n  - drop_missing\n"
        "features:\n  target: id\n  steps:\n    - scale: {columns: [x, y]}\n"
    )
    result = service.prepare(recipe)
    version = result.version
    assert version.ref == "clean@1"
    assert version.parents == ("raw@1",)
    assert version.recipe is not None
    assert version.recipe["inputs"] == {"raw": "raw@1"}  # @latest resolved
    assert dict(version.source) == {"kind": "prepared", "inputs": ["raw@1"]}
    again = service.prepare(recipe)
    assert (again.version.id, again.created) == (version.id, False)
    tree = service.lineage("clean")
    assert [v.ref for v in tree.walk()] == ["clean@1", "raw@1"]
    assert [v.ref for v in tree.sources()] == ["raw@1"]
    assert tree.to_dict()["parents"][0]["ref"] == "raw@1"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [{"select": ["nope"]}],
            r"step 1 \(select\): unknown column\(s\) 'nope'; the data has: id",
        ),
        ([{"filter": "nope > 1"}], r"step 1 \(filter\): the expression 'nope > 1' failed: Binder"),
        ([{"filter": "y + 1"}], r"step 1 \(filter\): the filter 'y \+ 1' gives float64 values"),
        ([{"fill_missing": {"columns": ["c"], "method": "mean"}}], "mean needs numeric columns"),
        ([{"outliers": {"columns": ["c"]}}], "outliers needs numeric columns; not numeric: c"),
        ([{"derive": {"z": "read_csv('/etc/passwd')"}}], "step 1 \\(derive\\): the expression"),
        (["drop_missing", {"rename": {"x": "y"}}], "two columns the same name"),
    ],
)
def test_step_errors_name_the_step(
    service: DatasetService, raw: str, steps: list[object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        service.prepare({"inputs": {"raw": raw}, "steps": steps}, name="bad")
    assert [s.name for s in service.list()] == ["raw"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"steps": []}, "the recipe needs inputs"),
        ({"inputs": {"a": "a@1"}, "steps": ["shuffle"]}, "unknown step 'shuffle'"),
        (
            {"inputs": {"a": "a@1"}, "steps": [{"scale": {"columns": ["x"]}}]},
            "scale learns from data, so it belongs under features.steps",
        ),
        (
            {"inputs": {"a": "a@1"}, "steps": [{"join": {"with": "b", "on": "id"}}]},
            r"step 1 \(join\) names input 'b', which the recipe does not list",
        ),
        (
            {"inputs": {"a": "a@1"}, "steps": [{"drop_missing": {"cols": ["x"]}}]},
            r"step 1 \(drop_missing\) has unknown option\(s\) cols",
        ),
        (
            {"inputs": {"a": "a@1"}, "steps": [{"fill_missing": {"method": "constant"}}]},
            r"step 1 \(fill_missing\): fill_missing with method constant needs a value",
        ),
        ({"inputs": {"a": "a@1"}, "from": "b"}, "'from: b' names no input"),
        ({"inputs": {"a": "a@1"}, "output": "x"}, r"unknown recipe key\(s\) output"),
    ],
)
def test_malformed_recipes_are_refused(document: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Recipe.from_dict(document)


def test_unknown_input_version_and_missing_name(service: DatasetService, raw: str) -> None:
    from modelward.errors import NotFound

    with pytest.raises(NotFound, match="dataset 'raw' has no version 9"):
        service.prepare({"inputs": {"raw": "raw@9"}}, name="x")
    with pytest.raises(InvalidInput, match="name the prepared dataset"):
        service.prepare({"inputs": {"raw": raw}})


def test_recipe_round_trips_through_its_dict_form() -> None:
    document = {
        "name": "clean",
        "inputs": {"raw": "raw@1", "other": "other@2"},
        "from": "raw",
        "steps": [
            {"drop_duplicates": {"subset": ["id"], "keep": "first"}},
            {"fill_missing": {"method": "constant", "columns": ["x"], "value": 0}},
            {"outliers": {"columns": None, "method": "zscore", "action": "clip", "threshold": 2.5}},
            {"filter": "x > 0"},
            {"join": {"with": "other", "on": ["id"], "how": "left"}},
        ],
        "features": {
            "target": "y",
            "remainder": "drop",
            "steps": [{"impute": {"columns": ["x"], "strategy": "median"}}],
        },
    }
    recipe = Recipe.from_dict(document)
    assert Recipe.from_dict(recipe.to_dict()) == recipe
