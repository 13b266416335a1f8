"""Alert rules and notifiers of a monitor definition (``alert_rules:``, ``notifiers:``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelward.entities.monitoring import Severity
from modelward.errors import InvalidInput
from modelward.monitoring._spec_parse import (
    _int,
    _known,
    _mapping,
    _names,
    _str,
    format_duration,
    parse_duration,
)

__all__ = ["NOTIFIER_TYPES", "OPERATORS", "AlertRule", "NotifierSpec"]

#: Comparison operators of alert conditions.
OPERATORS = (">=", "<=", "==", "!=", ">", "<")
_CONDITION = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_WINDOWS = re.compile(r"^\s*(\d+)\s*(?:windows?)?\s*$")
NOTIFIER_TYPES = ("webhook", "log", "email")


@dataclass(frozen=True, slots=True)
class AlertRule:
    """When to raise an alert.

    Attributes:
        name: Unique within the monitor (the alert's dedup key is ``<monitor>/<name>``).
        metric: The metric key watched (``drift.share``, ``performance.accuracy.delta``, ...).
        op: ``>``, ``>=``, ``<``, ``<=``, ``==``, ``!=`` or ``anomalous`` (the metric's
            ``anomaly.<metric>`` result flagged the window).
        threshold: Compared with the metric (unused for ``anomalous``).
        windows: The condition must hold in this many consecutive windows, or
        seconds: for at least this long (windows spanning it), when given instead.
        severity: ``info``, ``warning`` or ``critical``.
        cooldown: Seconds after a notification during which a re-fired alert of this rule is
            recorded but not notified again.
        notify: Notifier names (default: every notifier of the monitor, else ``log``).
        notify_resolved: Also notify when the alert resolves.
    """

    name: str
    metric: str
    op: str
    threshold: float = 0.0
    windows: int = 1
    seconds: float | None = None
    severity: Severity = Severity.WARNING
    cooldown: float = 3600.0
    notify: tuple[str, ...] | None = None
    notify_resolved: bool = True

    @classmethod
    def from_dict(cls, data: Any, index: int = 0) -> AlertRule:
        """Validate one entry of ``alert_rules``."""
        where = f"alert_rules[{index}]"
        d = _mapping(data, where)
        _known(
            d,
            (
                "name",
                "metric",
                "condition",
                "duration",
                "severity",
                "cooldown",
                "notify",
                "notify_resolved",
            ),
            where,
        )
        metric = _str(d.get("metric"), f"{where}.metric")
        name = _str(d.get("name", metric), f"{where}.name")
        op, threshold = _condition(d.get("condition"), f"{where}.condition")
        windows, seconds = 1, None
        duration = d.get("duration", 1)
        if isinstance(duration, int) and not isinstance(duration, bool):
            windows = _int(duration, f"{where}.duration")
        elif isinstance(duration, str) and _WINDOWS.match(duration):
            windows = _int(int(_WINDOWS.match(duration).group(1)), f"{where}.duration")  # type: ignore[union-attr]
        else:
            seconds = parse_duration(duration, f"{where}.duration (N windows or a time)")
        try:
            severity = Severity(d.get("severity", "warning"))
        except ValueError:
            raise InvalidInput(
                f"{where}.severity must be info, warning or critical, not {d.get('severity')!r}"
            ) from None
        resolved = d.get("notify_resolved", True)
        if not isinstance(resolved, bool):
            raise InvalidInput(f"{where}.notify_resolved must be true or false")
        return cls(
            name=name,
            metric=metric,
            op=op,
            threshold=threshold,
            windows=windows,
            seconds=seconds,
            severity=severity,
            cooldown=parse_duration(d.get("cooldown", "1h"), f"{where}.cooldown"),
            notify=_names(d.get("notify"), f"{where}.notify"),
            notify_resolved=resolved,
        )

    @property
    def condition(self) -> str:
        """The condition as written: ``>= 0.3`` or ``anomalous``."""
        return "anomalous" if self.op == "anomalous" else f"{self.op} {self.threshold:g}"

    def to_dict(self) -> dict[str, Any]:
        """The normal form."""
        return {
            "name": self.name,
            "metric": self.metric,
            "condition": self.condition,
            "duration": self.windows if self.seconds is None else format_duration(self.seconds),
            "severity": self.severity.value,
            "cooldown": self.cooldown,
            "notify": list(self.notify) if self.notify is not None else None,
            "notify_resolved": self.notify_resolved,
        }


def _condition(value: Any, what: str) -> tuple[str, float]:
    if isinstance(value, Mapping):
        op, threshold = value.get("op"), value.get("value", 0.0)
        if op not in OPERATORS:
            raise InvalidInput(f"{what}.op must be one of {', '.join(OPERATORS)}, not {op!r}")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InvalidInput(f"{what}.value must be a number, not {threshold!r}")
        return str(op), float(threshold)
    if value == "anomalous":
        return "anomalous", 0.0
    match = _CONDITION.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(
            f"{what} must look like '> 0.3', '<= -0.05' or 'anomalous', not {value!r}"
        )
    return match.group(1), float(match.group(2))


@dataclass(frozen=True, slots=True)
class NotifierSpec:
    """A named notifier.

    Attributes:
        name: Referenced by rules' ``notify``.
        type: ``webhook``, ``log`` or ``email``.
        options: Type-specific settings (see ``docs/monitoring.md``).
        attempts: Delivery attempts before a notification is recorded as failed.
        backoff: First wait between attempts, in seconds (doubling each time).
        max_backoff: Longest wait between attempts.
        timeout: Seconds one attempt may take.
    """

    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)
    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    timeout: float = 5.0

    _COMMON = ("name", "type", "attempts", "backoff", "max_backoff", "timeout")

    @classmethod
    def from_dict(cls, data: Any, index: int = 0) -> NotifierSpec:
        """Validate one entry of ``notifiers``."""
        where = f"notifiers[{index}]"
        d = dict(_mapping(data, where))
        kind = d.get("type")
        if kind not in NOTIFIER_TYPES:
            raise InvalidInput(f"{where}.type must be webhook, log or email, not {kind!r}")
        name = _str(d.get("name", kind), f"{where}.name")
        allowed = {
            "webhook": ("url", "url_env", "headers", "body"),
            "log": ("level",),
            "email": (
                "host",
                "port",
                "sender",
                "to",
                "username",
                "password_env",
                "starttls",
                "ssl",
            ),
        }[kind]
        _known(d, (*cls._COMMON, *allowed), where)
        options = {k: d[k] for k in allowed if k in d}
        if kind == "webhook":
            if ("url" in options) == ("url_env" in options):
                raise InvalidInput(
                    f"{where} needs exactly one of url (http(s)://…) or url_env (the name of an "
                    "environment variable holding it, e.g. for a Slack webhook)"
                )
            url = options.get("url")
            if url is not None and not str(url).startswith(("http://", "https://")):
                raise InvalidInput(f"{where}.url must start with http:// or https://, not {url!r}")
            if options.get("body", "full") not in ("full", "slack"):
                raise InvalidInput(f"{where}.body must be full or slack")
        elif kind == "email":
            for key in ("host", "sender", "to"):
                if key not in options:
                    raise InvalidInput(f"{where} (email) needs {key}")
            options["to"] = list(_names(options["to"], f"{where}.to") or ())
            if options.get("starttls") and options.get("ssl"):
                raise InvalidInput(f"{where}: use starttls or ssl, not both")
        elif options.get("level", "warning") not in ("debug", "info", "warning", "error"):
            raise InvalidInput(f"{where}.level must be debug, info, warning or error")
        backoff = parse_duration(d.get("backoff", 0.5), f"{where}.backoff")
        return cls(
            name=name,
            type=kind,
            options=options,
            attempts=_int(d.get("attempts", 5), f"{where}.attempts"),
            backoff=backoff,
            max_backoff=max(
                backoff, parse_duration(d.get("max_backoff", 30), f"{where}.max_backoff")
            ),
            timeout=max(0.001, parse_duration(d.get("timeout", 5), f"{where}.timeout")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The normal form."""
        return {
            "name": self.name,
            "type": self.type,
            **dict(self.options),
            "attempts": self.attempts,
            "backoff": self.backoff,
            "max_backoff": self.max_backoff,
            "timeout": self.timeout,
        }
