"""Monitoring: drift, data quality and anomaly detection on model inputs and outputs.

Statistics core (pure computation, no stores):

- :mod:`modelward.monitoring.drift` — :class:`~modelward.monitoring.drift.DriftDetector`
- :mod:`modelward.monitoring.quality` — :class:`~modelward.monitoring.quality.QualityChecker`
- :mod:`modelward.monitoring.anomaly` — robust z-score and EWMA detectors for series
- :mod:`modelward.monitoring.statistics` — the two-sample statistics themselves
"""
