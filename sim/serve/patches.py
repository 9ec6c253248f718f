"""JSON patch (RFC 6902) and the strategic-merge-patch subset `kubectl apply` and `kubectl scale` send.

Strategic merge (re-expressed from k8s.io/apimachinery pkg/util/strategicpatch patch.go
mergeMap/mergeSlice): maps merge as in a JSON merge patch; a list of objects whose elements all
carry a merge key (`name`, `containerPort`, `port`, `type`, `mountPath`, `ip`) merges element by
element on that key, elements with `"$patch": "delete"` are removed, `$setElementOrder/<field>`
orders the result, `"$patch": "replace"` replaces a map; other `$` directives are dropped. Lists of
scalars and lists without a merge key are replaced, as a merge patch does."""

from __future__ import annotations

import copy
from typing import Any

from sim.apiserver.jsondata import checked_copy

_MERGE_KEYS = ("name", "containerPort", "port", "type", "mountPath", "ip", "devicePath")


class PatchError(ValueError):
    """A patch that cannot be applied (the server answers 422 or 400 with the message)."""


# ---------------------------------------------------------------------- RFC 6902


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _parent(doc: Any, path: str) -> tuple[Any, str]:
    if not path.startswith("/"):
        raise PatchError(f"JSON patch path {path!r} must start with '/'")
    tokens = [_unescape(t) for t in path[1:].split("/")]
    node = doc
    for tok in tokens[:-1]:
        node = _child(node, tok, path)
    return node, tokens[-1]


def _child(node: Any, tok: str, path: str) -> Any:
    if isinstance(node, dict):
        if tok not in node:
            raise PatchError(f"JSON patch path {path!r}: no member {tok!r}")
        return node[tok]
    if isinstance(node, list):
        idx = _index(node, tok, path, allow_end=False)
        return node[idx]
    raise PatchError(f"JSON patch path {path!r}: {tok!r} is below a scalar")


def _index(node: list[Any], tok: str, path: str, allow_end: bool) -> int:
    if allow_end and tok == "-":
        return len(node)
    if not tok.isdigit():
        raise PatchError(f"JSON patch path {path!r}: {tok!r} is not an array index")
    idx = int(tok)
    if idx > len(node) or (idx == len(node) and not allow_end):
        raise PatchError(f"JSON patch path {path!r}: index {idx} is out of range")
    return idx


def _get(doc: Any, path: str) -> Any:
    if path == "":
        return doc
    parent, last = _parent(doc, path)
    return _child(parent, last, path)


def _remove(doc: Any, path: str) -> Any:
    parent, last = _parent(doc, path)
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"JSON patch remove {path!r}: no member {last!r}")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, path, allow_end=False))
    raise PatchError(f"JSON patch remove {path!r}: parent is a scalar")


def _add(doc: Any, path: str, value: Any) -> Any:
    if path == "":
        return value
    parent, last = _parent(doc, path)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, path, allow_end=True), value)
    else:
        raise PatchError(f"JSON patch add {path!r}: parent is a scalar")
    return doc


def apply_json_patch(doc: Any, ops: Any) -> Any:
    """A new document: `doc` with the RFC 6902 operations applied (doc is not mutated)."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a JSON array of operations")
    out = copy.deepcopy(doc)
    for i, op in enumerate(ops):
        if (
            not isinstance(op, dict)
            or not isinstance(op.get("op"), str)
            or not isinstance(op.get("path"), str)
        ):
            raise PatchError(f"JSON patch operation {i} must be an object with string 'op' and 'path'")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"JSON patch operation {i} ({kind}) needs a 'value'")
        if kind == "add":
            out = _add(out, path, checked_copy(op["value"]))
        elif kind == "remove":
            _remove(out, path)
        elif kind == "replace":
            if path == "":
                out = checked_copy(op["value"])
            else:
                _get(out, path)
                _remove(out, path)
                out = _add(out, path, checked_copy(op["value"]))
        elif kind in ("move", "copy"):
            src = op.get("from")
            if not isinstance(src, str):
                raise PatchError(f"JSON patch operation {i} ({kind}) needs a string 'from'")
            value = _remove(out, src) if kind == "move" else copy.deepcopy(_get(out, src))
            out = _add(out, path, value)
        elif kind == "test":
            if _get(out, path) != op["value"]:
                raise PatchError(f"JSON patch test failed at {path!r}")
        else:
            raise PatchError(
                f"JSON patch operation {i}: unknown op {kind!r}; allowed: add, remove, "
                "replace, move, copy, test"
            )
    return out


# ---------------------------------------------------------------------- strategic merge


def apply_strategic_merge(target: Any, patch: Any) -> Any:
    """A new document: `target` with the strategic-merge subset described above applied."""
    if not isinstance(patch, dict):
        return checked_copy(patch)
    if patch.get("$patch") == "replace":
        return {k: checked_copy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result: dict[str, Any] = copy.deepcopy(target) if isinstance(target, dict) else {}
    orders = {k.split("/", 1)[1]: v for k, v in patch.items() if k.startswith("$setElementOrder/")}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, orders.get(key))
        else:
            merged = apply_strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    for key, order in orders.items():
        if key not in patch and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], [], order)
    return result


def _merge_key(items: list[Any]) -> str | None:
    if not items or not all(isinstance(x, dict) for x in items):
        return None
    for key in _MERGE_KEYS:
        if all(key in x for x in items if x.get("$patch") != "replace"):
            return key
    return None


def _merge_list(old: Any, patch: list[Any], order: Any) -> list[Any]:
    old_list = old if isinstance(old, list) else []
    key = _merge_key(patch) or (_merge_key(old_list) if not patch else None)
    if key is None or (old_list and _merge_key(old_list) != key):
        return [checked_copy(x) for x in patch]
    merged: dict[Any, Any] = {}
    for item in old_list:
        merged[item[key]] = copy.deepcopy(item)
    for item in patch:
        k = item[key]
        if item.get("$patch") == "delete":
            merged.pop(k, None)
            continue
        value = apply_strategic_merge(merged.get(k), item)
        if value is not None:
            merged[k] = value
    if isinstance(order, list):
        ranks = {}
        for i, o in enumerate(order):
            if isinstance(o, dict) and key in o:
                ranks[o[key]] = i
        keys = sorted(merged, key=lambda k: (ranks.get(k, len(ranks)), list(merged).index(k)))
        return [merged[k] for k in keys]
    return list(merged.values())
