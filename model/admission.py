"""Admission: what a strict API server (schema, unknown fields) plus a validating webhook would enforce.

`admit(obj)` takes a wire-form dict and returns every problem as a `FieldIssue` with its YAML path
and a Kubernetes-style message (`spec.metricsSources: Required value`, `... unknown field`,
`Unsupported value: "X": supported values: ...`). It is on the fake API server's hot path for every
Pod and Deployment write, so it validates with the already-built pydantic core schema and runs no
per-kind rules unless the kind has them.

Kept apart on purpose: a BudAIScaler naming a role the DisaggregatedService does not have is a
*reconcile-time* condition (the target can change later), not an admission error."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from pydantic import ValidationError

from model.base import KubeModel
from model.errors import FieldIssue, ValidationFailed
from model.goparse import parse_duration, parse_float, parse_int
from model.meta import selector_matches
from model.podautoscaler import podautoscaler_issues
from model.quantity import QuantityError, parse_quantity
from model.registry import KINDS, model_for, supported_kinds
from model.yamlio import join_path

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

_TYPE_NAMES = {
    "int_type": "integer",
    "int_parsing": "integer",
    "int_from_float": "integer",
    "string_type": "string",
    "bool_type": "boolean",
    "bool_parsing": "boolean",
    "float_type": "number",
    "float_parsing": "number",
    "list_type": "array",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
}
_UNION_TAGS = frozenset(
    {
        "int",
        "str",
        "float",
        "bool",
        "none",
        "constrained-int",
        "constrained-str",
        "constrained-float",
        "function-after",
        "function-before",
        "function-wrap",
        "function-plain",
        "lax-or-strict",
        "json-or-python",
        "tagged-union",
    }
)
"""Pydantic's names for union members and wrappers in error locations (not fields of the object)."""


def show(value: object) -> str:
    """A value as Kubernetes prints it in messages (JSON)."""
    if isinstance(value, Enum):
        value = value.value
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def did_you_mean(value: object, choices: list[str]) -> str:
    """`; did you mean 'tokenizer'?` when a close match exists, else empty."""
    if not isinstance(value, str):
        return ""
    match = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in choices}
        if value.lower() in lowered:
            match = [lowered[value.lower()]]
    return f"; did you mean '{match[0]}'?" if match else ""


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    tokens: list[str | int] = []
    for part in loc:
        if isinstance(part, int):
            tokens.append(part)
        elif part in _UNION_TAGS or "[" in part:
            continue
        else:
            tokens.append(part)
    return join_path(tokens)


def _count(value: object) -> str:
    return f"{len(value)} items" if isinstance(value, list | tuple | dict) else show(value)


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "Required value"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in _TYPE_NAMES:
        return f"Invalid value: {show(value)}: must be of type {_TYPE_NAMES[kind]}"
    if kind in ("enum", "literal_error"):
        expected = ctx.get("expected", "")
        choices = re.findall(r"'([^']*)'", str(expected))
        supported = ", ".join(f'"{c}"' for c in choices)
        return (
            f"Unsupported value: {show(value)}: supported values: {supported}{did_you_mean(value, choices)}"
        )
    bounds = {
        "greater_than_equal": ("greater than or equal to", "ge"),
        "less_than_equal": ("less than or equal to", "le"),
        "greater_than": ("greater than", "gt"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"Invalid value: {show(value)}: must be {words} {ctx.get(key)}"
    if kind == "too_short":
        return f"Invalid value: {_count(value)}: must have at least {ctx.get('min_length')} items"
    if kind == "too_long":
        return f"Too many: {_count(value)}: must have at most {ctx.get('max_length')} items"
    if kind == "string_too_short":
        return f"Invalid value: {show(value)}: must be at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"Too long: may not be more than {ctx.get('max_length')} bytes"
    if kind == "string_pattern_mismatch":
        return f"Invalid value: {show(value)}: must match the regular expression '{ctx.get('pattern')}'"
    if kind == "value_error":
        return f"Invalid value: {show(value)}: {ctx.get('error', err.get('msg'))}"
    return f"Invalid value: {show(value)}: {err.get('msg')}"


def issues_from_validation_error(exc: ValidationError) -> list[FieldIssue]:
    """Pydantic errors as Kubernetes-style field issues; union alternatives collapse into one."""
    by_path: dict[str, list[Mapping[str, Any]]] = {}
    for err in list[Mapping[str, Any]](exc.errors(include_url=False)):
        by_path.setdefault(_loc_to_path(err["loc"]), []).append(err)
    issues: list[FieldIssue] = []
    for path, errs in by_path.items():
        type_errs = [e for e in errs if e["type"] in _TYPE_NAMES]
        if len(type_errs) > 1 and len(type_errs) == len(errs):
            names = sorted({_TYPE_NAMES[e["type"]] for e in type_errs})
            value = type_errs[0].get("input")
            issues.append(
                FieldIssue(
                    path, f"Invalid value: {show(value)}: must be of type {' or '.join(names)}", value=value
                )
            )
            continue
        seen: set[str] = set()
        for err in errs:
            msg = _message(err)
            if msg in seen:
                continue
            seen.add(msg)
            value = err.get("input") if err["type"] != "missing" else None
            issues.append(FieldIssue(path, msg, value=value if not isinstance(value, dict | list) else None))
    return issues


def _validate_schema(
    cls: type[KubeModel], obj: Mapping[str, Any]
) -> tuple[KubeModel | None, list[FieldIssue]]:
    try:
        return cls.model_validate(obj), []
    except ValidationError as exc:
        return None, issues_from_validation_error(exc)


def admit(obj: Mapping[str, Any]) -> list[FieldIssue]:
    """Every admission error of one wire-form object (empty list = accepted)."""
    if not isinstance(obj, Mapping):
        return [FieldIssue("", f"Invalid value: {show(obj)}: expected a Kubernetes object (a mapping)")]
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    cls = model_for(api_version, kind)
    if cls is None:
        return _unknown_kind(api_version, kind)
    model, issues = _validate_schema(cls, obj)
    issues.extend(_metadata_issues(obj.get("metadata"), str(kind)))
    if model is not None:
        rule = _RULES.get(str(kind))
        if rule is not None:
            issues.extend(rule(obj))
    return issues


def parse(obj: Mapping[str, Any]) -> KubeModel:
    """Typed model of an admitted object; raises `ValidationFailed` listing every issue."""
    issues = [i for i in admit(obj) if i.severity == "error"]
    if issues:
        raise ValidationFailed(issues)
    cls = model_for(obj.get("apiVersion"), obj.get("kind"))
    assert cls is not None
    return cls.model_validate(obj)


def _unknown_kind(api_version: object, kind: object) -> list[FieldIssue]:
    kinds = sorted({k for _, k in KINDS})
    supported = ", ".join(supported_kinds())
    if not api_version:
        return [FieldIssue("apiVersion", "Required value", value=None)] + (
            [] if kind else [FieldIssue("kind", "Required value")]
        )
    if not kind:
        return [FieldIssue("kind", "Required value")]
    if kind in kinds:
        versions = [v for v, k in KINDS if k == kind]
        return [
            FieldIssue(
                "apiVersion",
                f"Unsupported value: {show(api_version)}: kind {kind} is served as "
                + ", ".join(f'"{v}"' for v in versions),
                value=api_version,
            )
        ]
    return [
        FieldIssue(
            "kind",
            f"Unsupported value: {show(kind)}: no kind {show(kind)} in version {show(api_version)}; "
            f"supported kinds: {supported}{did_you_mean(kind, kinds)}",
            value=kind,
        )
    ]


def _metadata_issues(meta: object, kind: str) -> list[FieldIssue]:
    if not isinstance(meta, Mapping):
        return []
    issues: list[FieldIssue] = []
    name = meta.get("name")
    if name is None and not meta.get("generateName"):
        issues.append(FieldIssue("metadata.name", "Required value: name or generateName is required"))
    elif isinstance(name, str):
        pattern = DNS1035_LABEL if kind == "Service" else DNS1123_SUBDOMAIN
        limit = 63 if kind == "Service" else 253
        if not pattern.match(name) or len(name) > limit:
            what = "DNS-1035 label" if kind == "Service" else "DNS-1123 subdomain"
            issues.append(
                FieldIssue(
                    "metadata.name",
                    f"Invalid value: {show(name)}: a {what} must consist of lower case alphanumeric characters"
                    f"{'' if kind == 'Service' else ', ' + chr(39) + '.' + chr(39)} or '-', start and end with an alphanumeric character"
                    f", at most {limit} characters",
                    value=name,
                )
            )
    labels = meta.get("labels")
    if isinstance(labels, Mapping):
        for key, value in labels.items():
            issues.extend(_label_issues(key, value))
    return issues


_GOOD_LABELS: set[tuple[str, str]] = set()
"""Label pairs already found valid: the same few labels recur on every Pod of a Deployment (hot path)."""


def _label_issues(key: object, value: object) -> list[FieldIssue]:
    if isinstance(key, str) and isinstance(value, str) and (key, value) in _GOOD_LABELS:
        return []
    path = join_path(["metadata", "labels", str(key)])
    out: list[FieldIssue] = []
    if isinstance(key, str):
        prefix, _, name = key.rpartition("/")
        if (
            (prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)))
            or len(name) > 63
            or not QUALIFIED_NAME.match(name)
        ):
            out.append(
                FieldIssue(
                    path,
                    f"Invalid value: {show(key)}: a label key must be a qualified name (optional DNS prefix/, then at most 63 alphanumeric, '-', '_' or '.' characters, starting and ending alphanumeric)",
                    value=key,
                )
            )
    if isinstance(value, str) and (len(value) > 63 or not LABEL_VALUE.match(value)):
        out.append(
            FieldIssue(
                path,
                f"Invalid value: {show(value)}: a label value must be empty or at most 63 alphanumeric, '-', '_' or '.' characters, starting and ending alphanumeric",
                value=value,
            )
        )
    if not out and isinstance(key, str) and isinstance(value, str) and len(_GOOD_LABELS) < 100_000:
        _GOOD_LABELS.add((key, value))
    return out


# ---------------------------------------------------------------- per-kind webhook rules


def _ds_rules(obj: Mapping[str, Any]) -> list[FieldIssue]:
    """DisaggregatedService: DNS-1123 role names, unique; dependsOn names existing roles; no self or cyclic
    dependency (the message names the cycle); generated child names `<ds>-<role>` fit 63 characters."""
    issues: list[FieldIssue] = []
    ds_name = str(obj["metadata"].get("name") or obj["metadata"].get("generateName") or "")
    roles: list[Mapping[str, Any]] = obj["spec"]["roles"]
    names = [str(r["name"]) for r in roles]
    first_index: dict[str, int] = {}
    for i, name in enumerate(names):
        path = f"spec.roles[{i}].name"
        if name in first_index:
            issues.append(
                FieldIssue(
                    path,
                    f"Duplicate value: {show(name)}: role names must be unique (first used by spec.roles[{first_index[name]}])",
                    value=name,
                )
            )
            continue
        first_index[name] = i
        if len(name) > 63 or not DNS1123_LABEL.match(name):
            issues.append(
                FieldIssue(
                    path,
                    f"Invalid value: {show(name)}: a role name must be a DNS-1123 label (lower case alphanumeric characters or '-', start and end alphanumeric, at most 63 characters)",
                    value=name,
                )
            )
            continue
        child = f"{ds_name}-{name}"
        if ds_name and len(child) > 63:
            issues.append(
                FieldIssue(
                    path,
                    f"Invalid value: {show(name)}: the generated Deployment/Service name {show(child)} is {len(child)} characters, more than 63 (shorten metadata.name or the role name)",
                    value=name,
                )
            )
        elif ds_name and not DNS1035_LABEL.match(child):
            issues.append(
                FieldIssue(
                    path,
                    f"Invalid value: {show(name)}: the generated Service name {show(child)} must be a DNS-1035 label (start with a letter)",
                    value=name,
                )
            )
    known = sorted(first_index)
    edges: dict[str, list[tuple[str, str]]] = {}
    for i, role in enumerate(roles):
        deps = role.get("dependsOn") or []
        seen: set[str] = set()
        for k, dep in enumerate(deps):
            path = f"spec.roles[{i}].dependsOn[{k}]"
            if dep == names[i]:
                issues.append(
                    FieldIssue(path, f"Invalid value: {show(dep)}: a role cannot depend on itself", value=dep)
                )
            elif dep not in first_index:
                issues.append(
                    FieldIssue(
                        path,
                        f"Not found: {show(dep)}: no role with this name{did_you_mean(dep, known)} (roles: {', '.join(names)})",
                        value=dep,
                    )
                )
            elif dep in seen:
                issues.append(FieldIssue(path, f"Duplicate value: {show(dep)}", value=dep))
            else:
                edges.setdefault(names[i], []).append((dep, path))
            seen.add(dep)
    issues.extend(_cycle_issues(names, edges))
    return issues


def _cycle_issues(names: list[str], edges: dict[str, list[tuple[str, str]]]) -> list[FieldIssue]:
    """One issue per distinct cycle, found by DFS in declaration order (deterministic)."""
    state: dict[str, int] = {}
    issues: list[FieldIssue] = []
    reported: set[frozenset[str]] = set()
    for root in dict.fromkeys(names):
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        trail: list[str] = [root]
        state[root] = 1
        while stack:
            node, idx = stack[-1]
            out = edges.get(node, [])
            if idx >= len(out):
                stack.pop()
                trail.pop()
                state[node] = 2
                continue
            stack[-1] = (node, idx + 1)
            dep, path = out[idx]
            st = state.get(dep, 0)
            if st == 1:
                cycle = [*trail[trail.index(dep) :], dep]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    issues.append(
                        FieldIssue(
                            path,
                            f"Invalid value: {show(dep)}: dependency cycle {' → '.join(cycle)}",
                            value=dep,
                        )
                    )
            elif st == 0:
                state[dep] = 1
                stack.append((dep, 0))
                trail.append(dep)
    return issues


def _validate_target_value(strategy: str, source: Mapping[str, Any], path: str) -> FieldIssue | None:
    """Parse targetValue as the controller will for this strategy and metric source type."""
    value = source["targetValue"]
    mtype = source["metricSourceType"]
    try:
        if strategy == "HPA" and mtype == "resource":
            # upstream: pkg/controller/budaiscaler/algorithm/hpa.go buildResourceMetric (ParseInt 32)
            parse_int(value, 32)
        elif strategy == "HPA" and mtype in ("custom", "external"):
            # upstream: pkg/controller/budaiscaler/algorithm/hpa.go buildPodMetric/buildExternalMetric (ParseQuantity)
            parse_quantity(value)
        else:
            # upstream: algorithm/budscaler.go, algorithm/kpa.go, pkg/context/context.go (ParseFloat; <= 0 skipped)
            number = parse_float(value)
            if not number > 0:
                return FieldIssue(
                    path,
                    f"Invalid value: {show(value)}: must be a positive number (the {strategy} algorithm skips targets <= 0)",
                    value=value,
                )
    except (ValueError, QuantityError) as exc:
        allowed = {
            True: 'an integer percentage such as "80" (HPA resource metrics)',
            False: 'a number such as "70" or "0.5"',
        }[strategy == "HPA" and mtype == "resource"]
        if strategy == "HPA" and mtype in ("custom", "external"):
            allowed = 'a quantity such as "10", "500m" or "1k"'
        return FieldIssue(path, f"Invalid value: {show(value)}: {exc}; expected {allowed}", value=value)
    return None


def _check_cron(expr: str) -> str | None:
    """robfig/cron parser with Minute|Hour|Dom|Month|Dow: exactly five fields, no descriptors."""
    # upstream: pkg/controller/budaiscaler/prediction/predictor.go (cron.NewParser(Minute|Hour|Dom|Month|Dow))
    fields = expr.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: minute hour day-of-month month day-of-week"
    from croniter import croniter

    if not croniter.is_valid(expr):
        return "not a valid cron expression"
    return None


def _bas_rules(obj: Mapping[str, Any]) -> list[FieldIssue]:
    """BudAIScaler: minReplicas <= maxReplicas; scaleTargetRef.name; targetValue, cron and duration parseable."""
    issues: list[FieldIssue] = []
    spec = obj["spec"]
    min_r = spec.get("minReplicas", 1)
    max_r = spec["maxReplicas"]
    if min_r > max_r:
        issues.append(
            FieldIssue(
                "spec.minReplicas",
                f"Invalid value: {min_r}: must be less than or equal to spec.maxReplicas ({max_r})",
                value=min_r,
            )
        )
    ref = spec["scaleTargetRef"]
    if not ref.get("name"):
        issues.append(
            FieldIssue("spec.scaleTargetRef.name", "Required value: the target to scale must be named")
        )
    strategy = spec.get("scalingStrategy", "BudScaler")
    for i, source in enumerate(spec["metricsSources"]):
        issue = _validate_target_value(strategy, source, f"spec.metricsSources[{i}].targetValue")
        if issue is not None:
            issues.append(issue)
    for i, hint in enumerate(spec.get("scheduleHints") or []):
        problem = _check_cron(hint["cronExpression"])
        if problem is not None:
            issues.append(
                FieldIssue(
                    f"spec.scheduleHints[{i}].cronExpression",
                    f"Invalid value: {show(hint['cronExpression'])}: {problem}",
                    value=hint["cronExpression"],
                )
            )
        try:
            parse_duration(hint["duration"])
        except ValueError as exc:
            issues.append(
                FieldIssue(
                    f"spec.scheduleHints[{i}].duration",
                    f'Invalid value: {show(hint["duration"])}: {exc}; expected a Go duration such as "12h", "90m" or "1h30m"',
                    value=hint["duration"],
                )
            )
    return issues


def selector_issues(selector: Mapping[str, Any], path: str) -> list[FieldIssue]:
    """metav1 LabelSelector validation: In/NotIn need values, Exists/DoesNotExist must have none."""
    issues: list[FieldIssue] = []
    for i, req in enumerate(selector.get("matchExpressions") or []):
        op, values = req.get("operator"), req.get("values") or []
        where = f"{path}.matchExpressions[{i}].values"
        if op in ("In", "NotIn") and not values:
            issues.append(FieldIssue(where, f"Required value: must be specified when `operator` is '{op}'"))
        elif op in ("Exists", "DoesNotExist") and values:
            issues.append(FieldIssue(where, f"Forbidden: may not be specified when `operator` is '{op}'"))
    return issues


_PERCENT = re.compile(r"^[0-9]+%$")


def strategy_issues(strategy: Mapping[str, Any] | None) -> list[FieldIssue]:
    """apps/v1 strategy validation: maxSurge/maxUnavailable are integers or "N%" and not both zero;
    `rollingUpdate` is forbidden with `type: Recreate`."""
    # upstream: k8s.io/kubernetes pkg/apis/apps/validation/validation.go ValidateRollingUpdateDeployment
    if not strategy:
        return []
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type") == "Recreate" and rolling is not None:
        return [
            FieldIssue(
                "spec.strategy.rollingUpdate",
                "Forbidden: may not be specified when strategy `type` is 'Recreate'",
            )
        ]
    if not rolling:
        return []
    issues: list[FieldIssue] = []
    values: dict[str, float] = {}
    for field in ("maxSurge", "maxUnavailable"):
        value = rolling.get(field)
        path = f"spec.strategy.rollingUpdate.{field}"
        if isinstance(value, str):
            if not _PERCENT.match(value):
                issues.append(
                    FieldIssue(
                        path,
                        f"Invalid value: {show(value)}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '25%')",
                        value=value,
                    )
                )
                continue
            values[field] = float(value[:-1])
            if field == "maxUnavailable" and values[field] > 100:
                issues.append(
                    FieldIssue(
                        path, f"Invalid value: {show(value)}: must not be greater than 100%", value=value
                    )
                )
        elif isinstance(value, int):
            if value < 0:
                issues.append(
                    FieldIssue(
                        path, f"Invalid value: {value}: must be greater than or equal to 0", value=value
                    )
                )
            values[field] = float(value)
    if not issues and values.get("maxSurge", 1.0) == 0 and values.get("maxUnavailable", 1.0) == 0:
        issues.append(
            FieldIssue(
                "spec.strategy.rollingUpdate.maxUnavailable",
                "Invalid value: 0: may not be 0 when `maxSurge` is 0",
                value=0,
            )
        )
    return issues


def _deployment_rules(obj: Mapping[str, Any]) -> list[FieldIssue]:
    """apps/v1 validation: strategy; the selector must be non-empty and match the template's labels."""
    spec = obj["spec"]
    selector = spec["selector"]
    issues = strategy_issues(spec.get("strategy")) + selector_issues(selector, "spec.selector")
    if issues:
        return issues
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return [FieldIssue("spec.selector", "Invalid value: {}: empty selector is invalid for deployment")]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not selector_matches(selector, labels):
        return [
            FieldIssue(
                "spec.template.metadata.labels",
                f"Invalid value: {show(labels)}: `selector` does not match template `labels`",
            )
        ]
    return []


_STANDARD_PREFIXES = ("kubernetes.io/", "requests.")


def _is_extended_resource(name: str) -> bool:
    """`nvidia.com/gpu` and other vendor resources: integer, not overcommittable."""
    return "/" in name and not name.startswith(_STANDARD_PREFIXES) and ".kubernetes.io/" not in name


def pod_spec_issues(spec: Mapping[str, Any] | None, path: str) -> list[FieldIssue]:
    """core/v1 PodSpec validation beyond the schema: unique container names; requests <= limits;
    extended resources (e.g. nvidia.com/gpu) are whole numbers with requests equal to limits."""
    # upstream: k8s.io/kubernetes pkg/apis/core/validation/validation.go ValidateResourceRequirements
    if not spec:
        return []
    issues: list[FieldIssue] = []
    seen: set[str] = set()
    for group in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(group) or []):
            cpath = f"{path}.{group}[{i}]"
            name = container.get("name")
            if name in seen:
                issues.append(FieldIssue(f"{cpath}.name", f"Duplicate value: {show(name)}", value=name))
            seen.add(name)
            resources = container.get("resources")
            if resources:
                issues.extend(_resource_issues(resources, f"{cpath}.resources"))
            for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
                probe = container.get(probe_name)
                if probe is not None:
                    handlers = [
                        h for h in ("exec", "httpGet", "tcpSocket", "grpc") if probe.get(h) is not None
                    ]
                    if not handlers:
                        issues.append(
                            FieldIssue(f"{cpath}.{probe_name}", "Required value: must specify a handler type")
                        )
                    elif len(handlers) > 1:
                        issues.append(
                            FieldIssue(
                                f"{cpath}.{probe_name}.{handlers[1]}",
                                "Forbidden: may not specify more than 1 handler type",
                            )
                        )
    return issues


def _sub(path: str, key: str) -> str:
    return f"{path}[{key}]" if ("." in key or "/" in key) else f"{path}.{key}"


_GOOD_RESOURCES: set[tuple[Any, ...]] = set()
"""Request/limit sets already found valid (every Pod of a Deployment repeats its template's)."""


def _resource_issues(resources: Mapping[str, Any], path: str) -> list[FieldIssue]:
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    try:
        key = (tuple(requests.items()), tuple(limits.items()))
        if key in _GOOD_RESOURCES:
            return []
    except TypeError:
        key = None
    issues = _check_resources(requests, limits, path)
    if not issues and key is not None and len(_GOOD_RESOURCES) < 10_000:
        _GOOD_RESOURCES.add(key)
    return issues


def _check_resources(requests: Mapping[str, Any], limits: Mapping[str, Any], path: str) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    for name in sorted(set(requests) | set(limits)):
        req, lim = requests.get(name), limits.get(name)
        try:
            req_v = parse_quantity(req) if req is not None else None
            lim_v = parse_quantity(lim) if lim is not None else None
        except QuantityError:
            continue  # already reported by the schema
        if _is_extended_resource(name):
            for kind, value, parsed in (("requests", req, req_v), ("limits", lim, lim_v)):
                if parsed is not None and parsed != parsed.to_integral_value():
                    issues.append(
                        FieldIssue(
                            _sub(f"{path}.{kind}", name),
                            f"Invalid value: {show(value)}: must be an integer",
                            value=value,
                        )
                    )
            if req_v is not None and lim_v is None:
                issues.append(
                    FieldIssue(
                        f"{path}.limits", "Required value: Limit must be set for non overcommitable resources"
                    )
                )
            elif req_v is not None and lim_v is not None and req_v != lim_v:
                issues.append(
                    FieldIssue(
                        _sub(f"{path}.requests", name),
                        f"Invalid value: {show(req)}: must be equal to {name} limit of {lim}",
                        value=req,
                    )
                )
        elif req_v is not None and lim_v is not None and req_v > lim_v:
            issues.append(
                FieldIssue(
                    _sub(f"{path}.requests", name),
                    f"Invalid value: {show(req)}: must be less than or equal to {name} limit of {lim}",
                    value=req,
                )
            )
    return issues


def _pod_rules(obj: Mapping[str, Any]) -> list[FieldIssue]:
    return pod_spec_issues(obj.get("spec"), "spec")


def _hpa_rules(obj: Mapping[str, Any]) -> list[FieldIssue]:
    spec = obj["spec"]
    min_r = spec.get("minReplicas")
    if min_r is not None and min_r > spec["maxReplicas"]:
        return [
            FieldIssue(
                "spec.minReplicas",
                f"Invalid value: {min_r}: must be less than or equal to maxReplicas",
                value=min_r,
            )
        ]
    return []


def _with_templates(
    rule: Callable[[Mapping[str, Any]], list[FieldIssue]] | None, kind: str
) -> Callable[[Mapping[str, Any]], list[FieldIssue]]:
    """Add pod-template checks to a kind's rules (Deployment template; DisaggregatedService role templates)."""

    def rules(obj: Mapping[str, Any]) -> list[FieldIssue]:
        issues = rule(obj) if rule is not None else []
        spec = obj["spec"]
        if kind == "Deployment":
            issues.extend(pod_spec_issues((spec.get("template") or {}).get("spec"), "spec.template.spec"))
        else:
            for i, role in enumerate(spec.get("roles") or []):
                template = role.get("template")
                if template:
                    issues.extend(pod_spec_issues(template.get("spec"), f"spec.roles[{i}].template.spec"))
        return issues

    return rules


_RULES: dict[str, Callable[[Mapping[str, Any]], list[FieldIssue]]] = {
    "DisaggregatedService": _with_templates(_ds_rules, "DisaggregatedService"),
    "BudAIScaler": _bas_rules,
    "Deployment": _with_templates(_deployment_rules, "Deployment"),
    "Pod": _pod_rules,
    "HorizontalPodAutoscaler": _hpa_rules,
    "PodAutoscaler": podautoscaler_issues,  # AIBrix and Knative, by apiVersion (model/podautoscaler.py)
}
