"""Fitting the step-time corrections from measured phase timings (`dsim calibrate fit/check`).

Input: the CSV format of the calibration material (`model,gpu,tp,prompt_tokens,batch_size,
output_tokens,prefill_ms,decode_ms_per_token`, repeats allowed). Procedure (docs/engines.md):

1. Repeats of one point (same model, GPU, tp, prompt, batch, output) are reduced to their median.
2. Points that are physically impossible are rejected: a prefill faster than the dense FLOPs at
   100% of peak, or a decode step faster than reading the weights at 100% of HBM bandwidth.
3. The step time is linear in the coefficients (`steptime.FEATURES`), so the fit is a bounded
   linear regression on *relative* residuals, with efficiencies <= 0.9 of peak (coefficient >=
   1/0.9) and overheads >= 0, each weighted solve done by Lawson-Hanson NNLS.
4. Robustness: the loss is the absolute relative error (the MAPE the check reports), minimised by
   iteratively reweighted least squares (weights 1/|r|), so the few implausible-but-possible
   points pull linearly, not quadratically.
5. The saturation of the step-wide quadratic term is chosen from `SATURATION_CANDIDATES` by that loss.

Terms the data cannot identify are pinned to their prior: the per-step overhead is only fitted when
the data has models with different layer counts (otherwise it is collinear with the per-layer
overhead, and the per-layer form is the one that transfers to another model), and the all-reduce
terms only when the data has tp > 1. With a single model, weight bytes per GPU and per-layer fixed
costs are also (nearly) collinear, so the HBM efficiency is held at or above
`MIN_MEMORY_EFFICIENCY` (a fit below it is redone with the efficiency pinned there).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.errors import InputError
from sim.engines.catalogue import ModelSpec
from sim.engines.hardware import Hardware, load_hardware
from sim.engines.steptime import (
    EFFICIENCY_FEATURES,
    FEATURES,
    Corrections,
    CorrectionValues,
    check_tp,
    kv_blocks_for,
    step_features,
)

L1_EPS = 0.01  # residuals below 1% weigh as 1% (keeps IRLS well conditioned)
ITERATIONS = 60
# no engine sustains more than 90% of a roofline peak (the calibration README calls > 90% implausible)
MAX_EFFICIENCY = 0.9
# Floor of the HBM efficiency when the data cannot identify it (one model only): a weight-streaming
# read sustains ~88% of the datasheet HBM bandwidth on A100-80GB (1.80 of 2.04 TB/s, NVIDIA developer
# forum "Trouble to reach peak bandwidth of A100", quoting ~90% as the best any kernel reaches), so a
# fitted efficiency far below that is the fit charging per-layer/per-step fixed costs to the weight
# bytes. With one model, bytes and layers are collinear, and that split mis-scales to a model with a
# different bytes-per-layer ratio (diagnosed on held-out BLOOM-176B data; docs/engines.md).
MIN_MEMORY_EFFICIENCY = 0.8

# the step-wide quadratic term's saturation (tokens) is chosen from these by the fit's own loss
SATURATION_CANDIDATES = (2048.0, 4096.0, 8192.0, 16384.0, 32768.0, 1e9)

COLUMNS = (
    "model",
    "gpu",
    "tp",
    "prompt_tokens",
    "batch_size",
    "output_tokens",
    "prefill_ms",
    "decode_ms_per_token",
)
_INT_COLUMNS = ("tp", "prompt_tokens", "batch_size", "output_tokens")
_FLOAT_COLUMNS = ("prefill_ms", "decode_ms_per_token")


@dataclass(frozen=True)
class Measurement:
    """One CSV row (`line` is its line in the file, for error messages and plots)."""

    model: str
    gpu: str
    tp: int
    prompt_tokens: int
    batch_size: int
    output_tokens: int
    prefill_ms: float
    decode_ms_per_token: float
    line: int = 0
    file: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else f"line {self.line}"

    @property
    def key(self) -> tuple[str, str, int, int, int, int]:
        return (self.model, self.gpu, self.tp, self.prompt_tokens, self.batch_size, self.output_tokens)


def read_measurements(path: str | Path) -> list[Measurement]:
    """Rows of a measurement CSV; any bad row is an InputError naming file, line and column."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("measurement file not found", file=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read measurement file: {exc.__class__.__name__}", file=where) from None
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise InputError("empty file: expected a CSV header and rows", file=where, allowed=",".join(COLUMNS))
    reader = csv.reader(lines)
    header = [h.strip() for h in next(reader)]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"missing column {missing[0]!r}", file=where, line=1, path="header", allowed=",".join(COLUMNS)
        )
    index = {name: header.index(name) for name in COLUMNS}
    rows: list[Measurement] = []
    for lineno, raw in enumerate(reader, start=2):
        if not raw or all(not cell.strip() for cell in raw):
            continue
        if len(raw) < len(header):
            raise InputError(
                f"row has {len(raw)} fields, the header has {len(header)}", file=where, line=lineno
            )
        values: dict[str, object] = {}
        for name in COLUMNS:
            cell = raw[index[name]].strip()
            if name in _INT_COLUMNS:
                try:
                    number = int(cell)
                except ValueError:
                    raise InputError(
                        f"not an integer: {cell!r}", file=where, line=lineno, path=f"column {name}"
                    ) from None
                if number < 1:
                    raise InputError(
                        f"must be >= 1, got {number}", file=where, line=lineno, path=f"column {name}"
                    )
                values[name] = number
            elif name in _FLOAT_COLUMNS:
                try:
                    real = float(cell)
                except ValueError:
                    raise InputError(
                        f"not a number: {cell!r}", file=where, line=lineno, path=f"column {name}"
                    ) from None
                if not math.isfinite(real) or real <= 0:
                    raise InputError(
                        f"must be a positive number, got {cell!r}",
                        file=where,
                        line=lineno,
                        path=f"column {name}",
                    )
                values[name] = real
            else:
                if not cell:
                    raise InputError("empty", file=where, line=lineno, path=f"column {name}")
                values[name] = cell
        rows.append(Measurement(line=lineno, file=where, **values))  # type: ignore[arg-type]
    if not rows:
        raise InputError("no data rows after the header", file=where)
    return rows


def group_medians(rows: Sequence[Measurement]) -> list[Measurement]:
    """One row per measured point, with the median of its repeats (sorted by key: deterministic)."""
    groups: dict[tuple[str, str, int, int, int, int], list[Measurement]] = {}
    for row in rows:
        groups.setdefault(row.key, []).append(row)
    out = []
    for key in sorted(groups):
        reps = groups[key]
        out.append(
            Measurement(
                *key,
                prefill_ms=float(np.median([r.prefill_ms for r in reps])),
                decode_ms_per_token=float(np.median([r.decode_ms_per_token for r in reps])),
                line=reps[0].line,
                file=reps[0].file,
            )
        )
    return out


# --------------------------------------------------------------------------- features of a row

ModelLookup = Callable[[Measurement], ModelSpec]


def check_row(model: ModelSpec, gpu: Hardware, row: Measurement) -> None:
    """tp divides the heads, and the weights fit in 90% of the GPUs' memory (the row was measured, so
    no activation reserve is charged here: the engine's own settings are unknown)."""
    check_tp(model, row.tp, where=row.where, field="column tp")
    kv_blocks_for(model, gpu, row.tp, 0.9, 0.0, 16, where=row.where)


def prefill_features(model: ModelSpec, gpu: Hardware, row: Measurement, saturation: float) -> list[float]:
    """Prefill of `batch` prompts of `prompt` tokens in one step (causal attention, no cache)."""
    b, s = row.batch_size, row.prompt_tokens
    return step_features(
        model, gpu, row.tp, b * s, b * s * s / 2, 0, 0, prefill_seqs=b, saturation=saturation
    )


def decode_features(model: ModelSpec, gpu: Hardware, row: Measurement) -> list[float]:
    """The mean decode iteration: `batch` sequences at the mean context prompt + output/2."""
    b = row.batch_size
    context = row.prompt_tokens + row.output_tokens / 2
    return step_features(model, gpu, row.tp, 0, 0, b, b * context)


def is_plausible(row: Measurement, xp: Sequence[float], xd: Sequence[float]) -> bool:
    """False when the row is physically impossible: its prefill is faster than the dense FLOPs at
    100% of peak, or its decode step faster than reading the weights at 100% of HBM bandwidth.
    Both columns of such a row come from one broken run, so the whole row is set aside."""
    i_pf, i_mem = FEATURES.index("prefill_compute"), FEATURES.index("memory")
    return row.prefill_ms / 1000.0 >= xp[i_pf] and row.decode_ms_per_token / 1000.0 >= xd[i_mem]


@dataclass(frozen=True)
class Design:
    """Feature rows (prefill and decode points stacked), targets in seconds, and what they are."""

    x: np.ndarray
    y: np.ndarray
    phase: tuple[str, ...]  # "prefill" | "decode"
    rows: tuple[Measurement, ...]
    plausible: np.ndarray  # bool mask


def build_design(points: Sequence[Measurement], lookup: ModelLookup, saturation: float) -> Design:
    xs: list[list[float]] = []
    ys: list[float] = []
    phase: list[str] = []
    rows: list[Measurement] = []
    plausible: list[bool] = []
    for row in points:
        model = lookup(row)
        gpu = load_hardware(row.gpu, where=row.where, field="column gpu")
        check_row(model, gpu, row)
        xp = prefill_features(model, gpu, row, saturation)
        xd = decode_features(model, gpu, row)
        xs += [xp, xd]
        ys += [row.prefill_ms / 1000.0, row.decode_ms_per_token / 1000.0]
        phase += ["prefill", "decode"]
        rows += [row, row]
        ok = is_plausible(row, xp, xd)
        plausible += [ok, ok]
    return Design(
        np.array(xs, dtype=float), np.array(ys, dtype=float), tuple(phase), tuple(rows), np.array(plausible)
    )


# --------------------------------------------------------------------------- solver


def nnls(a: np.ndarray, b: np.ndarray, max_iter: int = 500) -> np.ndarray:
    """min ||a x - b|| subject to x >= 0 (Lawson & Hanson 1974, active-set)."""
    n = a.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    w = a.T @ (b - a @ x)
    tol = 1e-10 * max(1.0, float(np.abs(w).max()) if n else 1.0)
    for _ in range(max_iter):
        if passive.all() or (w[~passive] <= tol).all():
            break
        j = int(np.argmax(np.where(passive, -np.inf, w)))
        passive[j] = True
        while True:
            z = np.zeros(n)
            idx = np.flatnonzero(passive)
            z[idx] = np.linalg.lstsq(a[:, idx], b, rcond=None)[0]
            if (z[idx] > 0).all():
                x = z
                break
            neg = idx[z[idx] <= 0]
            alpha = float(np.min(x[neg] / (x[neg] - z[neg])))
            x = x + alpha * (z - x)
            passive &= x > 1e-15
            x[~passive] = 0.0
        w = a.T @ (b - a @ x)
    return x


@dataclass(frozen=True)
class FitResult:
    values: CorrectionValues
    used: int  # points used (after the plausibility filter)
    rejected: tuple[Measurement, ...]  # points (row, phase) rejected as impossible
    loss: float = 0.0  # mean absolute relative error on the points used


def fit_values(
    design: Design,
    prior: CorrectionValues | None = None,
    *,
    fixed: frozenset[str] = frozenset(),
    saturation: float = 8192.0,
) -> FitResult:
    """Bounded least-absolute-relative-error fit of the coefficients (IRLS around NNLS)."""
    prior = prior or CorrectionValues()
    prior_c = np.array(prior.coefficients())
    lower = np.array([1.0 / MAX_EFFICIENCY if name in EFFICIENCY_FEATURES else 0.0 for name in FEATURES])
    mask = design.plausible
    if not mask.any():
        first = design.rows[0] if design.rows else None
        raise InputError(
            "no physically plausible rows to fit (every row is faster than the roofline at 100% of peak)",
            file=first.file if first else None,
        )
    x, y = design.x[mask], design.y[mask]
    free = np.array([name not in fixed and bool(np.any(x[:, i] > 0)) for i, name in enumerate(FEATURES)])
    base = np.where(free, lower, prior_c)  # fixed terms at their prior, free ones at their lower bound
    weights = np.ones(len(y))
    coef = base.copy()
    for _ in range(ITERATIONS):
        a = (x[:, free] / y[:, None]) * weights[:, None]
        target = ((y - x @ base) / y) * weights
        scale = np.linalg.norm(a, axis=0)
        scale[scale == 0] = 1.0
        d = nnls(a / scale, target) / scale
        new = base.copy()
        new[free] += d
        resid = (x @ new - y) / y
        # IRLS for the L1 loss on relative residuals (= the MAPE the check reports): weight 1/|r|
        new_w = 1.0 / np.sqrt(np.maximum(np.abs(resid), L1_EPS))
        converged = np.allclose(new, coef, rtol=1e-7, atol=1e-12)
        coef, weights = new, new_w
        if converged:
            break
    rejected = tuple(r for r, ok in zip(design.rows, design.plausible, strict=True) if not ok)
    resid = np.abs(x @ coef - y) / y
    return FitResult(
        CorrectionValues.from_coefficients(list(coef), saturation),
        int(mask.sum()),
        rejected,
        float(np.mean(resid)),
    )


def fit_corrections(
    rows: Sequence[Measurement], lookup: ModelLookup, *, per_gpu: bool = True, source: str = ""
) -> tuple[Corrections, list[FitResult]]:
    """Corrections fitted on `rows` (medians of repeats): `default` from all GPUs together, and one
    set per GPU in the data when `per_gpu`."""
    points = group_medians(rows)
    layer_counts = {lookup(p).layers for p in points}
    fixed = frozenset() if len(layer_counts) > 1 else frozenset({"step_overhead"})
    # bytes per layer tells weight reads from per-layer costs; one ratio in the data cannot
    bytes_per_layer = {round(lookup(p).weight_bytes / lookup(p).layers) for p in points}
    floor = len(bytes_per_layer) == 1

    def fit(design: Design, sat: float) -> FitResult:
        res = fit_values(design, fixed=fixed, saturation=sat)
        if floor and res.values.memory_efficiency < MIN_MEMORY_EFFICIENCY:
            prior = CorrectionValues(memory_efficiency=MIN_MEMORY_EFFICIENCY)
            res = fit_values(design, prior, fixed=fixed | {"memory"}, saturation=sat)
        return res

    candidates = [fit(build_design(points, lookup, sat), sat) for sat in SATURATION_CANDIDATES]
    best = min(candidates, key=lambda res: res.loss)  # first (smallest saturation) on ties
    saturation = best.values.quadratic_saturation_tokens
    results = [best]
    per: list[tuple[str, CorrectionValues]] = []
    if per_gpu:
        for gpu in sorted({p.gpu for p in points}):
            sub = [p for p in points if p.gpu == gpu]
            res = fit(build_design(sub, lookup, saturation), saturation)
            results.append(res)
            per.append((load_hardware(gpu).name, res.values))
    corrections = Corrections(results[0].values, tuple(per), source="fit", fitted_on=source)
    return corrections, results


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Prediction:
    row: Measurement
    prefill_ms: float
    decode_ms_per_token: float
    plausible: bool = True  # False: the row is physically impossible and left out of the MAPE


def predict(rows: Sequence[Measurement], lookup: ModelLookup, corrections: Corrections) -> list[Prediction]:
    out = []
    for row in rows:
        model = lookup(row)
        gpu = load_hardware(row.gpu, where=row.where, field="column gpu")
        check_row(model, gpu, row)
        values = corrections.for_gpu(gpu.name)
        coef = values.coefficients()
        xp = prefill_features(model, gpu, row, values.quadratic_saturation_tokens)
        xd = decode_features(model, gpu, row)
        pf = sum(c * v for c, v in zip(coef, xp, strict=True))
        dc = sum(c * v for c, v in zip(coef, xd, strict=True))
        out.append(Prediction(row, pf * 1000.0, dc * 1000.0, is_plausible(row, xp, xd)))
    return out


def mape(preds: Sequence[Prediction]) -> dict[str, float]:
    """Mean absolute percentage error of both columns over the plausible rows, in percent."""
    preds = [p for p in preds if p.plausible]
    if not preds:
        return {"prefill_ms": 0.0, "decode_ms_per_token": 0.0}
    pf = [abs(p.prefill_ms - p.row.prefill_ms) / p.row.prefill_ms for p in preds]
    dc = [abs(p.decode_ms_per_token - p.row.decode_ms_per_token) / p.row.decode_ms_per_token for p in preds]
    return {"prefill_ms": 100.0 * float(np.mean(pf)), "decode_ms_per_token": 100.0 * float(np.mean(dc))}


def leave_one_tp_out(rows: Sequence[Measurement], lookup: ModelLookup) -> dict[int, dict[str, float]]:
    """Fit on all TP degrees but one, check on the held-out one (every row, repeats included)."""
    out: dict[int, dict[str, float]] = {}
    for tp in sorted({r.tp for r in rows}):
        train = [r for r in rows if r.tp != tp]
        test = [r for r in rows if r.tp == tp]
        corrections, _ = fit_corrections(train, lookup)
        out[tp] = mape(predict(test, lookup, corrections))
    return out
