"""Training benchmarks: tracking overhead against plain GridSearchCV, and worker scaling.

The workload is the issue's: a 5-fold cross-validated grid search over 24 candidates on the
breast-cancer data (455 training rows after a stratified 20% hold-out), run

- through plain scikit-learn ``GridSearchCV(n_jobs=N)`` (search + refit of the best), and
- through ``modelward train`` on the local executor with ``--workers N``: the same folds and
  candidates, plus a nested run per trial, the refit, test metrics and plots, the leaderboard
  and the logged model.

Each measurement runs in a fresh child process (so both pay their worker start-up), the two
tools alternate, and the median of ``--repeats`` is printed. The overhead is reported twice:
search + refit only (what GridSearchCV does), and the whole ``train`` call. Then the same search
runs with 1 and 2 local workers.

    python bench/training.py                  # random forest grid, 3 repeats
    python bench/training.py --repeats 1 --model logreg     # quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED = 7

GRIDS: dict[str, tuple[str, dict[str, list[Any]], dict[str, Any]]] = {
    # 2 x 3 x 2 x 2 = 24 candidates
    "rf": (
        "sklearn.ensemble.RandomForestClassifier",
        {
            "n_estimators": [100, 200],
            "max_depth": [3, 6, None],
            "max_features": ["sqrt", "log2"],
            "min_samples_leaf": [1, 3],
        },
        {},
    ),
    # 6 x 2 x 2 = 24 candidates (fast: a few seconds in total)
    "logreg": (
        "sklearn.linear_model.LogisticRegression",
        {"C": [0.001, 0.01, 0.1, 1.0, 10.0, 100.0], "l1_ratio": [0.0, 1.0], "tol": [1e-4, 1e-3]},
        {"solver": "liblinear", "max_iter": 5000},
    ),
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    for key in ("MODELWARD_HOME", "MODELWARD_URI", "MODELWARD_ARTIFACTS"):
        env.pop(key, None)
    return env


def _child(code: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=1800,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


GRIDSEARCH = """
import json, tempfile, time, importlib
from sklearn.model_selection import GridSearchCV, StratifiedKFold
# The same training rows as modelward's: the split it records with the dataset version.
from modelward.client import Client
from modelward.config import Settings
home = tempfile.mkdtemp(prefix="mw-bench-plain-")
settings = Settings.defaults(system_metrics=False, home=home)
client = Client(f"sqlite:///{{home}}/mw.db", artifacts=f"{{home}}/artifacts", settings=settings)
client.datasets.ingest("sklearn:breast_cancer", name="breast_cancer")
rows = client.datasets.split("breast_cancer@1", train=0.8, test=0.2, seed={seed},
                             stratify="target", name="holdout0.2-seed{seed}-by-target").train
frame = client.datasets.load("breast_cancer@1").iloc[sorted(rows)].reset_index(drop=True)
client.close()
x_train, y_train = frame.drop(columns=["target"]), frame["target"]
module, _, name = {estimator!r}.rpartition(".")
cls = getattr(importlib.import_module(module), name)
est = cls(random_state={seed}, **{fixed!r})
cv = StratifiedKFold(5, shuffle=True, random_state={seed})
started = time.perf_counter()
search = GridSearchCV(est, {grid!r}, cv=cv, n_jobs={n_jobs}, refit=True, scoring="accuracy")
search.fit(x_train, y_train)
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "best": search.best_params_, "score": search.best_score_}}))
"""

MODELWARD = """
import json, tempfile, time
from modelward.client import Client
from modelward.config import Settings
home = tempfile.mkdtemp(prefix="mw-bench-train-")
settings = Settings.defaults(system_metrics=False, home=home)
client = Client(f"sqlite:///{{home}}/mw.db", artifacts=f"{{home}}/artifacts", settings=settings)
client.datasets.ingest("sklearn:breast_cancer", name="breast_cancer")
spec = {{
    "name": "bench", "seed": {seed},
    "data": {{"dataset": "breast_cancer@1", "target": "target", "preparation": "none",
              "split": {{"test_size": 0.2}}}},
    "cv": {{"folds": 5}},
    "metric": "accuracy",
    "candidates": [{{"name": "model", "estimator": {estimator!r}, "params": {fixed!r},
                     "space": {grid!r}}}],
}}
started = time.perf_counter()
result = client.training.train(spec, workers={n_jobs})
seconds = time.perf_counter() - started
client.close()
print(json.dumps({{"seconds": seconds, "timings": result.timings, "best": result.winner.params,
                   "score": result.cv_score, "trials": result.trials}}))
"""


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2, help="GridSearchCV n_jobs = workers")
    parser.add_argument("--model", choices=sorted(GRIDS), default="rf")
    args = parser.parse_args()
    estimator, grid, fixed = GRIDS[args.model]
    n_candidates = 1
    for values in grid.values():
        n_candidates *= len(values)
    load = os.getloadavg()
    print(
        f"breast cancer, {n_candidates} candidates x 5 folds, {args.model}, "
        f"{os.cpu_count()} CPUs, load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )

    def run(tool: str, n_jobs: int) -> dict[str, Any]:
        code = GRIDSEARCH if tool == "gridsearch" else MODELWARD
        return _child(
            code.format(seed=SEED, estimator=estimator, grid=grid, fixed=fixed, n_jobs=n_jobs)
        )

    plain: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    for _ in range(args.repeats):
        plain.append(run("gridsearch", args.n_jobs))
        ours.append(run("modelward", args.n_jobs))
    same = all(p["best"] == o["best"] for p, o in zip(plain, ours, strict=True))
    gs = _median([p["seconds"] for p in plain])
    total = _median([o["seconds"] for o in ours])
    search = _median([o["timings"]["search"] + o["timings"]["refit"] for o in ours])
    phases = {
        k: _median([o["timings"].get(k, 0.0) for o in ours])
        for k in ("prepare", "search", "refit", "evaluate", "log")
    }
    print()
    print(f"{'workload':58} {'seconds':>9} {'vs GridSearchCV':>16}")
    print(f"{f'GridSearchCV(n_jobs={args.n_jobs}) search + refit':58} {gs:9.2f} {'':>16}")
    print(
        f"{f'modelward train --workers {args.n_jobs}: search + refit':58} {search:9.2f} "
        f"{(search - gs) / gs:+15.1%}"
    )
    print(
        f"{f'modelward train --workers {args.n_jobs}: whole call':58} {total:9.2f} "
        f"{(total - gs) / gs:+15.1%}"
    )
    print("  phases (median s): " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
    print(f"  same best params as GridSearchCV in every repeat: {same}")

    scaling = {
        n: _median([run("modelward", n)["seconds"] for _ in range(args.repeats)]) for n in (1, 2)
    }
    print()
    print(f"{'modelward train, local executor':58} {'seconds':>9} {'speed-up':>16}")
    for n, seconds in scaling.items():
        print(f"{f'--workers {n}':58} {seconds:9.2f} {scaling[1] / seconds:15.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
