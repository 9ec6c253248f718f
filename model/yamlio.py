"""Safe, bounded YAML loading with line numbers for every YAML path, and kubectl-compatible dumping.

Why not `yaml.safe_load_all`: a user-facing validator must say *where* a problem is (file, line,
YAML path) and must survive hostile input (alias bombs, huge or deeply nested files, binary or
non-UTF-8 bytes) in bounded memory and time. We compose each document to nodes with libyaml (C),
check limits on the node graph, then construct plain data; the node tree is kept so that
`LoadedDocument.line_of("spec.roles[2].dependsOn[0]")` can answer lazily, only when an error needs it.

Scalars resolve like Kubernetes' YAML decoder: timestamps stay strings (sigs.k8s.io/yaml converts
YAML to JSON, which has no timestamp type)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from model.errors import YAMLInputError

MAX_FILE_BYTES = 32 * 1024 * 1024
"""Largest manifest file we read (the API server itself caps one request at 3 MiB)."""
MAX_DEPTH = 100
"""Deepest nesting of mappings/sequences we accept; real manifests stay below 30."""
MAX_EXPANDED_NODES = 1_000_000
"""Largest node count of one document after alias expansion (stops "billion laughs")."""

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: type[Any] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _KubeLoader(_BaseLoader):  # type: ignore[misc]
    """Safe loader whose implicit resolvers match Kubernetes (no timestamp type)."""


_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_RESOLVED: dict[str, str] = {}
_SIMPLE_INT = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
_SIMPLE_FLOAT = re.compile(r"^-?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+][0-9]+)?$")


def _cached_resolve(self: Any, kind: Any, value: Any, implicit: Any) -> Any:
    """Plain-scalar tag resolution memoised by text (the same keys and values recur in every manifest)."""
    if kind is yaml.ScalarNode:
        if not implicit[0]:
            return _STR_TAG
        tag = _RESOLVED.get(value)
        if tag is None:
            tag = _BaseLoader.resolve(self, kind, value, implicit)
            if len(_RESOLVED) < 200_000:
                _RESOLVED[value] = tag
        return tag
    return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG


def _no_path_resolvers(self: Any, *args: Any) -> None:
    """We register no path resolvers, so the per-node descend/ascend bookkeeping is skipped."""


_KubeLoader.resolve = _cached_resolve
_KubeLoader.descend_resolver = _no_path_resolvers
_KubeLoader.ascend_resolver = _no_path_resolvers
_KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


@dataclass
class LoadedDocument:
    """One YAML document of a file: its data (a mapping) and where it came from."""

    data: dict[str, Any]
    file: str
    index: int
    line: int = 1
    _text: str = field(default="", repr=False, compare=False)
    _span: tuple[int, int] = field(default=(0, 0), repr=False, compare=False)
    _node: Any = field(default=None, repr=False, compare=False)

    def _root(self) -> Any:
        """The document's node tree, re-composed from its text on first use (only errors need lines)."""
        if self._node is None and self._text:
            start, end = self._span
            # pad with newlines so marks carry the document's real line numbers
            snippet = "\n" * (self.line - 1) + " " * _column_of(self._text, start) + self._text[start:end]
            try:
                self._node = yaml.compose(snippet, Loader=_KubeLoader)
            except yaml.YAMLError:
                return None
        return self._node

    def line_of(self, path: str) -> int | None:
        """1-based line of the YAML path (the key's line for a mapping entry).

        A path that does not exist (a missing required field) maps to the line of its deepest
        existing ancestor, which is where the user has to add it."""
        node = self._root()
        if node is None:
            return None
        line: int = node.start_mark.line + 1
        for token in split_path(path):
            if isinstance(node, yaml.MappingNode) and isinstance(token, str):
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == token:
                        line = key_node.start_mark.line + 1
                        node = value_node
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(token, int):
                if not 0 <= token < len(node.value):
                    return line
                node = node.value[token]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def _column_of(text: str, index: int) -> int:
    return index - (text.rfind("\n", 0, index) + 1)


_PATH_TOKEN = re.compile(r"\[(\d+)\]|\[([^\]]*)\]|\.?([^.\[\]]+)")


def split_path(path: str) -> list[str | int]:
    """`spec.roles[2].dependsOn[0]` -> `["spec", "roles", 2, "dependsOn", 0]`; `labels[a.b/c]` keeps keys whole."""
    tokens: list[str | int] = []
    for m in _PATH_TOKEN.finditer(path):
        if m.group(1) is not None:
            tokens.append(int(m.group(1)))
        elif m.group(2) is not None:
            tokens.append(m.group(2))
        else:
            tokens.append(m.group(3))
    return tokens


def join_path(tokens: Iterable[str | int]) -> str:
    """Inverse of `split_path`; keys with dots or slashes are bracketed (`labels[app.kubernetes.io/name]`)."""
    out = ""
    for t in tokens:
        if isinstance(t, int) or "." in t or "/" in t or " " in t or not t:
            out += f"[{t}]"
        else:
            out += f".{t}" if out else t
    return out


def load_documents(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> list[LoadedDocument]:
    """Every non-empty document of a YAML file; raises `YAMLInputError` with file, line and column."""
    name = str(path)
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise YAMLInputError(
                f"file is {size} bytes, larger than the limit of {max_bytes} bytes",
                file=name,
                value=size,
                allowed=f"files up to {max_bytes} bytes; split it into several files",
            )
        with p.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except IsADirectoryError:
        raise YAMLInputError("is a directory, expected a YAML file", file=name) from None
    except FileNotFoundError:
        raise YAMLInputError("no such file", file=name) from None
    except PermissionError:
        raise YAMLInputError("permission denied", file=name) from None
    except OSError as exc:
        raise YAMLInputError(f"cannot read file: {exc.strerror or exc}", file=name) from None
    except ValueError as exc:  # an embedded NUL byte in the name
        raise YAMLInputError(
            f"cannot use this file name: {exc}",
            file=name.replace("\0", "\\0"),
            allowed="a file name without NUL bytes",
        ) from None
    if len(raw) > max_bytes:
        raise YAMLInputError(
            f"file is larger than the limit of {max_bytes} bytes",
            file=name,
            allowed=f"files up to {max_bytes} bytes",
        )
    return load_documents_from_bytes(raw, file=name)


def decode_text(raw: bytes, *, file: str) -> str:
    """UTF-8 (optionally with BOM) or UTF-16/32 with BOM, as YAML allows; anything else is a clear error."""
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError as exc:
                raise _decode_error(raw, exc, file, codec) from None
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise YAMLInputError(
            f"binary data (NUL byte at offset {nul}); this does not look like a YAML text file",
            file=file,
            line=line,
            allowed="UTF-8 text",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(raw, exc, file, "utf-8") from None


def _decode_error(raw: bytes, exc: UnicodeDecodeError, file: str, codec: str) -> YAMLInputError:
    line = raw.count(b"\n", 0, exc.start) + 1
    column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
    bad = raw[exc.start : exc.start + 4]
    return YAMLInputError(
        f"not valid {codec.upper().replace('-SIG', '')} text: byte {bad[:1]!r} at column {column} cannot be decoded",
        file=file,
        line=line,
        column=column,
        value=bad[:1],
        allowed="UTF-8 text (re-save the file as UTF-8)",
    )


def load_documents_from_bytes(raw: bytes, *, file: str = "<bytes>") -> list[LoadedDocument]:
    return load_documents_from_string(decode_text(raw, file=file), file=file)


def load_documents_from_string(text: str, file: str = "<string>") -> list[LoadedDocument]:
    """Every non-empty document of a YAML text (see `load_documents`)."""
    docs: list[LoadedDocument] = []
    check_aliases = "&" in text and "*" in text
    loader = _KubeLoader(text)
    try:
        index = 0
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
            except yaml.YAMLError as exc:
                raise _yaml_error(exc, file, text) from None
            if node is None:
                index += 1
                continue
            line = node.start_mark.line + 1
            try:
                data = _Builder(loader, file, check_aliases).build(node)
            except yaml.YAMLError as exc:
                raise _yaml_error(exc, file, text) from None
            except (TypeError, ValueError) as exc:  # e.g. an unhashable key
                raise YAMLInputError(f"cannot construct document: {exc}", file=file, line=line) from None
            if data is None:
                index += 1
                continue
            if not isinstance(data, dict):
                raise YAMLInputError(
                    f"document {index + 1} is a {_yaml_kind(data)}, expected a Kubernetes object",
                    file=file,
                    line=line,
                    value=data if isinstance(data, str | int | float | bool) else None,
                    allowed="a mapping with apiVersion, kind, metadata and spec",
                )
            span = (node.start_mark.index, node.end_mark.index)
            docs.append(LoadedDocument(data=data, file=file, index=index, line=line, _text=text, _span=span))
            index += 1
    finally:
        loader.dispose()
    return docs


def _yaml_kind(data: object) -> str:
    if isinstance(data, list):
        return "list"
    if isinstance(data, str):
        return "string"
    return type(data).__name__


def _yaml_error(exc: yaml.YAMLError, file: str, text: str = "") -> YAMLInputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    if isinstance(exc, yaml.reader.ReaderError) and text:
        pos = int(exc.position)
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        char = exc.character
        shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        return YAMLInputError(
            f"invalid YAML: character {shown} is not allowed at column {column}",
            file=file,
            line=line,
            column=column,
            value=exc.character,
            allowed="printable Unicode text (no control characters)",
        )
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if column is not None:
        message += f" at column {column}"
    if line is not None and text:
        source_line = text.split("\n", line)[line - 1] if text.count("\n") >= line - 1 else ""
        if "\t" in source_line[: (column or 1)]:
            message += "; tabs cannot be used for indentation in YAML, use spaces"
    return YAMLInputError(message, file=file, line=line, column=column, allowed="well-formed YAML")


class _Builder:
    """Node tree -> plain data in one pass, enforcing depth, duplicate-key and alias-expansion limits.

    Plain str/int/float/bool/null scalars are converted inline (the hot path); anything unusual
    (merge keys, explicit tags, binary, sexagesimal numbers) goes through PyYAML's SafeConstructor."""

    def __init__(self, loader: Any, file: str, check_aliases: bool) -> None:
        self.loader = loader
        self.file = file
        self.check_aliases = check_aliases
        self.memo: dict[int, Any] = {}
        self.expanded = 0

    def _limit(self, node: Any, message: str, allowed: str) -> YAMLInputError:
        return YAMLInputError(message, file=self.file, line=node.start_mark.line + 1, allowed=allowed)

    def build(self, node: Any, depth: int = 1) -> Any:
        if depth > MAX_DEPTH:
            raise self._limit(
                node,
                f"nesting deeper than {MAX_DEPTH} levels",
                f"at most {MAX_DEPTH} nested mappings/sequences",
            )
        if self.check_aliases:
            self.expanded += 1
            if self.expanded > MAX_EXPANDED_NODES:
                raise self._limit(
                    node,
                    f"document expands to more than {MAX_EXPANDED_NODES} nodes through aliases (alias bomb?)",
                    "few YAML aliases (*name); Kubernetes manifests rarely need them",
                )
        cls = type(node)
        tag = node.tag
        if cls is yaml.ScalarNode:
            value = node.value
            if tag == _STR_TAG:
                return value
            if tag == _INT_TAG and _SIMPLE_INT.match(value):
                return int(value)
            if tag == _FLOAT_TAG and _SIMPLE_FLOAT.match(value):
                return float(value)
            if tag == _BOOL_TAG:
                return value.lower() in ("yes", "true", "on", "y")
            if tag == _NULL_TAG:
                return None
            return self.loader.construct_object(node, deep=True)
        if self.check_aliases:
            node_id = id(node)
            if node_id in self.memo:
                # shared by an alias: count its size again (bounded), reuse the built object
                self._count(node, depth)
                return self.memo[node_id]
        if cls is yaml.MappingNode:
            if tag != _MAP_TAG:
                return self.loader.construct_object(node, deep=True)
            out: dict[Any, Any] = {}
            if self.check_aliases:
                self.memo[id(node)] = out
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    return self._fallback(node)
                key = self.build(key_node, depth + 1)
                if not isinstance(key, str):
                    # sigs.k8s.io/yaml turns every key into a JSON string (true -> "true", 1 -> "1")
                    key = _key_text(key)
                if key in out:
                    raise YAMLInputError(
                        f'duplicate key "{key}"',
                        file=self.file,
                        line=key_node.start_mark.line + 1,
                        column=key_node.start_mark.column + 1,
                        value=key,
                        allowed="each key once per mapping",
                    )
                out[key] = self.build(value_node, depth + 1)
            return out
        if cls is yaml.SequenceNode:
            if tag != _SEQ_TAG:
                return self.loader.construct_object(node, deep=True)
            seq: list[Any] = []
            if self.check_aliases:
                self.memo[id(node)] = seq
            seq.extend(self.build(child, depth + 1) for child in node.value)
            return seq
        return self.loader.construct_object(node, deep=True)

    def _count(self, node: Any, depth: int) -> None:
        stack: list[tuple[Any, int]] = [(node, depth)]
        while stack:
            current, d = stack.pop()
            self.expanded += 1
            if self.expanded > MAX_EXPANDED_NODES:
                raise self._limit(
                    current,
                    f"document expands to more than {MAX_EXPANDED_NODES} nodes through aliases (alias bomb?)",
                    "few YAML aliases (*name); Kubernetes manifests rarely need them",
                )
            if d > MAX_DEPTH:
                raise self._limit(
                    current,
                    f"nesting deeper than {MAX_DEPTH} levels",
                    f"at most {MAX_DEPTH} nested mappings/sequences",
                )
            if isinstance(current, yaml.MappingNode):
                stack.extend((v, d + 1) for _, v in current.value)
            elif isinstance(current, yaml.SequenceNode):
                stack.extend((c, d + 1) for c in current.value)

    def _fallback(self, node: Any) -> Any:
        """Merge keys (`<<: *base`): let PyYAML build the mapping, after the size check."""
        self._count(node, 1)
        return self.loader.construct_object(node, deep=True)


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, list | dict):
        raise ValueError(f"a mapping key must be a scalar, not a {type(key).__name__}")
    return str(key)


class _KubeDumper(_BaseDumper):  # type: ignore[misc]
    """Safe dumper that also quotes strings Go's YAML decoder would read as numbers (`1e3`)."""


_KubeDumper.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def dump_documents(objs: Iterable[Mapping[str, Any]]) -> str:
    """Multi-document YAML that `kubectl apply -f` accepts and that loads back equal."""
    return str(
        yaml.dump_all(
            [_plain(o) for o in objs],
            Dumper=_KubeDumper,
            sort_keys=False,
            default_flow_style=False,
            explicit_start=True,
            allow_unicode=True,
            width=1_000_000,
        )
    )


def _plain(obj: Any) -> Any:
    """Plain dict/list/scalars (StrEnum -> str) so the safe dumper accepts them."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, str):
        return str(obj)
    return obj


def iter_yaml_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named on the command line, and `*.yaml`/`*.yml` under directories (sorted, recursive)."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.is_file() and q.suffix in (".yaml", ".yml"))
        else:
            yield p
