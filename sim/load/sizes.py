"""Request sizes from distributions, and request classes.

`size_drawer(spec, rng, trace_path)` turns a scenario `TokenSize` (an int or a `TokenDistribution`) into
a drawer of integer token counts; `classified(source, classes, seeds, traces)` gives each arrival a
request class (by weight, from the `workload-classes` stream) and the class's sizes (from the
`workload-sizes/<class>` stream), keeping the arrival's own sizes where the class sets none. Draws are made
in fixed-size chunks, so every sequence depends only on the seed and the configuration, and a class's
sizes never depend on how many requests other classes drew."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from model.scenario import RequestClass, TokenDistribution, TokenSize
from sim.load.arrivals import Arrival, TraceFormatError

_CHUNK = 1024
CLASS_STREAM = "workload-classes"
SIZE_STREAM = "workload-sizes"
"""Per class `workload-sizes/<name>`; the workload's own sizes (no classes) use `workload-sizes`."""


def size_stream(klass: str) -> str:
    return f"{SIZE_STREAM}/{klass}" if klass else SIZE_STREAM


class SizeDrawer:
    """Integer token counts from one distribution; `draw()` is O(1) amortized."""

    def __init__(
        self, spec: TokenSize, rng: np.random.Generator, trace_path: str | Path | None = None
    ) -> None:
        self.rng = rng
        self.buf: list[int] = []
        self.const: int | None = None
        self.values: np.ndarray | None = None
        if isinstance(spec, int):
            self.const = spec
            self.spec: TokenDistribution | None = None
            return
        self.spec = spec
        if spec.distribution == "constant":
            self.const = int(spec.value or 0)
        elif spec.distribution == "empirical":
            if trace_path is None:
                raise ValueError("an empirical size distribution needs its resolved trace path")
            self.values = empirical_values(trace_path, str(spec.column))
        self.lo = spec.min if spec.min is not None else 1
        self.hi = spec.max if spec.max is not None else np.iinfo(np.int64).max

    def draw(self) -> int:
        if self.const is not None:
            return self.const
        if not self.buf:
            self.buf = self._chunk()[::-1]
        return self.buf.pop()

    def _chunk(self) -> list[int]:
        spec = self.spec
        assert spec is not None
        rng = self.rng
        if spec.distribution == "lognormal":
            raw = (spec.median or 1.0) * np.exp((spec.sigma or 0.0) * rng.standard_normal(_CHUNK))
        elif spec.distribution == "normal":
            raw = rng.normal(spec.mean or 0.0, spec.stddev or 0.0, _CHUNK)
        else:
            assert self.values is not None
            raw = self.values[rng.integers(0, len(self.values), _CHUNK)].astype(float)
        out: list[int] = np.clip(np.rint(raw), self.lo, self.hi).astype(np.int64).tolist()
        return out


_AZURE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
_MOONCAKE_COLUMNS = ("input_length", "output_length")


def empirical_values(path: str | Path, column: str) -> np.ndarray:
    """The non-negative integer values of one column of a trace: a CSV with a header row (e.g. Azure's
    ContextTokens / GeneratedTokens) or JSON lines (e.g. Mooncake's input_length / output_length)."""
    p = Path(path)
    values: list[int] = []
    with open(p, encoding="utf-8") as fh:
        if p.suffix in (".jsonl", ".json"):
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    values.append(int(json.loads(line)[column]))
                except (ValueError, KeyError, TypeError):
                    raise TraceFormatError(
                        p, lineno, line.strip()[:80], f"a JSON object with an integer {column!r}"
                    ) from None
        else:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            if column not in header:
                raise TraceFormatError(p, 1, column, f"a column of the header: {', '.join(header)}")
            i = header.index(column)
            for lineno, row in enumerate(reader, start=2):
                if not row:
                    continue
                try:
                    values.append(int(row[i]))
                except (ValueError, IndexError):
                    raise TraceFormatError(p, lineno, ",".join(row)[:80], f"an integer {column!r}") from None
    if not values or min(values) < 0:
        raise TraceFormatError(p, 1, column, "at least one row and non-negative token counts")
    return np.asarray(values, dtype=np.int64)


def sized(
    source: Iterable[Arrival], inputs: SizeDrawer | None, outputs: SizeDrawer | None
) -> Iterator[Arrival]:
    """The same arrivals with sizes from the drawers (None keeps the arrival's own)."""
    for a in source:
        yield Arrival(
            a.t,
            inputs.draw() if inputs is not None else a.input_tokens,
            outputs.draw() if outputs is not None else a.output_tokens,
            a.klass,
        )


class _Chooser:
    """A request class by weight, from uniform draws in chunks."""

    def __init__(self, weights: Sequence[float], rng: np.random.Generator) -> None:
        total = math.fsum(weights)
        self.cum = np.cumsum(np.asarray(weights, dtype=float) / total)
        self.cum[-1] = 1.0
        self.rng = rng
        self.buf: list[int] = []

    def choose(self) -> int:
        if not self.buf:
            u = self.rng.random(_CHUNK)
            self.buf = np.searchsorted(self.cum, u, side="right").tolist()[::-1]
        return self.buf.pop()


def classified(
    source: Iterable[Arrival],
    classes: Sequence[RequestClass],
    stream: object,
    traces: Mapping[str, Path] | None = None,
) -> Iterator[Arrival]:
    """Each arrival gets a class by weight and the class's sizes. `stream(name)` returns the named seed
    stream (`Seeds.stream`); `traces[f"{i}.inputTokens"]` the resolved path of class i's empirical trace."""
    get = stream  # Seeds.stream
    traces = traces or {}
    chooser = _Chooser([c.weight for c in classes], get(CLASS_STREAM))  # type: ignore[operator]
    drawers: list[tuple[str, SizeDrawer | None, SizeDrawer | None]] = []
    for i, c in enumerate(classes):
        rng = get(size_stream(c.name))  # type: ignore[operator]
        inp = (
            None
            if c.input_tokens is None
            else SizeDrawer(c.input_tokens, rng, traces.get(f"{i}.inputTokens"))
        )
        out = (
            None
            if c.output_tokens is None
            else SizeDrawer(c.output_tokens, rng, traces.get(f"{i}.outputTokens"))
        )
        drawers.append((c.name, inp, out))
    for a in source:
        name, inp, out = drawers[chooser.choose()]
        yield Arrival(
            a.t,
            inp.draw() if inp is not None else a.input_tokens,
            out.draw() if out is not None else a.output_tokens,
            name,
        )
