"""Anomalies in monitored series (latency, error rate, volume, prediction mean, drift scores).

Two detectors with the scikit-learn contract (``fit(history)`` then ``score(series)``) and
defaults that assume no seasonality:

- :class:`RobustZScoreDetector`: how many robust standard deviations (``1.4826 * MAD``) a point
  lies from the median of the history, or of a trailing window of ``window`` points. Outliers
  in the history barely move the median and MAD, so a spike does not hide the next one.
  Default threshold 3.5 (Iglewicz and Hoaglin's modified z-score rule): about 0.5 false alarms
  per 1,000 points of Gaussian noise against a fixed history.
- :class:`EWMADetector`: how many exponentially weighted standard deviations a point lies from
  the exponentially weighted mean of the points before it; adapts to slow level changes. An
  anomalous point enters the running mean and variance clipped to the threshold, so one spike
  does not widen the band for the points after it. Defaults ``alpha=0.05``, threshold 4.

``score`` never changes the fitted detector. Missing points (NaN) get a NaN score and are never
anomalous. Scores are signed (positive: above expectation); ``direction`` chooses which side
counts (``"up"`` for latency, ``"down"`` for request volume, ``"both"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelward.errors import InvalidInput
from modelward.monitoring._estimator import Estimator

__all__ = ["DIRECTIONS", "AnomalyResult", "EWMADetector", "RobustZScoreDetector"]

#: Which deviations count as anomalies.
DIRECTIONS = ("both", "up", "down")
#: Scale of a normal distribution's MAD: 1 / Phi^-1(3/4).
_MAD_TO_SD = 1.482602218505602
#: Scale of a normal distribution's mean absolute deviation: sqrt(pi / 2).
_MEANAD_TO_SD = 1.2533141373155001


@dataclass(frozen=True, slots=True, eq=False)
class AnomalyResult:
    """Scores and flags for each point of a scored series.

    Attributes:
        scores: Signed score per point (NaN where the point is missing or no baseline exists
            yet).
        anomalous: Whether each point is an anomaly.
        threshold: Score magnitude at which a point is flagged.
        direction: ``"both"``, ``"up"`` or ``"down"``.
    """

    scores: NDArray[np.float64]
    anomalous: NDArray[np.bool_]
    threshold: float
    direction: str

    @property
    def indices(self) -> tuple[int, ...]:
        """Positions of the anomalous points."""
        return tuple(int(i) for i in np.flatnonzero(self.anomalous))

    @property
    def n_anomalies(self) -> int:
        """Number of anomalous points."""
        return int(np.count_nonzero(self.anomalous))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (NaN scores become ``None``)."""
        return {
            "threshold": self.threshold,
            "direction": self.direction,
            "n_anomalies": self.n_anomalies,
            "indices": list(self.indices),
            "scores": [float(s) if math.isfinite(s) else None for s in self.scores.tolist()],
        }


def _as_series(values: ArrayLike, what: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} must be a sequence of numbers: {exc}") from exc
    if arr.ndim != 1:
        raise InvalidInput(f"{what} must be one-dimensional, got shape {arr.shape}")
    return arr


def _flag(scores: NDArray[np.float64], threshold: float, direction: str) -> NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        if direction == "up":
            return np.asarray(scores >= threshold)
        if direction == "down":
            return np.asarray(scores <= -threshold)
        return np.asarray(np.abs(scores) >= threshold)


def _check_common(threshold: float, direction: str) -> None:
    if not threshold > 0:
        raise InvalidInput(f"threshold must be positive, got {threshold}")
    if direction not in DIRECTIONS:
        raise InvalidInput(
            f"direction {direction!r} is unknown; use one of {', '.join(DIRECTIONS)}"
        )


def _robust_scale(values: NDArray[np.float64], center: float, min_scale: float | None) -> float:
    """Return 1.4826 * MAD, falling back to the mean absolute deviation, then to a floor.

    The fallback applies when over half the points are equal (MAD is 0); the floor when all
    are, so any change scores very high but never infinite.
    """
    dev = np.abs(values - center)
    scale = _MAD_TO_SD * float(np.median(dev))
    if scale == 0.0:
        scale = _MEANAD_TO_SD * float(np.mean(dev))
    floor = min_scale if min_scale is not None else 1e-9 * max(1.0, abs(center))
    return max(scale, floor)


class RobustZScoreDetector(Estimator):
    """Robust z-score (median and MAD) of each point against a baseline.

    Args:
        threshold: Flag points at least this many robust standard deviations away.
        window: ``None``: the baseline is the whole fitted history (a fixed reference). An
            integer: the baseline of each point is the ``window`` points before it (the end of
            the fitted history, then the scored series itself), so the baseline follows level
            changes.
        direction: ``"both"``, ``"up"`` or ``"down"``.
        min_periods: With ``window``, fewest baseline points needed to score (else NaN).
        min_scale: Floor of the scale; default ``1e-9 * max(1, |median|)``.
    """

    def __init__(
        self,
        *,
        threshold: float = 3.5,
        window: int | None = None,
        direction: str = "both",
        min_periods: int = 5,
        min_scale: float | None = None,
    ) -> None:
        self.threshold = threshold
        self.window = window
        self.direction = direction
        self.min_periods = min_periods
        self.min_scale = min_scale

    def fit(self, history: ArrayLike) -> RobustZScoreDetector:
        """Learn the baseline from ``history`` (NaN points are ignored).

        Returns:
            ``self``.
        """
        _check_common(self.threshold, self.direction)
        if self.window is not None and self.window < 2:
            raise InvalidInput(f"window must be at least 2 points, got {self.window}")
        values = _as_series(history, "history")
        finite = values[np.isfinite(values)]
        if finite.size == 0 and self.window is None:
            raise InvalidInput("history has no finite value to learn a baseline from")
        if finite.size:
            self.median_: float = float(np.median(finite))
            self.scale_: float = _robust_scale(finite, self.median_, self.min_scale)
        else:
            self.median_, self.scale_ = math.nan, math.nan
        tail = finite[-self.window :] if self.window is not None else finite[:0]
        self.history_: NDArray[np.float64] = tail.copy()
        return self

    def score(self, series: ArrayLike) -> AnomalyResult:
        """Score each point of ``series`` against the baseline."""
        self._check_fitted("history_")
        x = _as_series(series, "series")
        scores = (x - self.median_) / self.scale_ if self.window is None else self._rolling(x)
        return AnomalyResult(
            scores=scores,
            anomalous=_flag(scores, self.threshold, self.direction),
            threshold=float(self.threshold),
            direction=self.direction,
        )

    def _rolling(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        assert self.window is not None
        w = self.window
        scores = np.full(x.size, np.nan)
        # The baseline of point t is the w values before it in history + series (NaN skipped
        # by taking the last w finite values).
        past = list(self.history_)
        for t, value in enumerate(x.tolist()):
            if len(past) >= self.min_periods and math.isfinite(value):
                base = np.asarray(past[-w:])
                center = float(np.median(base))
                scores[t] = (value - center) / _robust_scale(base, center, self.min_scale)
            if math.isfinite(value):
                past.append(value)
                if len(past) > 2 * w:
                    del past[:-w]
        return scores


class EWMADetector(Estimator):
    """Deviation of each point from the exponentially weighted mean of the points before it.

    Args:
        alpha: Weight of the newest point in the running mean and variance (0 < alpha <= 1);
            0.05 remembers roughly the last 40 points.
        threshold: Flag points at least this many running standard deviations away. With the
            defaults, pure Gaussian noise gives about 0.3 false alarms per 1,000 points (the
            running variance is itself noisy, so 3.5 would give about 1.4).
        direction: ``"both"``, ``"up"`` or ``"down"``.
        warmup: Points needed before scoring starts (scores are NaN until then).
        min_scale: Floor of the running standard deviation; default ``1e-9 * max(1, |mean|)``.
    """

    def __init__(
        self,
        *,
        alpha: float = 0.05,
        threshold: float = 4.0,
        direction: str = "both",
        warmup: int = 10,
        min_scale: float | None = None,
    ) -> None:
        self.alpha = alpha
        self.threshold = threshold
        self.direction = direction
        self.warmup = warmup
        self.min_scale = min_scale

    def fit(self, history: ArrayLike = ()) -> EWMADetector:
        """Run the running mean and variance through ``history`` (may be empty).

        Returns:
            ``self``.
        """
        _check_common(self.threshold, self.direction)
        if not 0.0 < self.alpha <= 1.0:
            raise InvalidInput(f"alpha must lie in (0, 1], got {self.alpha}")
        if self.warmup < 2:
            raise InvalidInput(f"warmup must be at least 2 points, got {self.warmup}")
        values = _as_series(history, "history")
        state = (0, 0.0, 0.0)
        _, state = self._run(values, state)
        self.n_seen_: int = state[0]
        self.mean_: float = state[1]
        self.var_: float = state[2]
        return self

    def score(self, series: ArrayLike) -> AnomalyResult:
        """Score ``series`` as the continuation of the fitted history."""
        self._check_fitted("mean_")
        x = _as_series(series, "series")
        scores, _ = self._run(x, (self.n_seen_, self.mean_, self.var_))
        return AnomalyResult(
            scores=scores,
            anomalous=_flag(scores, self.threshold, self.direction),
            threshold=float(self.threshold),
            direction=self.direction,
        )

    def _run(
        self, x: NDArray[np.float64], state: tuple[int, float, float]
    ) -> tuple[NDArray[np.float64], tuple[int, float, float]]:
        n, mean, var = state
        a, limit = float(self.alpha), float(self.threshold)
        scores = np.full(x.size, np.nan)
        for t, value in enumerate(x.tolist()):
            if not math.isfinite(value):
                continue
            if n == 0:
                n, mean, var = 1, value, 0.0
                continue
            floor = self.min_scale if self.min_scale is not None else 1e-9 * max(1.0, abs(mean))
            sd = max(math.sqrt(var), floor)
            z = (value - mean) / sd
            if n >= self.warmup:
                scores[t] = z
                # Let an anomaly into the running statistics only up to the band's edge.
                if abs(z) > limit:
                    value = mean + math.copysign(limit * sd, z)
            if n < self.warmup:
                # Plain running mean and variance until the weights take over, so the first
                # points do not get an almost zero variance.
                n += 1
                diff = value - mean
                mean += diff / n
                var += (diff * (value - mean) - var) / n
            else:
                n += 1
                diff = value - mean
                incr = a * diff
                mean += incr
                var = (1.0 - a) * (var + diff * incr)
        return scores, (n, mean, var)
