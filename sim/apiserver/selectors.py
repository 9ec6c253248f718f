"""Label selectors (metav1.LabelSelector as a dict): matching and the string form.

Private fallback until `model.meta.selector_matches` lands; same semantics as
k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go LabelSelectorAsSelector."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.apiserver.errors import Unsupported

_SELECTOR_KEYS = frozenset({"matchLabels", "matchExpressions"})


def _check(selector: Mapping[str, Any]) -> None:
    extra = set(selector) - _SELECTOR_KEYS
    if extra:
        raise Unsupported(
            f"label selector has unknown keys {sorted(extra)}; expected a LabelSelector "
            "{'matchLabels': {...}, 'matchExpressions': [...]}"
        )


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """True if `labels` satisfy `selector`. None or {} selects everything (LabelSelector semantics)."""
    if not selector:
        return True
    _check(selector)
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or ():
        key = expr["key"]
        op = expr["operator"]
        values = expr.get("values") or ()
        if op == "In":
            if key not in labels or labels[key] not in values:
                return False
        elif op == "NotIn":
            if key in labels and labels[key] in values:
                return False
        elif op == "Exists":
            if key not in labels:
                return False
        elif op == "DoesNotExist":
            if key in labels:
                return False
        else:
            raise Unsupported(f"label selector operator {op!r}; allowed: In, NotIn, Exists, DoesNotExist")
    return True


def selector_string(selector: Mapping[str, Any] | None) -> str:
    """The selector's string form, as `kubectl` and the scale subresource's status.selector show it."""
    if not selector:
        return ""
    _check(selector)
    parts: list[str] = []
    for key, value in sorted((selector.get("matchLabels") or {}).items()):
        parts.append(f"{key}={value}")
    for expr in selector.get("matchExpressions") or ():
        key, op = expr["key"], expr["operator"]
        values = ",".join(sorted(expr.get("values") or ()))
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(sorted(parts))
