"""DIR/report.html of a sweep: one self-contained file (PNG figures embedded, inline CSS, no
scripts), in the style of a run's report (sim/report/html.py).

- the Pareto front of cost (GPU-hours, or money) against quality (SLO attainment, maximised, or a
  latency percentile, minimised): every run a dot, the non-dominated ones joined by a step line;
- heatmaps of quality over each pair of parameters of a grid (mean over seeds and the other
  parameters);
- one marginal plot per parameter (mean cost and quality against its values);
- the best configurations: those meeting the SLO, cheapest first."""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.report.html import CSS, esc, fmt_num
from sim.sweep.plan import Plan

MAXIMISED = ("slo_attainment", "goodput_rps", "efficiency", "completed")
DONE = ("ok", "failed")


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _f(row: Mapping[str, Any], col: str) -> float:
    """A column known to be numeric (rows were filtered with `_num`)."""
    v = _num(row.get(col))
    return 0.0 if v is None else v


def objective_columns(plan: Plan, rows: Sequence[Mapping[str, Any]]) -> tuple[str, str, bool]:
    """(cost column, quality column, quality is maximised)."""
    obj = plan.loaded.sweep.objective
    quality = obj.quality
    if quality is None:
        has_att = any(_num(r.get("slo_attainment")) is not None for r in rows)
        quality = "slo_attainment" if has_att else "ttft_p99_s"
    maximise = quality in MAXIMISED or quality.endswith(".slo_attainment")
    return obj.cost, quality, maximise


def pareto_front(
    rows: Sequence[Mapping[str, Any]], cost: str, quality: str, maximise: bool
) -> list[Mapping[str, Any]]:
    """Rows no other row beats on both cost (lower) and quality, cheapest first."""
    pts = [
        r
        for r in rows
        if r.get("status") in DONE and _num(r.get(cost)) is not None and _num(r.get(quality)) is not None
    ]
    sign = -1.0 if maximise else 1.0
    pts.sort(key=lambda r: (_num(r.get(cost)), sign * (_num(r.get(quality)) or 0.0)))
    front: list[Mapping[str, Any]] = []
    best: float | None = None
    for r in pts:
        q = sign * (_num(r.get(quality)) or 0.0)
        if best is None or q < best:
            front.append(r)
            best = q
    return front


def best_rows(plan: Plan, rows: Sequence[Mapping[str, Any]], n: int = 10) -> list[Mapping[str, Any]]:
    """The cheapest rows meeting the SLO (or, without an SLO, the Pareto front)."""
    cost, quality, maximise = objective_columns(plan, rows)
    sign = -1.0 if maximise else 1.0
    if plan.loaded.sweep.slo:
        ok = [r for r in rows if r.get("meets_slo") is True and _num(r.get(cost)) is not None]
        ok.sort(key=lambda r: (_num(r.get(cost)), sign * (_num(r.get(quality)) or 0.0), r.get("point", 0)))
        return ok[:n]
    return pareto_front(rows, cost, quality, maximise)[:n]


def describe_row(plan: Plan, row: Mapping[str, Any], cost: str, quality: str) -> str:
    params = ", ".join(f"{p}={row.get(p)}" for p in plan.params)
    per_role = ", ".join(
        f"{role} {fmt_num(_num(row.get(f'{role}.gpu_hours')))}"
        for role in plan.roles
        if (_num(row.get(f"{role}.gpu_hours")) or 0.0) > 0
    )
    return (
        f"{params or '(base)'} (seed {row.get('seed')}, {row.get('profile')}): {cost} {fmt_num(_num(row.get(cost)))}"
        + (f" [{per_role}]" if per_role else "")
        + f", {quality} {fmt_num(_num(row.get(quality)))}"
    )


# --------------------------------------------------------------------------- figures


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return '<img alt="figure" src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode() + '">'


def _pareto_figure(rows: Sequence[Mapping[str, Any]], cost: str, quality: str, maximise: bool) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [
        r
        for r in rows
        if r.get("status") in DONE and _num(r.get(cost)) is not None and _num(r.get(quality)) is not None
    ]
    if not done:
        return "<p><em>No finished run reports both the cost and the quality column.</em></p>"
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    meets = [r.get("meets_slo") for r in done]
    colours = ["#1b7f3b" if m is True else ("#b3261e" if m is False else "#4c72b0") for m in meets]
    ax.scatter([_f(r, cost) for r in done], [_f(r, quality) for r in done], c=colours, s=28, alpha=0.8)
    front = pareto_front(done, cost, quality, maximise)
    ax.step(
        [_f(r, cost) for r in front],
        [_f(r, quality) for r in front],
        where="post",
        color="#222",
        lw=1.2,
        label="Pareto front",
    )
    ax.set_xlabel(cost)
    ax.set_ylabel(quality + (" (higher is better)" if maximise else " (lower is better)"))
    if not maximise and all((_num(r.get(quality)) or 0) > 0 for r in done):
        qs = [_num(r.get(quality)) or 1.0 for r in done]
        if max(qs) / max(min(qs), 1e-9) > 50:
            ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.set_title("cost against quality: green meets the SLO, red does not")
    return _png(fig)


def _grid_pairs(plan: Plan) -> list[tuple[str, str]]:
    if plan.loaded.sweep.sampling.method != "grid":
        return []
    varied = [p.column for p in plan.loaded.sweep.parameters if len(p.discrete() or []) > 1]
    pairs = [(a, b) for i, a in enumerate(varied) for b in varied[i + 1 :]]
    return pairs[:6]


def _mean_by(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], col: str
) -> dict[tuple[Any, ...], float]:
    sums: dict[tuple[Any, ...], list[float]] = {}
    for r in rows:
        v = _num(r.get(col))
        if r.get("status") not in DONE or v is None:
            continue
        sums.setdefault(tuple(r.get(k) for k in keys), []).append(v)
    return {k: sum(v) / len(v) for k, v in sums.items()}


def _values_of(plan: Plan, column: str) -> list[Any]:
    for p in plan.loaded.sweep.parameters:
        if p.column == column:
            vals = p.discrete()
            if vals is not None:
                return list(dict.fromkeys(vals))
    return []


def _heatmap(plan: Plan, rows: Sequence[Mapping[str, Any]], a: str, b: str, col: str) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    xs, ys = _values_of(plan, a), _values_of(plan, b)
    means = _mean_by(rows, (a, b), col)
    grid = np.full((len(ys), len(xs)), np.nan)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            if (x, y) in means:
                grid[i, j] = means[(x, y)]
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(xs), 1.0 + 0.6 * len(ys)))
    im = ax.imshow(grid, aspect="auto", origin="lower", cmap="viridis")
    ax.set_xticks(range(len(xs)), [str(x) for x in xs])
    ax.set_yticks(range(len(ys)), [str(y) for y in ys])
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    finite = grid[~np.isnan(grid)]
    lo = float(finite.min()) if finite.size else 0.0
    span = (float(finite.max()) - lo) if finite.size else 0.0
    for i in range(len(ys)):
        for j in range(len(xs)):
            if not np.isnan(grid[i, j]):
                light = (grid[i, j] - lo) > 0.6 * span  # viridis is light at the top
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.3g}",
                    ha="center",
                    va="center",
                    color="k" if light else "w",
                    fontsize=8,
                )
    fig.colorbar(im, ax=ax, label=f"mean {col}")
    return _png(fig)


def _marginal(plan: Plan, rows: Sequence[Mapping[str, Any]], param: str, cost: str, quality: str) -> str:
    import matplotlib.pyplot as plt

    done = [r for r in rows if r.get("status") in DONE and r.get(param) is not None]
    if not done:
        return ""
    numeric = all(_num(r.get(param)) is not None for r in done)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.0))
    for ax, col in zip(axes, (cost, quality)):
        pts = [(r.get(param), _num(r.get(col))) for r in done if _num(r.get(col)) is not None]
        if numeric:
            ax.scatter([_num(p) for p, _ in pts], [v for _, v in pts], s=14, alpha=0.5, color="#4c72b0")
            means = _mean_by(done, (param,), col)
            keys = sorted(means, key=lambda k: _num(k[0]) or 0.0)
            if len(keys) <= 50:
                ax.plot(
                    [_num(k[0]) for k in keys],
                    [means[k] for k in keys],
                    color="#222",
                    lw=1.2,
                    marker="o",
                    ms=3,
                )
        else:
            labels = sorted({str(p) for p, _ in pts})
            ax.scatter([labels.index(str(p)) for p, _ in pts], [v for _, v in pts], s=14, alpha=0.6)
            ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel(param)
        ax.set_ylabel(col)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)


# --------------------------------------------------------------------------- the page


def _table(plan: Plan, rows: Sequence[Mapping[str, Any]], cost: str, quality: str) -> str:
    cols = [
        *plan.params,
        "seed",
        "profile",
        "status",
        "meets_slo",
        cost,
        *[f"{r}.gpu_hours" for r in plan.roles if f"{r}.gpu_hours" != cost],
        quality,
        "ttft_p99_s",
        "e2e_p99_s",
        "dropped",
        "digest",
    ]
    cols = list(dict.fromkeys(cols))
    plain = {*plan.params, "seed", "point"}  # identifiers and set values: as written, no digit grouping
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            if c == "digest" and v:
                v = str(v)[:12] + "…"
            if c in plain or not isinstance(v, int | float):
                cells.append(f"<td>{esc(v)}</td>")
            else:
                cells.append(f'<td class="num">{fmt_num(v)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_report(plan: Plan, rows: Sequence[Mapping[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    sweep = plan.loaded.sweep
    cost, quality, maximise = objective_columns(plan, rows)
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r.get("status"))] = counts.get(str(r.get("status")), 0) + 1
    best = best_rows(plan, rows)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>sweep {esc(sweep.name)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Sweep {esc(sweep.name)}</h1>",
        f"<p class='sub'>{esc(sweep.description)}</p>",
        "<table class='kv'>",
        f"<tr><td>base scenario</td><td><code>{esc(sweep.base)}</code></td></tr>",
        f"<tr><td>sampling</td><td>{esc(sweep.sampling.method)}"
        + (f", {sweep.sampling.points} points, seed {sweep.seed}" if sweep.sampling.points else "")
        + "</td></tr>",
        f"<tr><td>points</td><td>{len(plan.runs)}"
        + (f" ({plan.dropped_by_constraints} dropped by constraints)" if plan.dropped_by_constraints else "")
        + "</td></tr>",
        f"<tr><td>rows</td><td>{esc(', '.join(f'{k}: {v}' for k, v in sorted(counts.items())))}</td></tr>",
        f"<tr><td>SLO</td><td><code>{esc(json.dumps(sweep.slo)) if sweep.slo else '(none)'}</code></td></tr>",
        f"<tr><td>code version</td><td><code>{esc(plan.code)}</code></td></tr>",
        "</table>",
        "<h2>Best configurations</h2>",
    ]
    if best:
        parts.append(
            "<p>"
            + ("Cheapest configurations meeting the SLO" if sweep.slo else "The Pareto front")
            + f", by {esc(cost)}:</p>"
        )
        parts.append(_table(plan, best, cost, quality))
    else:
        parts.append("<p><em>No finished configuration meets the SLO.</em></p>")
    parts.append(f"<h2>Pareto front: {esc(cost)} against {esc(quality)}</h2>")
    parts.append(_pareto_figure(rows, cost, quality, maximise))
    pairs = _grid_pairs(plan)
    if pairs:
        parts.append(f"<h2>Heatmaps of {esc(quality)}</h2><div class='grid'>")
        parts.extend(_heatmap(plan, rows, a, b, quality) for a, b in pairs)
        parts.append("</div>")
    if plan.params:
        parts.append("<h2>Marginals</h2>")
        for p in plan.params:
            parts.append(f"<h3>{esc(p)}</h3>" + _marginal(plan, rows, p, cost, quality))
    parts.append("<h2>Every run</h2>")
    parts.append(_table(plan, rows, cost, quality))
    bad = [r for r in rows if r.get("status") not in DONE]
    if bad:
        parts.append("<h2>Errors</h2><table><tr><th>point</th><th>status</th><th>error</th></tr>")
        parts.extend(
            f"<tr><td>{esc(r.get('point'))}</td><td>{esc(r.get('status'))}</td><td>{esc(r.get('error'))}</td></tr>"
            for r in bad
        )
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)


def write_report(plan: Plan, rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    from sim.sweep.engine import atomic_write

    atomic_write(path, render_report(plan, rows).encode("utf-8"))
