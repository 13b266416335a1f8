"""Search strategies over one candidate's space: grid, random and Optuna TPE.

Each :class:`CandidateSearch` hands out :class:`TrialPlan` s (a candidate index, the trial's
index within the candidate, its params) and is told their scores. Grid and random plans are
fixed up front (scikit-learn's ``ParameterGrid`` and ``ParameterSampler``). TPE plans come in
batches of ``batch_size``; a batch is asked only once the previous one is told, in index
order, and every ask uses a sampler seeded from (seed, candidate, index). So the sequence of
trials depends on the spec alone, never on which executor ran them or how fast, and a resumed
search replays the told results and continues with exactly the trials it would have run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelward.errors import InvalidInput
from modelward.training.spec import Range, SearchSettings

__all__ = ["CandidateSearch", "TrialPlan", "derive_seed", "grid_size"]


def derive_seed(*parts: int) -> int:
    """A 32-bit seed derived from several integers (independent streams per part)."""
    import numpy as np

    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


@dataclass(frozen=True)
class TrialPlan:
    """One trial to run.

    Attributes:
        candidate: Index of the candidate in the spec.
        index: Index of the trial within its candidate (stable across resumes).
        params: The searched parameter values.
    """

    candidate: int
    index: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int]:
        """Sort key and identity of the trial."""
        return (self.candidate, self.index)


def _grid_values(name: str, value: list[Any] | Range, where: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if value.num is None:
        raise InvalidInput(
            f"{where}.{name}: a grid search needs a list of values or a range with num "
            "(points to take from it); add num or use strategy random or tpe"
        )
    import numpy as np

    points = (
        np.geomspace(value.low, value.high, value.num)
        if value.log
        else np.linspace(value.low, value.high, value.num)
    )
    if value.type == "int":
        return sorted({round(float(p)) for p in points})
    return [float(p) for p in points]


def grid_size(space: Mapping[str, list[Any] | Range], where: str = "space") -> int:
    """Number of combinations a grid search of ``space`` runs."""
    return math.prod(len(_grid_values(k, v, where)) for k, v in space.items())


class _IntLogUniform:
    """Integers drawn log-uniformly (``ParameterSampler`` needs an ``rvs`` method)."""

    def __init__(self, low: float, high: float) -> None:
        from scipy.stats import loguniform

        self._dist = loguniform(low, high + 1)
        self._high = int(high)

    def rvs(self, random_state: Any = None) -> int:
        return min(int(self._dist.rvs(random_state=random_state)), self._high)


def _distribution(value: list[Any] | Range) -> Any:
    if isinstance(value, list):
        return value
    from scipy import stats

    if value.type == "int":
        if value.log:
            return _IntLogUniform(value.low, value.high)
        return stats.randint(int(value.low), int(value.high) + 1)
    if value.log:
        return stats.loguniform(value.low, value.high)
    return stats.uniform(value.low, value.high - value.low)


def _python(value: Any) -> Any:
    """NumPy scalars become plain Python values (for JSON params and estimators)."""
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, list | tuple) else value


class CandidateSearch:
    """The trials of one candidate.

    Args:
        candidate: The candidate's index in the spec.
        space: Its search space.
        settings: Strategy, trials and batch size.
        seed: The spec's seed.
        maximize: Whether a higher score is better (for TPE).
        where: The candidate's field path, for messages.
    """

    def __init__(
        self,
        candidate: int,
        space: Mapping[str, list[Any] | Range],
        settings: SearchSettings,
        *,
        seed: int,
        maximize: bool,
        where: str = "candidates",
    ) -> None:
        self.candidate = candidate
        self.space = dict(space)
        self.settings = settings
        self.seed = derive_seed(seed, candidate)
        self.maximize = maximize
        self._handed: set[int] = set()
        self._told: dict[int, float | None] = {}
        self._plans: list[TrialPlan] | None = None
        self._study: Any = None
        self._pending: dict[int, Any] = {}  # TPE: index -> optuna trial asked, not yet told
        if settings.strategy == "grid":
            self._plans = self._grid(where)
        elif settings.strategy == "random":
            self._plans = self._random()

    # -- fixed plans ------------------------------------------------------------------------
    def _grid(self, where: str) -> list[TrialPlan]:
        from sklearn.model_selection import ParameterGrid

        grid = {k: _grid_values(k, v, where) for k, v in self.space.items()}
        return [
            TrialPlan(self.candidate, i, {k: _python(v) for k, v in params.items()})
            for i, params in enumerate(ParameterGrid(grid))
        ]

    def _random(self) -> list[TrialPlan]:
        from sklearn.model_selection import ParameterSampler

        if not self.space:
            return [TrialPlan(self.candidate, 0, {})]
        n = self.settings.trials
        if all(isinstance(v, list) for v in self.space.values()):
            # ParameterSampler samples lists without replacement and warns when asked for more.
            n = min(n, grid_size(self.space))
        dists = {k: _distribution(v) for k, v in self.space.items()}
        sampler = ParameterSampler(dists, n_iter=n, random_state=self.seed)
        return [
            TrialPlan(self.candidate, i, {k: _python(v) for k, v in sorted(params.items())})
            for i, params in enumerate(sampler)
        ]

    # -- TPE ----------------------------------------------------------------------------------
    def _optuna_space(self) -> dict[str, Any]:
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        out: dict[str, Any] = {}
        for name, value in self.space.items():
            if isinstance(value, list):
                # Choices are indices: Optuna accepts only scalars, the space may hold lists.
                out[name] = CategoricalDistribution(tuple(range(len(value))))
            elif value.type == "int":
                out[name] = IntDistribution(int(value.low), int(value.high), log=value.log)
            else:
                out[name] = FloatDistribution(value.low, value.high, log=value.log)
        return out

    def _decode(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in sorted(raw.items()):
            space = self.space[name]
            out[name] = space[int(value)] if isinstance(space, list) else _python(value)
        return out

    def _encode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, space in self.space.items():
            value = params[name]
            out[name] = space.index(value) if isinstance(space, list) else value
        return out

    def _ensure_study(self) -> Any:
        if self._study is None:
            import optuna

            # Optuna reports every trial on its own stderr handler; modelward logs them itself.
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            self._study = optuna.create_study(direction="maximize" if self.maximize else "minimize")
        return self._study

    def _ask_tpe(self, index: int) -> TrialPlan:
        import optuna

        study = self._ensure_study()
        study.sampler = optuna.samplers.TPESampler(seed=derive_seed(self.seed, index))
        trial = study.ask(self._optuna_space())
        self._pending[index] = trial
        return TrialPlan(self.candidate, index, self._decode(trial.params))

    # -- protocol -----------------------------------------------------------------------------
    @property
    def total(self) -> int | None:
        """How many trials this search will run (known up front except for TPE)."""
        if self._plans is not None:
            return len(self._plans)
        return self.settings.trials if self.space else 1

    def ready(self) -> list[TrialPlan]:
        """Plans that may start now and were not handed out before."""
        if self._plans is not None:
            out = [p for p in self._plans if p.index not in self._handed]
        else:
            out = self._next_tpe_batch()
        self._handed.update(p.index for p in out)
        return out

    def _next_tpe_batch(self) -> list[TrialPlan]:
        if any(i not in self._told for i in self._handed):
            return []  # the previous batch is still running
        limit = self.total or 0
        out: list[TrialPlan] = []
        index = 0
        while len(out) < self.settings.batch_size:
            while index in self._handed or index in self._told:
                index += 1
            if index >= limit:
                break
            if not self.space:
                out.append(TrialPlan(self.candidate, index, {}))
            else:
                out.append(self._ask_tpe(index))
            index += 1
        return out

    def tell(self, index: int, score: float | None) -> None:
        """Record a finished trial's score (``None`` or NaN: it failed)."""
        if score is not None and math.isnan(score):
            score = None
        self._told[index] = score
        trial = self._pending.pop(index, None)
        if trial is not None:
            import optuna

            if score is None:
                self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                self._study.tell(trial, score)

    def restore(self, done: Sequence[tuple[int, Mapping[str, Any], float | None]]) -> None:
        """Resume: mark trials (index, params, score) as already run, replaying TPE history."""
        for index, params, score in sorted(done, key=lambda d: d[0]):
            self._handed.add(index)
            self._told[index] = None if score is None or math.isnan(score) else score
            if self._plans is None and self.space:
                import optuna

                study = self._ensure_study()
                dists = self._optuna_space()
                try:
                    encoded = self._encode(params)
                except (KeyError, ValueError):
                    continue  # the space changed since: this result says nothing about it
                state = (
                    optuna.trial.TrialState.FAIL
                    if self._told[index] is None
                    else optuna.trial.TrialState.COMPLETE
                )
                study.add_trial(
                    optuna.trial.create_trial(
                        params=encoded,
                        distributions=dists,
                        value=self._told[index],
                        state=state,
                    )
                )

    @property
    def exhausted(self) -> bool:
        """Whether every trial was handed out and told."""
        total = self.total or 0
        return len(self._told) >= total and all(i in self._told for i in self._handed)

    @property
    def outstanding(self) -> int:
        """Trials handed out and not yet told."""
        return sum(1 for i in self._handed if i not in self._told)
