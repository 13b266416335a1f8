"""Eight processes logging into one SQLite store at once lose no point and never fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.tracking._util import child_env

WORKERS = 8
POINTS = 20_000

CHILD = """
import sys
import modelward as mw

uri, artifacts, worker = sys.argv[1], sys.argv[2], sys.argv[3]
mw.connect(uri, artifacts=artifacts, system_metrics=False, capture_environment=False,
           metric_flush_interval=0.05)
with mw.start_run(experiment="parallel", name="w" + worker) as run:
    for step in range({points}):
        mw.log_metric("m", float(step), step=step)
        if step % 5000 == 0:
            mw.log_param("p" + str(step), worker)
            mw.set_tag("t", str(step))
print(run.id)
"""


@pytest.mark.slow
def test_eight_writers_lose_nothing(tmp_path: Path) -> None:
    # A store nobody has opened yet: the workers also race to create the schema.
    db = tmp_path / "shared" / "mw.db"
    uri = f"sqlite:///{db}"
    script = tmp_path / "worker.py"
    script.write_text(CHILD.format(points=POINTS))
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), uri, str(tmp_path / "artifacts"), str(i)],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WORKERS)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        # Any retry or lock error would have been logged to stderr.
        assert (proc.returncode, err) == (0, ""), err
        assert len(out.strip()) == 32
    engine = sa.create_engine(uri)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT r.name, COUNT(*), COUNT(DISTINCT m.step), MIN(m.step), MAX(m.step), r.status "
            "FROM metrics m JOIN runs r ON r.id = m.run_id GROUP BY r.id ORDER BY r.name"
        ).all()
        params = conn.exec_driver_sql("SELECT COUNT(*) FROM params").scalar()
    engine.dispose()
    assert rows == [(f"w{i}", POINTS, POINTS, 0, POINTS - 1, "FINISHED") for i in range(WORKERS)]
    assert sum(r[1] for r in rows) == WORKERS * POINTS
    assert params == WORKERS * 4
