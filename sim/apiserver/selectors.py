"""Label selectors (metav1.LabelSelector as a dict): matching (via `model.meta`) and the string form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model.meta import selector_matches as _model_selector_matches
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
    """True if `labels` satisfy `selector`; delegates to `model.meta.selector_matches` (Go semantics:
    nil selects nothing, {} selects everything). Callers that mean "no filter" skip the call."""
    if selector is None:
        return False
    _check(selector)
    return _model_selector_matches(selector, labels)


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
