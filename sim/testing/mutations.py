"""Mutation fuzzing of user inputs: Hypothesis strategies that take a valid document and break it.

`mutate_document(doc)` draws one `Mutant` of any JSON-like document (a scenario, a manifest, an
engine config, a sweep file, a REST body): one value replaced by a wrong type, an empty string, a
huge, NaN or infinite number, or a string with control characters (NUL included); a key dropped or
misspelled; a list where a mapping is expected (and the reverse); deep nesting; a duplicate key; a
raw control byte in the text; a document that is not a mapping. `Mutant.data` is the mutated data
(None when only the text can express it: duplicate keys, raw bytes) and `Mutant.text` the YAML
file to write (`Mutant.raw` its bytes).

    from sim.testing.mutations import mutate_document
    @given(mutate_document(my_doc))
    def test_my_loader_never_crashes(mutant): ...

`check_bad_input_or_clean_run` states the contract for `dsim run` (exit 2 with exactly one
`FILE:LINE: PATH: message` line and nothing written, or a clean run: exit 0 or 1 with no
error.txt from an exception); `export_counterexample` writes a failing mutant as files named after
the symptom, for a regression test (docs/property-testing.md)."""

from __future__ import annotations

import copy
import math
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from model.yamlio import dump_documents

PathT = tuple[str | int, ...]

MUTATION_KINDS = (
    "wrong_type",
    "empty_string",
    "number",
    "extreme_same_type",
    "control_characters",
    "drop_key",
    "misspell_key",
    "list_for_map",
    "map_for_list",
    "deep_nesting",
    "duplicate_key",
    "raw_control_byte",
    "not_a_mapping",
)
"""Every mutation `mutate_document` can draw (`kinds=` restricts it)."""

NUMBERS: tuple[Any, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    1e30,
    -1e30,
    1.0e300,
    2**64,
    -(2**63),
    -1,
    0,
    0.5,
    1e-300,
)
EXTREME_INTS: tuple[int, ...] = (0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, 10**12)
EXTREME_FLOATS: tuple[float, ...] = (0.0, -0.0, 1e-300, 1e-9, 1e9, 1e300, -1.5)
EXTREME_STRINGS: tuple[str, ...] = ("x" * 10_000, "é" * 100, "0", "-1", "1e400", "true", "null", " ")
CONTROL_STRINGS = (
    "\x00",
    "a\x00b",
    "\x01",
    "\x07bell",
    "line\nbreak",
    "\t",
    "\x7f",
    "\u2028",
    "\ufeff",
    "\x1b[31m",
)
WRONG_TYPES: tuple[Any, ...] = (0, 1.5, "text", True, None, [], {}, [1, 2], {"k": "v"})
RAW_BYTES = (b"\x00", b"\x01", b"\x7f", b"\xff", b"\x1b", b"\xc3")
DEEP = 120
"""Nesting for `deep_nesting` mutants: beyond model.yamlio.MAX_DEPTH (100) half the time."""


@dataclass(frozen=True)
class Mutant:
    """One broken document: what was done, where, the data (if expressible) and the file text."""

    kind: str
    path: str
    data: Any
    text: str
    raw: bytes

    def describe(self) -> str:
        return f"{self.kind} at {self.path or '<document>'}"


def all_paths(doc: Any, prefix: PathT = ()) -> list[PathT]:
    """Every path of a JSON-like tree (mapping keys and list indices), parents before children."""
    out: list[PathT] = []
    if isinstance(doc, Mapping):
        for key, value in doc.items():
            out.append((*prefix, str(key)))
            out.extend(all_paths(value, (*prefix, str(key))))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out.append((*prefix, i))
            out.extend(all_paths(value, (*prefix, i)))
    return out


def path_text(path: PathT) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _get(doc: Any, path: PathT) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _set(doc: Any, path: PathT, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _misspell(key: str, how: int) -> str:
    if len(key) < 2:
        return key + "x"
    how %= 5
    if how == 0:  # swap two neighbours
        i = max(0, len(key) // 2 - 1)
        return key[:i] + key[i + 1] + key[i] + key[i + 2 :]
    if how == 1:  # drop one character
        return key[:-1]
    if how == 2:  # double one
        return key + key[-1]
    if how == 3:  # wrong case
        return key[0].swapcase() + key[1:]
    return key.replace("a", "e", 1) if "a" in key else key + "s"


def _nest(value: Any, depth: int, as_list: bool) -> Any:
    for _ in range(depth):
        value = [value] if as_list else {"n": value}
    return value


def _dump(docs: Sequence[Any]) -> str:
    return dump_documents(docs) if all(isinstance(d, Mapping) for d in docs) else _dump_any(docs)


def _dump_any(docs: Sequence[Any]) -> str:
    import yaml

    return str(yaml.safe_dump_all(list(docs), sort_keys=False, allow_unicode=True, explicit_start=True))


@st.composite
def _mutant(draw: st.DrawFn, docs: Sequence[Any], index: int, kinds: Sequence[str]) -> Mutant:
    base = copy.deepcopy(list(docs))
    doc = base[index]
    paths = all_paths(doc)
    kind = draw(st.sampled_from(list(kinds)))
    map_paths = [p for p in paths if isinstance(p[-1], str)]
    dict_paths = [p for p in paths if isinstance(_get(doc, p), Mapping)]
    list_paths = [p for p in paths if isinstance(_get(doc, p), list)]
    if (kind in ("drop_key", "misspell_key") and not map_paths) or (
        kind == "list_for_map" and not dict_paths
    ):
        kind = "wrong_type"
    if kind == "map_for_list" and not list_paths:
        kind = "wrong_type"
    leaf_paths = [p for p in paths if isinstance(_get(doc, p), int | float | str)]
    if kind == "extreme_same_type" and not leaf_paths:
        kind = "number"
    if kind in ("wrong_type", "empty_string", "number", "control_characters", "deep_nesting") and not paths:
        kind = "not_a_mapping"
    where: PathT = ()
    raw: bytes | None = None
    value: Any
    if kind == "extreme_same_type":
        # the value keeps its type, so the mutant often passes the schema and runs
        where = draw(st.sampled_from(leaf_paths))
        current = _get(doc, where)
        if isinstance(current, bool):
            value = not current
        elif isinstance(current, int):
            value = draw(st.sampled_from(EXTREME_INTS))
        elif isinstance(current, float):
            value = draw(st.sampled_from(EXTREME_FLOATS))
        else:
            value = draw(st.sampled_from(EXTREME_STRINGS))
        _set(doc, where, value)
    elif kind in ("wrong_type", "empty_string", "number", "control_characters", "deep_nesting"):
        where = draw(st.sampled_from(paths))
        if kind == "wrong_type":
            current = _get(doc, where)
            value = draw(st.sampled_from([v for v in WRONG_TYPES if type(v) is not type(current)]))
        elif kind == "empty_string":
            value = ""
        elif kind == "number":
            value = draw(st.sampled_from(NUMBERS))
        elif kind == "control_characters":
            value = draw(st.sampled_from(CONTROL_STRINGS))
            current = _get(doc, where)
            if isinstance(current, str) and draw(st.booleans()):
                value = current + value
        else:
            value = _nest(_get(doc, where), draw(st.sampled_from([DEEP // 2, DEEP])), draw(st.booleans()))
        _set(doc, where, value)
    elif kind == "drop_key":
        where = draw(st.sampled_from(map_paths))
        del _get(doc, where[:-1])[where[-1]]
    elif kind == "misspell_key":
        where = draw(st.sampled_from(map_paths))
        parent = _get(doc, where[:-1])
        key = str(where[-1])
        new_key = _misspell(key, draw(st.integers(0, 4)))
        items = [(new_key if k == key else k, v) for k, v in parent.items()]
        parent.clear()
        parent.update(items)
    elif kind == "list_for_map":
        where = draw(st.sampled_from(dict_paths))
        value = _get(doc, where)
        _set(doc, where, draw(st.sampled_from([[dict(value)], list(value.values()), list(value)])))
    elif kind == "map_for_list":
        where = draw(st.sampled_from(list_paths))
        value = _get(doc, where)
        _set(doc, where, {str(i): v for i, v in enumerate(value)} if value else {"item": 1})
    elif kind == "not_a_mapping":
        replacement = draw(st.sampled_from(["list", "scalar", "null", "list_of_doc", "extra_scalar_doc"]))
        if replacement == "list":
            base[index] = list(doc.values()) if isinstance(doc, Mapping) else [doc]
        elif replacement == "scalar":
            base[index] = draw(st.sampled_from(["text", 5, 1.5, True]))
        elif replacement == "null":
            base[index] = None
        elif replacement == "list_of_doc":
            base[index] = [doc]
        else:
            base.append("just a string")
        doc = base[index]
    elif kind == "duplicate_key":
        text = _dump(base)
        keys = [k for k in (doc or {}) if isinstance(k, str)] if isinstance(doc, Mapping) else []
        if keys and index == len(base) - 1:
            key = draw(st.sampled_from(keys))
            value = draw(st.sampled_from(["1", "x", "{}", "[]"]))
            text = text.rstrip("\n") + f"\n{key}: {value}\n"
            where = (key,)
        else:  # a duplicate inside a flow mapping appended as its own document
            text += "---\n{a: 1, a: 2}\n"
        return Mutant(kind, path_text(where), None, text, text.encode("utf-8"))
    elif kind == "raw_control_byte":
        encoded = _dump(base).encode("utf-8")
        at = draw(st.integers(0, max(0, len(encoded) - 1)))
        raw = encoded[:at] + draw(st.sampled_from(RAW_BYTES)) + encoded[at:]
        return Mutant(kind, f"byte {at}", None, raw.decode("utf-8", "replace"), raw)
    text = _dump(base)
    raw = text.encode("utf-8")
    return Mutant(kind, path_text(where), base[index] if len(base) == len(docs) else base, text, raw)


def mutate_document(doc: Any, *, kinds: Sequence[str] = MUTATION_KINDS) -> st.SearchStrategy[Mutant]:
    """Mutants of one JSON-like document (the strategy other inputs reuse: engine configs, sweep
    files, REST bodies). `Mutant.data` is the mutated document, `Mutant.text`/`raw` its YAML file."""
    return mutate_documents([doc], kinds=kinds)


def mutate_documents(
    docs: Sequence[Any], *, kinds: Sequence[str] = MUTATION_KINDS
) -> st.SearchStrategy[Mutant]:
    """Mutants of a multi-document file: one document (drawn) is broken, the others kept."""
    unknown = sorted(set(kinds) - set(MUTATION_KINDS))
    if unknown:
        raise ValueError(f"unknown mutation kinds {unknown}; allowed: {', '.join(MUTATION_KINDS)}")
    if not docs:
        raise ValueError("nothing to mutate: no documents")
    return st.integers(0, len(docs) - 1).flatmap(lambda i: _mutant(docs, i, tuple(kinds)))


# --------------------------------------------------------------------------- the dsim run contract

BAD_INPUT_LINE = re.compile(
    r"^dsim run: (?P<file>.+?):(?P<line>[1-9][0-9]*): (?P<path>[^:]+?): (?P<message>\S.*)$"
)
"""`dsim run: FILE:LINE: PATH: message` (PATH may be a description such as `invalid YAML`)."""


def check_bad_input_or_clean_run(exit_code: int, output: str, out: Path) -> str | None:
    """None when `dsim run` kept its contract for bad or odd input; else the symptom, one line:
    exit 2 with exactly one well-formed line and nothing written, or exit 0/1 with no error.txt."""
    if exit_code == 2:
        lines = [line for line in output.splitlines() if line.strip()]
        if len(lines) != 1:
            return f"exit 2 with {len(lines)} lines of output instead of one"
        if "Traceback" in output:
            return "exit 2 with a traceback"
        if BAD_INPUT_LINE.match(lines[0]) is None:
            return f"exit 2 with a malformed line: {lines[0][:200]}"
        if out.exists():
            return "exit 2 but the output folder was written"
        return None
    if exit_code in (0, 1):
        error = out / "error.txt"
        if error.exists():
            last = error.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
            return f"run crashed: {last[0] if last else 'error.txt'}"
        if "Traceback" in output:
            return "a traceback on the terminal"
        return None
    return f"exit code {exit_code}"


def symptom_name(symptom: str) -> str:
    """A file-name slug for a symptom: `run crashed: ValueError: x` -> `run-crashed-valueerror-x`."""
    slug = re.sub(r"[^a-z0-9]+", "-", symptom.lower()).strip("-")
    return slug[:80].rstrip("-") or "symptom"


def export_counterexample(
    folder: Path, symptom: str, mutant: Mutant, *, target: str, context: Path | None = None
) -> Path:
    """Write a failing mutant as `folder/<symptom>/`: the mutated file as `target` (a path relative
    to the scenario folder, e.g. `manifests/x.yaml`), the rest of `context` (the scenario folder)
    beside it, and README.txt naming the symptom and the mutation, as `dsim check` exports its
    counterexamples as replayable scenarios."""
    dest = folder / symptom_name(symptom)
    if dest.exists():
        shutil.rmtree(dest)
    if context is not None:
        shutil.copytree(context, dest, ignore=shutil.ignore_patterns("traces", ".*"))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / target).parent.mkdir(parents=True, exist_ok=True)
    (dest / target).write_bytes(mutant.raw)
    (dest / "README.txt").write_text(
        f"symptom: {symptom}\nmutation: {mutant.describe()} of {target}\n"
        "reproduce: dsim run <the scenario in this folder> (copy traces/ from scenarios/ if it needs one)\n",
        encoding="utf-8",
    )
    return dest
