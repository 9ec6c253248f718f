"""Run conformance vector files through the production decision functions.

Vectors are dispatched by `kind` to the adapters' HANDLERS (`sim.conformance.hpa`,
`sim.conformance.bud`). A kind no adapter registers is *skipped*, a handler that raises is a
*failure* carrying the exception text. Bad or missing files raise `VectorFileError` (an InputError:
the CLI prints it and exits 2).
"""

from __future__ import annotations

import fnmatch
import importlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import InputError
from sim.conformance.types import Handler, Vector, VectorResult

ADAPTER_MODULES: tuple[str, ...] = (
    "sim.conformance.hpa",
    "sim.conformance.bud",
    "sim.conformance.knative",
    "sim.conformance.aibrix",
    "sim.conformance.bud_learning",
)


class VectorFileError(InputError):
    """A vector file that cannot be read or does not have the documented shape."""


@dataclass(frozen=True)
class Failure:
    file: str
    vector_id: str
    kind: str
    detail: str
    expected: Any


@dataclass
class KindCount:
    passed: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass
class RunReport:
    kinds: dict[str, KindCount] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    """Adapter module -> why it could not be imported (its kinds are then skipped)."""

    @property
    def passed(self) -> int:
        return sum(k.passed for k in self.kinds.values())

    @property
    def failed(self) -> int:
        return sum(k.failed for k in self.kinds.values())

    @property
    def skipped(self) -> int:
        return sum(k.skipped for k in self.kinds.values())

    def summary(self) -> str:
        """The final line, exactly `N passed, M failed, K skipped`."""
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def load_handlers(modules: Sequence[str] = ADAPTER_MODULES) -> tuple[dict[str, Handler], dict[str, str]]:
    """Merge the HANDLERS of every adapter that imports; report the ones that do not."""
    handlers: dict[str, Handler] = {}
    unavailable: dict[str, str] = {}
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            unavailable[name] = f"{type(exc).__name__}: {exc}"
            continue
        handlers.update(getattr(module, "HANDLERS", {}))
    return handlers, unavailable


def load_vectors(path: str) -> list[Vector]:
    """The `vectors` list of one file, each checked to have an id and a kind."""
    p = Path(path)
    if not p.is_file():
        raise VectorFileError(
            "no such vector file" if not p.exists() else "not a file",
            file=path,
            allowed="a JSON file with a top-level `vectors` list",
        )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise VectorFileError(f"not UTF-8 text ({exc.reason})", file=path) from None
    except json.JSONDecodeError as exc:
        raise VectorFileError(
            f"invalid JSON: {exc.msg}", file=path, line=exc.lineno, column=exc.colno
        ) from None
    if not isinstance(data, Mapping) or not isinstance(data.get("vectors"), list):
        raise VectorFileError(
            "the file has no top-level `vectors` list",
            file=path,
            path="vectors",
            allowed='{"meta": {...}, "vectors": [{"id", "kind", "inputs", "expected"}, ...]}',
        )
    vectors: list[Vector] = []
    for n, v in enumerate(data["vectors"]):
        if not isinstance(v, Mapping) or not isinstance(v.get("kind"), str) or "id" not in v:
            raise VectorFileError(
                "a vector must be an object with string `kind` and an `id`",
                file=path,
                path=f"vectors[{n}]",
                value=v,
            )
        vectors.append(v)
    return vectors


def run_files(
    paths: Sequence[str],
    kind_glob: str | None = None,
    handlers: Mapping[str, Handler] | None = None,
) -> RunReport:
    """Evaluate every vector of every file (kinds filtered by `kind_glob`, fnmatch syntax)."""
    report = RunReport()
    if handlers is None:
        loaded, report.unavailable = load_handlers()
        handlers = loaded
    files = [(path, load_vectors(path)) for path in paths]  # all files load before anything runs
    for path, vectors in files:
        for vector in vectors:
            kind = str(vector["kind"])
            if kind_glob is not None and not fnmatch.fnmatchcase(kind, kind_glob):
                continue
            count = report.kinds.setdefault(kind, KindCount())
            handler = handlers.get(kind)
            if handler is None:
                count.skipped += 1
                continue
            try:
                result = handler(vector)
            except Exception as exc:  # a raising handler is a failure, reported with its text
                result = VectorResult(False, f"raised {type(exc).__name__}: {exc}")
            if result.passed:
                count.passed += 1
            else:
                count.failed += 1
                report.failures.append(
                    Failure(path, str(vector["id"]), kind, result.detail, vector.get("expected"))
                )
    return report
