"""Fast deep copy and diff of JSON-like data (dict/list/str/int/float/bool/None).

`copy.deepcopy` is several times slower because it tracks memo and arbitrary types; API objects are
plain JSON, so a small recursive copier is enough and keeps 10,000-pod runs fast."""

from __future__ import annotations

from typing import Any

_LEAVES = (str, int, float, bool, type(None))


def copy_json(value: Any) -> Any:
    """Deep copy of JSON data already known to be well-formed (objects leaving the server)."""
    t = type(value)
    if t is dict:
        return {k: (copy_json(v) if type(v) in (dict, list) else v) for k, v in value.items()}
    if t is list:
        return [(copy_json(v) if type(v) in (dict, list) else v) for v in value]
    return value


def checked_copy(value: Any, path: str = "") -> Any:
    """Deep copy of JSON data coming from a caller; fails loudly on non-JSON values (sets, tuples,
    objects), which a real API server could never receive."""
    t = type(value)
    if t is dict:
        out: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                raise TypeError(f"API objects must have string keys; got {k!r} at {path or '<root>'}")
            out[k] = checked_copy(v, f"{path}.{k}" if path else k)
        return out
    if t is list:
        return [checked_copy(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if t in _LEAVES:
        return value
    raise TypeError(
        f"API objects must be JSON data (dict, list, str, int, float, bool, None); "
        f"got {type(value).__name__} at {path or '<root>'}"
    )


def changed_paths(old: Any, new: Any, prefix: str, out: list[str]) -> None:
    """Append the dotted paths where `old` and `new` differ; lists are compared whole (their path
    is reported, e.g. `status.conditions`)."""
    if type(old) is dict and type(new) is dict:
        for key in sorted(old.keys() | new.keys()):
            a = old.get(key, _MISSING)
            b = new.get(key, _MISSING)
            if a != b:
                changed_paths(a, b, f"{prefix}.{key}" if prefix else key, out)
        return
    out.append(prefix)


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
