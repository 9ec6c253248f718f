"""Query parameters of list and watch: label selector strings, field selectors, limit/continue."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

_REQ = re.compile(
    r"\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9_./-]+)\s*"
    r"(?:(?P<op>==|=|!=|\s+in\s+|\s+notin\s+)\s*(?P<val>\([^)]*\)|[A-Za-z0-9_.-]*))?\s*$"
)


class QueryError(ValueError):
    """A malformed query parameter (answered with 400 BadRequest)."""


def _split(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def parse_label_selector(text: str) -> dict[str, Any]:
    """`a=b,c!=d,e in (x,y),f notin (z),g,!h` as a metav1.LabelSelector dict."""
    labels: dict[str, str] = {}
    exprs: list[dict[str, Any]] = []
    for part in _split(text):
        m = _REQ.match(part)
        if m is None:
            raise QueryError(f"unable to parse requirement {part.strip()!r} of labelSelector {text!r}")
        key, op, val, neg = m["key"], (m["op"] or "").strip(), m["val"], m["neg"]
        if neg and op:
            raise QueryError(f"labelSelector requirement {part.strip()!r}: '!' takes no operator")
        if not op:
            exprs.append({"key": key, "operator": "DoesNotExist" if neg else "Exists"})
        elif op in ("=", "=="):
            labels[key] = val or ""
        elif op == "!=":
            exprs.append({"key": key, "operator": "NotIn", "values": [val or ""]})
        else:
            if not val or not val.startswith("("):
                raise QueryError(f"labelSelector requirement {part.strip()!r}: {op} needs (v1,v2)")
            values = [v.strip() for v in val[1:-1].split(",") if v.strip()]
            exprs.append({"key": key, "operator": "In" if op == "in" else "NotIn", "values": values})
    out: dict[str, Any] = {}
    if labels:
        out["matchLabels"] = labels
    if exprs:
        out["matchExpressions"] = exprs
    return out


FieldReq = tuple[str, bool, str]  # (dotted path, equal?, value)


def parse_field_selector(text: str) -> list[FieldReq]:
    reqs: list[FieldReq] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        for op, eq in (("!=", False), ("==", True), ("=", True)):
            if op in part:
                path, _, value = part.partition(op)
                if not path.strip():
                    break
                reqs.append((path.strip(), eq, value.strip()))
                break
        else:
            raise QueryError(
                f"invalid fieldSelector requirement {part!r}; expected field=value or field!=value"
            )
    return reqs


def field_value(obj: dict[str, Any], path: str) -> str:
    node: Any = obj
    for seg in path.split("."):
        node = node.get(seg) if isinstance(node, dict) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def fields_match(reqs: list[FieldReq], obj: dict[str, Any]) -> bool:
    return all((field_value(obj, path) == value) == eq for path, eq, value in reqs)


def encode_continue(rv: str, start: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"rv": rv, "start": start}).encode()).decode()


def decode_continue(token: str) -> tuple[str, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        rv, start = data["rv"], data["start"]
        if not isinstance(rv, str) or not isinstance(start, int) or start < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise QueryError(f"continue token {token!r} is not one this server issued") from None
    return rv, start


def parse_int(name: str, text: str | None, minimum: int = 0) -> int | None:
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"{name}={text!r} is not an integer") from None
    if value < minimum:
        raise QueryError(f"{name}={value} must be >= {minimum}")
    return value
