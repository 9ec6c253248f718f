"""Validate manifest files: load (safe, bounded), admit (schema + webhook rules), lint.

The engine behind `dsim validate`; returns data, formatting is the command's business."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from model.admission import admit
from model.errors import FieldIssue, InputError
from model.lints import lint
from model.registry import CLUSTER_SCOPED_KINDS
from model.yamlio import LoadedDocument, iter_yaml_files, load_documents


@dataclass
class ObjectResult:
    """One object of one file and everything wrong with it (issues carry their line)."""

    file: str
    index: int
    line: int
    kind: str
    namespace: str
    name: str
    issues: list[FieldIssue] = field(default_factory=list)

    @property
    def errors(self) -> list[FieldIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[FieldIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ref(self) -> str:
        """`kind/namespace/name` (cluster-scoped: `kind/name`)."""
        return (
            f"{self.kind}/{self.name}" if not self.namespace else f"{self.kind}/{self.namespace}/{self.name}"
        )

    def status(self) -> str:
        return "error" if self.errors else ("warning" if self.warnings else "ok")


@dataclass
class ValidationReport:
    objects: list[ObjectResult] = field(default_factory=list)
    file_errors: list[InputError] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return len(self.file_errors) + sum(len(o.errors) for o in self.objects)

    @property
    def warning_count(self) -> int:
        return sum(len(o.warnings) for o in self.objects)

    def failed(self, strict: bool = False) -> bool:
        return self.error_count > 0 or (strict and self.warning_count > 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "objects": [
                {
                    "file": o.file,
                    "index": o.index,
                    "line": o.line,
                    "kind": o.kind,
                    "namespace": o.namespace,
                    "name": o.name,
                    "status": o.status(),
                    "issues": [
                        {
                            "path": i.path,
                            "line": i.line,
                            "severity": i.severity,
                            "message": i.message,
                            "value": i.value if isinstance(i.value, str | int | float | bool) else None,
                        }
                        for i in o.issues
                    ],
                }
                for o in self.objects
            ],
            "fileErrors": [
                {"file": e.file, "line": e.line, "column": e.column, "path": e.path, "message": e.message}
                for e in self.file_errors
            ],
            "summary": {
                "objects": len(self.objects),
                "errors": self.error_count,
                "warnings": self.warning_count,
            },
        }


def validate_object(
    obj: Mapping[str, Any], doc: LoadedDocument | None = None, prefix: str = ""
) -> list[FieldIssue]:
    """Admission errors then lint warnings, each with its line when a document is given."""
    issues = admit(obj) + lint(obj)
    if doc is None:
        return issues
    out = []
    for issue in issues:
        full = f"{prefix}.{issue.path}" if prefix and issue.path else (prefix or issue.path)
        out.append(issue.with_line(doc.line_of(full)))
    return out


def validate_manifest(
    doc: LoadedDocument, obj: Mapping[str, Any], prefix: str = "", line: int | None = None
) -> ObjectResult:
    """One object of a loaded document (at `prefix`: `items[3]` of a List, `manifests[0].inline` of a
    scenario) checked as `dsim validate` checks it; every issue carries the line of its own field.
    `dsim run` checks a scenario's manifests through this same function."""
    return _result(doc, obj, prefix, line)


def document_objects(doc: LoadedDocument) -> list[tuple[Mapping[str, Any], str, int | None]]:
    """The objects of one document as `(object, prefix, line)`: a `v1 List` gives its items."""
    data = doc.data
    if data.get("apiVersion") == "v1" and data.get("kind") == "List" and isinstance(data.get("items"), list):
        return [
            (item, f"items[{i}]", doc.line_of(f"items[{i}]"))
            for i, item in enumerate(data["items"])
            if isinstance(item, Mapping)
        ]
    return [(data, "", None)]


def _result(doc: LoadedDocument, obj: Mapping[str, Any], prefix: str, line: int | None) -> ObjectResult:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    kind = str(obj.get("kind") or "<no kind>")
    default_ns = "" if kind in CLUSTER_SCOPED_KINDS else "default"
    name = meta.get("name") or meta.get("generateName") or "<no name>"
    return ObjectResult(
        file=doc.file,
        index=doc.index,
        line=line or doc.line,
        kind=kind,
        namespace=str(meta.get("namespace") or default_ns),
        name=str(name),
        issues=validate_object(obj, doc, prefix),
    )


def validate_documents(docs: Iterable[LoadedDocument], report: ValidationReport) -> None:
    for doc in docs:
        for obj, prefix, line in document_objects(doc):
            report.objects.append(validate_manifest(doc, obj, prefix, line))


def validate_paths(paths: Iterable[str | os.PathLike[str]]) -> ValidationReport:
    """Validate every YAML file named (directories: every *.yaml/*.yml below, sorted)."""
    report = ValidationReport()
    for path in iter_yaml_files(paths):
        try:
            docs = load_documents(path)
        except InputError as exc:
            report.file_errors.append(exc)
            continue
        validate_documents(docs, report)
    return report
