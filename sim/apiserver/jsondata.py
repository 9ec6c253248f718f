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


def checked_copy(value: Any) -> Any:
    """Deep copy of JSON data coming from a caller; fails loudly (TypeError naming the path) on
    non-JSON values such as sets, tuples or objects, which a real API server could never receive."""
    try:
        return _checked(value)
    except _NotJSON:
        raise TypeError(
            f"API objects must be JSON data (dict with str keys, list, str, int, float, bool, None); "
            f"got {_describe_bad(value, '')}"
        ) from None


class _NotJSON(Exception):
    pass


def _checked(value: Any) -> Any:
    t = type(value)
    if t is dict:
        out: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                raise _NotJSON
            tv = type(v)
            if tv is str or tv is int or tv is float or tv is bool or v is None:
                out[k] = v
            elif tv is dict or tv is list:
                out[k] = _checked(v)
            else:
                raise _NotJSON
        return out
    if t is list:
        items: list[Any] = []
        for v in value:
            tv = type(v)
            if tv is str or tv is int or tv is float or tv is bool or v is None:
                items.append(v)
            elif tv is dict or tv is list:
                items.append(_checked(v))
            else:
                raise _NotJSON
        return items
    if t in _LEAVES:
        return value
    raise _NotJSON


def _describe_bad(value: Any, path: str) -> str | None:
    """The first non-JSON value's type and path (slow path, errors only)."""
    t = type(value)
    if t is dict:
        for k, v in value.items():
            if type(k) is not str:
                return f"non-string key {k!r} at {path or '<root>'}"
            found = _describe_bad(v, f"{path}.{k}" if path else k)
            if found:
                return found
        return None
    if t is list:
        for i, v in enumerate(value):
            found = _describe_bad(v, f"{path}[{i}]")
            if found:
                return found
        return None
    if t in _LEAVES:
        return None
    return f"{t.__name__} at {path or '<root>'}"


def changed_paths(old: Any, new: Any, prefix: str, out: list[str]) -> None:
    """Append the dotted paths where `old` and `new` differ; lists are compared whole (their path
    is reported, e.g. `status.conditions`). Callers sort `out` if they need sorted paths."""
    if type(old) is dict and type(new) is dict:
        for key, a in old.items():
            b = new.get(key, _MISSING)
            if a is not b and a != b:
                changed_paths(a, b, f"{prefix}.{key}" if prefix else key, out)
        for key, b in new.items():
            if key not in old:
                changed_paths(_MISSING, b, f"{prefix}.{key}" if prefix else key, out)
        return
    out.append(prefix)


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
