"""Monitoring reports: one window's drift, quality, performance and operations, with history.

:func:`build_report` gathers the content as JSON (what the web UI charts and what
``monitor report --output report.json`` writes); :func:`render_html` turns it into one
self-contained HTML file: inline SVG plots drawn with matplotlib's Agg backend, inline CSS, no
script and no external resource, so it opens anywhere, offline, and can be mailed.

The HTML puts the verdict first (drifted columns named before anything else), then the
per-column summary table (drifted columns first), reference-vs-current plots per column,
data quality, performance against the model's test metrics, operations, time-series charts
of the monitored metrics (anomalous points marked) and the open alerts.
"""

from __future__ import annotations

import importlib
import io
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelward.entities import now_ms

if TYPE_CHECKING:
    from modelward.entities.monitoring import Alert, MonitorResult
    from modelward.monitoring.evaluate import WindowEvaluation
    from modelward.monitoring.reference import Reference
    from modelward.monitoring.spec import MonitorSpec

__all__ = ["FIXED_SERIES", "REPORT_FORMAT", "build_report", "render_html", "series_keys"]

#: Identifies the JSON layout of :func:`build_report`.
REPORT_FORMAT = "modelward.monitor-report/1"

#: Keys always charted when stored (performance metrics are added as found).
FIXED_SERIES = (
    "drift.share",
    "quality.failed_columns",
    "ops.requests",
    "ops.latency_p95",
    "ops.prediction_mean",
)


def series_keys(keys: Sequence[str]) -> list[str]:
    """The keys charted over time: the fixed ones and every performance metric, if stored."""
    present = set(keys)
    perf = sorted(
        k
        for k in present
        if k.startswith("performance.")
        and not k.endswith(".delta")
        and k not in ("performance.labelled", "performance.label_rate")
    )
    fixed = [k for k in FIXED_SERIES if k in present]
    return fixed[:2] + perf + fixed[2:]


def build_report(
    spec: MonitorSpec,
    evaluation: WindowEvaluation,
    reference: Reference,
    history: Sequence[MonitorResult],
    alerts: Sequence[Alert],
) -> dict[str, Any]:
    """The report's content as JSON-ready data.

    Args:
        spec: The monitor.
        evaluation: The reported window's evaluation.
        reference: Its reference.
        history: Stored results of the charted keys and their anomaly scores.
        alerts: Open alerts of the monitor.
    """
    flags = {
        (r.key[len("anomaly.") :], r.window_start): bool(r.details.get("anomalous"))
        for r in history
        if r.key.startswith("anomaly.")
    }
    series: dict[str, list[dict[str, Any]]] = {}
    keys = series_keys([r.key for r in history if not r.key.startswith("anomaly.")])
    for key in keys:
        series[key] = [
            {
                "start": r.window_start,
                "end": r.window_end,
                "value": _num(r.value),
                "anomalous": flags.get((key, r.window_start), False),
            }
            for r in history
            if r.key == key
        ]
    content = evaluation.to_dict()
    return {
        "format": REPORT_FORMAT,
        "generated_at": now_ms(),
        "monitor": {
            "name": spec.name,
            "deployment": spec.deployment,
            "window": spec.window.describe(),
            "description": spec.description,
        },
        "reference": reference.to_dict(),
        "window": content["window"],
        "rows": content["rows"],
        "headline": _headline(evaluation),
        "notes": content["notes"],
        "drift": content["drift"],
        "quality": content["quality"],
        "performance": content["performance"],
        "operations": content["operations"],
        "series": series,
        "alerts": [a.to_dict() for a in alerts],
    }


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _headline(evaluation: WindowEvaluation) -> list[str]:
    lines = []
    if evaluation.rows == 0:
        lines.append("The window is empty: nothing was logged in it.")
    if evaluation.drift is not None:
        lines.append(evaluation.drift.summary)
    if evaluation.quality is not None:
        lines.append(evaluation.quality.summary)
    perf = evaluation.performance
    if perf is not None:
        if perf.metrics:
            parts = []
            for name, value in perf.metrics.items():
                base = perf.baseline.get(name)
                extra = (
                    f" (test {base:.4g}, change {value - base:+.4g})" if base is not None else ""
                )
                parts.append(f"{name} {value:.4g}{extra}")
            lines.append(f"Performance on {perf.labelled} labelled rows: " + ", ".join(parts) + ".")
        else:
            lines.append(f"No performance yet: {perf.labelled} labelled rows.")
    return lines


# -- HTML ------------------------------------------------------------------------------------------
def render_html(report: Mapping[str, Any]) -> str:
    """Render the report as one self-contained HTML document."""
    import jinja2
    from markupsafe import Markup

    from modelward.monitoring._report_template import TEMPLATE

    drift = report.get("drift") or {}
    columns = sorted(
        drift.get("columns", []),
        key=lambda c: (not c.get("drifted"), c.get("role") != "feature", c.get("column")),
    )
    plots = {}
    with _Plotting() as plt, warnings.catch_warnings():
        # Layout hints from matplotlib (tick density, ...) are cosmetic, never a failure.
        warnings.simplefilter("ignore", UserWarning)
        for c in columns:
            if c.get("plot"):
                plots[c["column"]] = _distribution_svg(plt, c)
        charts = {
            key: _series_svg(plt, key, points)
            for key, points in report.get("series", {}).items()
            if any(p["value"] is not None for p in points)
        }
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["num"] = _fmt
    env.filters["when"] = _when
    template = env.from_string(TEMPLATE)
    return template.render(
        r=report,
        drift=drift,
        columns=columns,
        # The SVG comes from matplotlib, which escapes every text it draws.
        plots={k: Markup(v) for k, v in plots.items()},  # noqa: S704
        charts={k: Markup(v) for k, v in charts.items()},  # noqa: S704
    )


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return "—"
        return f"{value:.{digits}g}"
    return str(value)


def _when(ms: Any) -> str:
    from modelward.monitoring.windows import format_time

    return format_time(int(ms)) if isinstance(ms, int | float) else "—"


class _Plotting:
    """matplotlib with the Agg backend and small, text-as-text SVG output."""

    def __enter__(self) -> Any:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt

        self._ctx = matplotlib.rc_context(
            {
                "svg.fonttype": "none",
                "svg.hashsalt": "modelward",
                "font.size": 8,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        )
        self._ctx.__enter__()
        return plt

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(None, None, None)


def _svg(plt: Any, fig: Any) -> str:
    # Fixed margins, not bbox_inches="tight": that renders every figure twice (2.5x slower).
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _distribution_svg(plt: Any, column: Mapping[str, Any]) -> str:
    plot = column["plot"]
    ref, cur = plot["reference"], plot["current"]
    fig, ax = plt.subplots(figsize=(4.2, 2.3))
    if plot["kind"] == "histogram":
        edges = plot["bins"]
        if len(edges) != len(ref) + 1 or edges[0] == edges[-1]:
            edges = [edges[0] - 0.5, edges[0] + 0.5]  # both windows constant: one bin
        ax.stairs(ref, edges, fill=True, alpha=0.45, label="reference", color="#4c72b0")
        ax.stairs(cur, edges, fill=True, alpha=0.45, label="current", color="#dd8452")
        fig.subplots_adjust(left=0.14, right=0.97, bottom=0.14, top=0.86)
    else:
        labels = [str(b)[:14] for b in plot["bins"]]
        x = list(range(len(labels)))
        ax.bar([i - 0.2 for i in x], ref, width=0.4, label="reference", color="#4c72b0")
        ax.bar([i + 0.2 for i in x], cur, width=0.4, label="current", color="#dd8452")
        ax.set_xticks(x, labels, rotation=45, ha="right")
        fig.subplots_adjust(left=0.14, right=0.97, bottom=0.32, top=0.86)
    ax.set_ylabel("share")
    ax.set_title(column["column"] + (" — drifted" if column.get("drifted") else ""))
    ax.legend(frameon=False)
    return _svg(plt, fig)


def _series_svg(plt: Any, key: str, points: Sequence[Mapping[str, Any]]) -> str:
    import datetime as dt

    mdates: Any = importlib.import_module("matplotlib.dates")  # untyped

    span = points[-1]["start"] - points[0]["start"] if points else 0
    # Row windows of busy deployments can all fall within a minute: number them instead.
    by_time = span >= 120_000
    xs: list[Any] = (
        [dt.datetime.fromtimestamp(p["start"] / 1000, tz=dt.UTC) for p in points]
        if by_time
        else list(range(1, len(points) + 1))
    )
    ys = [math.nan if p["value"] is None else p["value"] for p in points]
    fig, ax = plt.subplots(figsize=(6.0, 2.0))
    ax.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.2, color="#4c72b0")
    bad = [(x, y) for x, y, p in zip(xs, ys, points, strict=True) if p.get("anomalous")]
    if bad:
        ax.scatter(
            [b[0] for b in bad], [b[1] for b in bad], color="#c44e52", zorder=3, label="anomaly"
        )
        ax.legend(frameon=False)
    if by_time:
        locator = mdates.AutoDateLocator(maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        ax.set_xlabel("window")
    ax.set_title(key)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.2, top=0.86)
    return _svg(plt, fig)
