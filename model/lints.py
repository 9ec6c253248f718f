"""Lints: mistakes the API server accepts but the controller silently ignores (warnings, not errors).

- annotation keys under `scaler.bud.studio/` on a BudAIScaler that the controller never reads
  (with the nearest real key suggested);
- annotation values the controller cannot parse (it ignores them and keeps its default);
- behavior strings (`maxScaleRate`, `tolerance`, `startingPodWeight`) strconv.ParseFloat rejects;
- a DisaggregatedService with a single role (allowed by the implementation's minItems 1, but the
  PR's design document required 2: such a service is not disaggregated)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from model.errors import FieldIssue
from model.goparse import parse_duration, parse_float, parse_int
from model.yamlio import join_path

PREFIX = "scaler.bud.studio/"


def _parse_int32(v: str) -> object:
    return parse_int(v, 32)


def _parse_scale_to_zero(v: str) -> object:
    # upstream: pkg/context/context.go parseAnnotations (scaleToZero = v == "true")
    if v not in ("true", "false"):
        raise ValueError(f'only the exact string "true" enables it; {v!r} is read as false')
    return v == "true"


# upstream: pkg/types/annotations.go (keys) and pkg/context/context.go parseAnnotations (parsers)
READ_ANNOTATIONS: dict[str, tuple[Callable[[str], object], str]] = {
    PREFIX + "max-scale-up-rate": (parse_float, 'a float such as "2.0"'),
    PREFIX + "max-scale-down-rate": (parse_float, 'a float such as "0.5"'),
    PREFIX + "scale-up-tolerance": (parse_float, 'a float such as "0.1"'),
    PREFIX + "scale-down-tolerance": (parse_float, 'a float such as "0.1"'),
    PREFIX + "scale-up-cooldown": (parse_duration, 'a Go duration such as "30s" or "1m"'),
    PREFIX + "scale-down-cooldown": (parse_duration, 'a Go duration such as "300s" or "5m"'),
    PREFIX + "panic-threshold": (parse_float, 'a float such as "2.0"'),
    PREFIX + "panic-window": (parse_duration, 'a Go duration such as "60s"'),
    PREFIX + "stable-window": (parse_duration, 'a Go duration such as "180s"'),
    PREFIX + "scale-to-zero": (_parse_scale_to_zero, '"true" or "false"'),
    PREFIX + "activation-scale": (_parse_int32, 'an integer such as "1"'),
}
"""Annotation keys the BudAIScaler controller reads, with the parser it applies."""

DECLARED_UNREAD_ANNOTATIONS = (
    PREFIX + "gpu-preferred-type",
    PREFIX + "gpu-topology-aware",
    PREFIX + "cost-max-hourly",
    PREFIX + "cost-max-daily",
    PREFIX + "cost-prefer-spot",
)
"""Declared in pkg/types/annotations.go but read nowhere in the controller."""
DECLARED_UNREAD_PREFIX = PREFIX + "target-"


def lint(obj: Mapping[str, Any]) -> list[FieldIssue]:
    """Warnings for one wire-form object that passed (or failed) admission."""
    if not isinstance(obj, Mapping):
        return []
    kind = obj.get("kind")
    if kind == "BudAIScaler":
        return _annotation_issues(obj) + _behavior_issues(obj)
    if kind == "DisaggregatedService":
        return _ds_issues(obj)
    return []


def _warn(tokens: list[str | int], message: str, value: object = None) -> FieldIssue:
    return FieldIssue(join_path(tokens), message, severity="warning", value=value)


def _annotation_issues(obj: Mapping[str, Any]) -> list[FieldIssue]:
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    if not isinstance(annotations, Mapping):
        return []
    issues: list[FieldIssue] = []
    known = sorted(READ_ANNOTATIONS)
    for key, value in annotations.items():
        if not isinstance(key, str) or not key.startswith(PREFIX):
            continue
        tokens: list[str | int] = ["metadata", "annotations", key]
        if key in READ_ANNOTATIONS:
            parser, allowed = READ_ANNOTATIONS[key]
            try:
                parser(str(value))
            except ValueError as exc:
                issues.append(
                    _warn(
                        tokens,
                        f"value {value!r} cannot be parsed by the controller ({exc}); it is silently ignored "
                        f"and the default is used; expected {allowed}",
                        value,
                    )
                )
            continue
        if key in DECLARED_UNREAD_ANNOTATIONS or key.startswith(DECLARED_UNREAD_PREFIX):
            issues.append(
                _warn(
                    tokens,
                    "annotation key is declared upstream but the controller never reads it; it has no effect",
                    key,
                )
            )
            continue
        match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = (
            f"; did you mean '{match[0]}'?" if match else f"; keys the controller reads: {', '.join(known)}"
        )
        issues.append(
            _warn(
                tokens,
                f"unknown annotation key: the controller never reads it, so it has no effect{hint}",
                key,
            )
        )
    return issues


def _behavior_issues(obj: Mapping[str, Any]) -> list[FieldIssue]:
    spec = obj.get("spec")
    behavior = spec.get("behavior") if isinstance(spec, Mapping) else None
    if not isinstance(behavior, Mapping):
        return []
    issues: list[FieldIssue] = []
    for direction in ("scaleUp", "scaleDown"):
        rules = behavior.get(direction)
        if not isinstance(rules, Mapping):
            continue
        fields: list[tuple[list[str | int], object]] = [
            (["spec", "behavior", direction, "maxScaleRate"], rules.get("maxScaleRate")),
            (["spec", "behavior", direction, "tolerance"], rules.get("tolerance")),
        ]
        starting = rules.get("startingPods")
        if isinstance(starting, Mapping):
            fields.append(
                (
                    ["spec", "behavior", direction, "startingPods", "startingPodWeight"],
                    starting.get("startingPodWeight"),
                )
            )
        for tokens, value in fields:
            if not isinstance(value, str):
                continue
            try:
                parse_float(value)
            except ValueError as exc:
                issues.append(
                    _warn(
                        tokens,
                        f"value {value!r} cannot be parsed by the controller ({exc}); it is silently ignored",
                        value,
                    )
                )
    return issues


def _ds_issues(obj: Mapping[str, Any]) -> list[FieldIssue]:
    spec = obj.get("spec")
    roles = spec.get("roles") if isinstance(spec, Mapping) else None
    if isinstance(roles, list) and len(roles) == 1:
        return [
            _warn(
                ["spec", "roles"],
                "only one role: the implementation allows it (minItems 1) but the design document requires 2 "
                "(a single-role service is not disaggregated); see docs/quirks/model.md",
                1,
            )
        ]
    return []
