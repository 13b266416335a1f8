"""The dataset SDK (``mw.data`` and ``mw.log_input``) end to end on SQLite."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import modelward as mw
from modelward import fluent
from modelward.errors import InvalidInput


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("MODELWARD_HOME", "MODELWARD_URI", "MODELWARD_ARTIFACTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(fluent, "_client", None)
    monkeypatch.setattr(fluent, "_experiment", None)
    monkeypatch.setattr(fluent, "_stack", [])
    client = mw.connect(
        f"sqlite:///{tmp_path / 'mw.db'}",
        artifacts=str(tmp_path / "artifacts"),
        system_metrics=False,
        capture_environment=False,
    )
    yield tmp_path
    client.close()


def test_the_documented_workflow(home: Path) -> None:
    csv = home / "sales.csv"
    csv.write_text("day,region,amount\n1,north,10.5\n2,south,\n2,south,\n3,north,7.25\n")
    wine = mw.data.ingest("sklearn:wine", name="wine").version
    sales = mw.data.ingest(csv, name="sales", expect={"columns": {"amount": {"min": 0}}}).version
    assert (wine.ref, sales.ref) == ("wine@1", "sales@1")
    clean = mw.data.prepare(
        {
            "inputs": {"sales": "sales@1"},
            "steps": ["drop_duplicates", {"fill_missing": {"columns": ["amount"], "value": 0}}],
        },
        name="sales_clean",
    ).version
    assert clean.rows == 3
    parts = mw.data.split(wine, test=0.2, seed=42, stratify="target")
    assert len(parts.test) == 36
    assert [s.name for s in mw.data.list()] == ["sales", "sales_clean", "wine"]
    assert mw.data.get("wine").id == wine.id
    assert [v.ref for v in mw.data.versions("wine")] == ["wine@1"]
    assert mw.data.query("SELECT sum(amount) AS total FROM sales_clean@1").to_pylist() == [
        {"total": 17.75}
    ]
    assert mw.data.diff("sales@1", "sales_clean@1").b.ref == "sales_clean@1"
    assert mw.data.load("wine", split=42, part="test").shape == (36, 14)
    assert mw.data.profile("wine").row_count == 178
    assert mw.data.validate("sales", {"rows": {"min": 1}}).passed
    assert mw.data.export("sales_clean", home / "out.csv").is_file()
    assert [v.ref for v in mw.data.lineage("sales_clean").walk()] == ["sales_clean@1", "sales@1"]
    assert mw.data.get_split("wine").split.name == "seed42-by-target"
    assert [s.name for s in mw.data.splits("wine")] == ["seed42-by-target"]
    with mw.start_run(experiment="exp") as run:
        recorded = mw.log_input("sales_clean", role="train")
        mw.log_input(wine, role="test", split=42)
    assert recorded.ref == "sales_clean@1"
    inputs = mw.get_client().datasets.run_inputs(run.id)
    assert [(v.ref, role) for v, role in inputs] == [("sales_clean@1", "train"), ("wine@1", "test")]


def test_log_input_needs_an_active_run(home: Path) -> None:
    mw.data.ingest("sklearn:iris", name="iris")
    with pytest.raises(InvalidInput, match="no active run"):
        mw.log_input("iris")


def test_importing_modelward_does_not_import_the_data_stack() -> None:
    code = (
        "import sys, modelward as mw; mw.data; "
        "heavy = [m for m in ('pandas', 'pyarrow', 'duckdb', 'sklearn') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
