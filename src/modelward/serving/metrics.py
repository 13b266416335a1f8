"""Prometheus metrics of one serving app, in a registry of its own (never the global one).

Label children are created once and cached: ``labels()`` costs more than the increment.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np

__all__ = ["ServingMetrics"]

_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)


class ServingMetrics:
    """Counters, histograms and gauges of a serving app.

    Args:
        deployment: Deployment name (a label on every series).
    """

    def __init__(self, deployment: str) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary

        self.deployment = deployment
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "modelward_requests",
            "Requests answered, by endpoint and HTTP status.",
            ["deployment", "endpoint", "status"],
            registry=r,
        )
        self.errors = Counter(
            "modelward_request_errors",
            "Requests answered with an error, by error code.",
            ["deployment", "endpoint", "code"],
            registry=r,
        )
        self.latency = Histogram(
            "modelward_request_latency_seconds",
            "Time from request to reply (server side).",
            ["deployment", "endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_rows = Histogram(
            "modelward_batch_rows",
            "Rows per model call (after micro-batching).",
            ["deployment", "model", "version", "role"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.batch_requests = Histogram(
            "modelward_batch_requests",
            "Requests merged per model call.",
            ["deployment", "model", "version", "role"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.predictions = Summary(
            "modelward_prediction_value",
            "Numeric predictions (count, sum: watch the mean).",
            ["deployment", "model", "version", "role"],
            registry=r,
        )
        self.classes = Counter(
            "modelward_predicted_class",
            "Predictions per class label (classifiers).",
            ["deployment", "model", "version", "role", "label"],
            registry=r,
        )
        self.model_info = Gauge(
            "modelward_model_version",
            "1 for each model version loaded, by role.",
            ["deployment", "model", "version", "role"],
            registry=r,
        )
        self.swaps = Counter(
            "modelward_model_swaps",
            "Model versions switched to while serving.",
            ["deployment", "role"],
            registry=r,
        )
        self.load_failures = Counter(
            "modelward_model_load_failures",
            "Model versions that failed to load.",
            ["deployment", "model", "version"],
            registry=r,
        )
        self.store_errors = Counter(
            "modelward_store_errors",
            "Failed polls of the metadata store (serving went on).",
            ["deployment"],
            registry=r,
        )
        self.log_rows = Counter(
            "modelward_prediction_log_rows",
            "Rows written to the prediction log.",
            ["deployment"],
            registry=r,
        )
        self.log_dropped = Counter(
            "modelward_prediction_log_dropped_rows",
            "Prediction log rows dropped (queue full or store unreachable).",
            ["deployment", "reason"],
            registry=r,
        )
        self.shadow = Counter(
            "modelward_shadow_requests",
            "Requests mirrored to the shadow model, by outcome.",
            ["deployment", "outcome"],
            registry=r,
        )
        self.inflight = Gauge(
            "modelward_inflight_requests",
            "Requests being handled now.",
            ["deployment"],
            registry=r,
        )
        self.log_queue = Gauge(
            "modelward_prediction_log_queue_rows",
            "Prediction log rows waiting to be written.",
            ["deployment"],
            registry=r,
        )
        self._request_children: dict[tuple[str, int], Any] = {}
        self._latency_children: dict[str, Any] = {}
        self._error_children: dict[tuple[str, str], Any] = {}
        self._model_children: dict[tuple[str, str, str], tuple[Any, Any, Any]] = {}
        self._class_children: dict[tuple[str, str, str, Any], Any] = {}
        self.inflight_child = self.inflight.labels(deployment)
        self.store_error_child = self.store_errors.labels(deployment)
        self.log_rows_child = self.log_rows.labels(deployment)

    def observe_request(self, endpoint: str, status: int, seconds: float, code: str | None) -> None:
        """Count one answered request."""
        key = (endpoint, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(
                self.deployment, endpoint, str(status)
            )
        child.inc()
        lat = self._latency_children.get(endpoint)
        if lat is None:
            lat = self._latency_children[endpoint] = self.latency.labels(self.deployment, endpoint)
        lat.observe(seconds)
        if code is not None:
            ekey = (endpoint, code)
            err = self._error_children.get(ekey)
            if err is None:
                err = self._error_children[ekey] = self.errors.labels(
                    self.deployment, endpoint, code
                )
            err.inc()

    def observe_batch(
        self, model: str, version: str, role: str, rows: int, requests: int, outputs: np.ndarray
    ) -> None:
        """Record one model call and the distribution of what it predicted."""
        key = (model, version, role)
        children = self._model_children.get(key)
        if children is None:
            labels = (self.deployment, model, version, role)
            children = self._model_children[key] = (
                self.batch_rows.labels(*labels),
                self.batch_requests.labels(*labels),
                self.predictions.labels(*labels),
            )
        children[0].observe(rows)
        children[1].observe(requests)
        if outputs.ndim != 1:
            return
        kind = outputs.dtype.kind
        if kind == "f":
            finite = outputs[np.isfinite(outputs)]
            if finite.size == 1:
                children[2].observe(float(finite[0]))
            elif finite.size:
                # A Summary is a count and a sum; adding a batch's at once costs one call
                # instead of one per row (prometheus_client has no public bulk observe).
                children[2]._count.inc(finite.size)
                children[2]._sum.inc(float(finite.sum()))
        elif kind in "iubUO" and outputs.size <= 4096:
            # Small batches are the common case: counting in Python beats np.unique there.
            counts = collections.Counter(outputs.tolist())
            for value, count in counts.items():
                class_key = (model, version, role, value)
                child = self._class_children.get(class_key)
                if child is None:
                    text = str(value)
                    if len(text) > 64 or len(self._class_children) > 10_000:
                        continue  # not a class label: a free-form output
                    child = self._class_children[class_key] = self.classes.labels(
                        self.deployment, model, version, role, text
                    )
                child.inc(count)

    def set_models(self, loaded: list[tuple[str, str, str]]) -> None:
        """Publish which ``(model, version, role)`` are loaded now."""
        self.model_info.clear()
        for model, version, role in loaded:
            self.model_info.labels(self.deployment, model, version, role).set(1)
