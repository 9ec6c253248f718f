"""YAML I/O: line numbers for paths, guards against hostile input, dump/load round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.errors import InputError, YAMLInputError
from model.yamlio import (
    dump_documents,
    join_path,
    load_documents,
    load_documents_from_bytes,
    load_documents_from_string,
    split_path,
)

TEXT = """\
# leading comment
apiVersion: scaler.bud.studio/v1alpha1
kind: DisaggregatedService
metadata:
  name: p
  annotations:
    scaler.bud.studio/x: "1"
spec:
  roles:
    - name: router
      roleType: Router
    - name: inference
      roleType: Inference
      dependsOn: [router, tokenizer]
---
---
apiVersion: v1
kind: Service
metadata: {name: s}
"""


def test_documents_lines_and_paths() -> None:
    docs = load_documents_from_string(TEXT, file="p.yaml")
    assert [(d.index, d.line, d.data["kind"]) for d in docs] == [
        (0, 2, "DisaggregatedService"),
        (2, 17, "Service"),
    ]
    first = docs[0]
    assert first.line_of("spec.roles[1].dependsOn[1]") == 14
    assert first.line_of("spec.roles[1].roleType") == 13
    assert first.line_of("metadata.annotations[scaler.bud.studio/x]") == 7
    assert first.line_of("spec.metricsSources") == 8  # missing: line of the deepest existing ancestor
    assert first.line_of("spec.roles[7].name") == 9
    assert docs[1].line_of("metadata.name") == 19


def test_paths_split_and_join() -> None:
    tokens = ["spec", "roles", 2, "dependsOn", 0]
    assert split_path("spec.roles[2].dependsOn[0]") == tokens
    assert join_path(tokens) == "spec.roles[2].dependsOn[0]"
    assert (
        join_path(["metadata", "labels", "app.kubernetes.io/name"])
        == "metadata.labels[app.kubernetes.io/name]"
    )
    assert split_path("metadata.labels[app.kubernetes.io/name]") == [
        "metadata",
        "labels",
        "app.kubernetes.io/name",
    ]


def test_scalars_resolve_like_kubernetes() -> None:
    (doc,) = load_documents_from_string(
        "a: 2024-01-01T00:00:00Z\nb: '3'\nc: 3\nd: 1.5\ne: true\nf: null\ng: 0x10\n"
    )
    assert doc.data == {
        "a": "2024-01-01T00:00:00Z",
        "b": "3",
        "c": 3,
        "d": 1.5,
        "e": True,
        "f": None,
        "g": 16,
    }


def test_merge_keys_and_small_aliases_work() -> None:
    (doc,) = load_documents_from_string("base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\nl: &l [1]\nk: *l\n")
    assert doc.data == {"base": {"x": 1}, "m": {"x": 1, "y": 2}, "l": [1], "k": [1]}


def _bomb(levels: int) -> str:
    text = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
    prev = "a"
    for i in range(levels):
        name = f"l{i}"
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]\n"
        prev = name
    return text


def test_alias_bomb_is_rejected_quickly() -> None:
    with pytest.raises(YAMLInputError) as info:
        load_documents_from_string(_bomb(9), file="bomb.yaml")
    assert "alias bomb" in str(info.value)
    assert str(info.value).startswith("bomb.yaml:")


def test_deep_nesting_rejected() -> None:
    with pytest.raises(YAMLInputError, match="nesting deeper than 100 levels"):
        load_documents_from_string("a: " + "[" * 101 + "]" * 101)
    assert load_documents_from_string("a: " + "[" * 98 + "]" * 98)[0].data["a"] is not None


def test_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 2000 + "\n")
    with pytest.raises(YAMLInputError) as info:
        load_documents(big, max_bytes=1000)
    assert "larger than the limit of 1000 bytes" in str(info.value)


def test_encodings() -> None:
    with pytest.raises(YAMLInputError) as info:
        load_documents_from_bytes(b"a: 1\nb: caf\xe9\n", file="x.yaml")
    assert str(info.value).startswith("x.yaml:2: not valid UTF-8 text")
    with pytest.raises(YAMLInputError, match="binary data"):
        load_documents_from_bytes(b"\x00\x01\x02", file="x.bin")
    (doc,) = load_documents_from_bytes("\ufeffa: é\n".encode("utf-16"), file="u16.yaml")
    assert doc.data == {"a": "é"}
    (doc,) = load_documents_from_bytes(b"\xef\xbb\xbfa: 1\n")
    assert doc.data == {"a": 1}


def test_syntax_error_carries_line_and_column() -> None:
    with pytest.raises(YAMLInputError) as info:
        load_documents_from_string("a: 1\n b: 2\n", file="s.yaml")
    err = info.value
    assert (err.file, err.line, err.column) == ("s.yaml", 2, 3)
    assert isinstance(err, InputError)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(YAMLInputError, match="no such file"):
        load_documents(tmp_path / "nope.yaml")
    with pytest.raises(YAMLInputError, match="is a directory"):
        load_documents(tmp_path)


def test_dump_round_trip_keeps_strings_that_look_like_other_types() -> None:
    objs = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s", "labels": {"v": "1.0", "on": "yes"}},
        },
        {
            "a": "2024-01-01",
            "b": "true",
            "c": "0x10",
            "d": "",
            "e": "multi\nline",
            "f": "null",
            "g": "~",
            "h": "1e3",
        },
    ]
    text = dump_documents(objs)
    assert text.startswith("---\napiVersion: v1\n")
    assert "h: '1e3'" in text  # Go's YAML decoder would read an unquoted 1e3 as a number
    assert [d.data for d in load_documents_from_string(text)] == objs


def test_non_string_keys_become_strings_like_kubernetes() -> None:
    (doc,) = load_documents_from_string("a: {1: x, true: y, null: z}\n")
    assert doc.data == {"a": {"1": "x", "true": "y", "null": "z"}}
    with pytest.raises(YAMLInputError, match='duplicate key "true"'):
        load_documents_from_string("a: {true: y, on: z}\n")
