"""THE plotting module: report.html, `dsim diff` and notebooks all draw through these functions,
so a role has the same colour, the axes the same units and the markers the same meaning
everywhere.

Each figure puts simulated time on the x axis (seconds, or minutes for runs over 20 minutes), one
row per role in the pipeline's order, and a legend. Scaling decisions (writes of a role's replicas)
are marked ▲ (up) and ▼ (down) at the new value."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, MaxNLocator, NullFormatter

from sim.report.timeseries import E2E, TimeSeries

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, fixed order.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#8C564B",
    "#F0E442",
)
E2E_COLOUR = "#222222"
LOAD_COLOUR = "#9A9A9A"
DPI = 100


def role_colours(roles: Sequence[str]) -> dict[str, str]:
    """Colour per role, keyed by the role's position in the pipeline order (the same order in
    every figure of a run and of a diff)."""
    colours = {role: PALETTE[i % len(PALETTE)] for i, role in enumerate(r for r in roles if r != E2E)}
    colours[E2E] = E2E_COLOUR
    return colours


def _time_axis(sim_seconds: float) -> tuple[float, str]:
    """(divisor, label) for the x axis."""
    if sim_seconds > 20 * 60:
        return 60.0, "simulated time (min)"
    return 1.0, "simulated time (s)"


def _xy(ts: TimeSeries, role: str, column: str, div: float) -> tuple[list[float], list[float]]:
    times, values = ts.series(role, column)
    xs: list[float] = []
    ys: list[float] = []
    for t, v in zip(times, values):
        if v is not None:
            xs.append(t / div)
            ys.append(v)
    return xs, ys


def _roles(ts: TimeSeries, roles: Sequence[str] | None) -> list[str]:
    order = list(roles) if roles else list(ts.roles)
    return [r for r in order if r != E2E and r in ts.roles]


def _sim_seconds(ts: TimeSeries) -> float:
    return max((float(r["t"]) for r in ts.rows), default=0.0)  # type: ignore[arg-type]


def _scale_marks(ax: Axes, events: Sequence[Mapping[str, Any]], role: str, colour: str, div: float) -> int:
    ups = [e for e in events if e.get("role") == role and e["to"] > e["from"]]
    downs = [e for e in events if e.get("role") == role and e["to"] < e["from"]]
    if ups:
        ax.scatter(
            [float(e["t"]) / div for e in ups],
            [float(e["to"]) for e in ups],
            marker="^",
            s=46,
            color=colour,
            edgecolors="black",
            linewidths=0.6,
            zorder=5,
            label="scale up",
        )
    if downs:
        ax.scatter(
            [float(e["t"]) / div for e in downs],
            [float(e["to"]) for e in downs],
            marker="v",
            s=46,
            color="white",
            edgecolors=colour,
            linewidths=1.4,
            zorder=5,
            label="scale down",
        )
    return len(ups) + len(downs)


def _finish(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def plot_replicas(
    ts: TimeSeries,
    scale_events: Sequence[Mapping[str, Any]],
    path: Path,
    *,
    roles: Sequence[str] | None = None,
    title: str = "",
    faults: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Per role: ready (filled), spec (solid), desired (dashed), starting (dotted) replicas, with the
    load arriving at the role (grey, right axis), scaling decisions marked, and injected faults
    (red: a line for a one-off fault, a shaded band for a fault window, named on the top panel)."""
    order = _roles(ts, roles)
    colours = role_colours(order)
    div, xlabel = _time_axis(_sim_seconds(ts))
    n = max(1, len(order))
    fig, axes = plt.subplots(
        n, 1, figsize=(11, 2.5 * n + 0.9), sharex=True, squeeze=False, layout="constrained"
    )
    for ax, role in zip(axes[:, 0], order):
        c = colours[role]
        xs, ready = _xy(ts, role, "ready", div)
        ax.fill_between(xs, ready, step="post", color=c, alpha=0.22, linewidth=0)
        ax.step(xs, ready, where="post", color=c, linewidth=2.2, label="ready")
        xs, spec = _xy(ts, role, "spec", div)
        ax.step(xs, spec, where="post", color=c, linewidth=1.1, alpha=0.9, label="spec")
        xs, desired = _xy(ts, role, "desired", div)
        if desired:
            ax.step(
                xs,
                desired,
                where="post",
                color="black",
                linewidth=1.0,
                linestyle="--",
                label="desired (scaler)",
            )
        xs, starting = _xy(ts, role, "starting", div)
        if any(v > 0 for v in starting):
            ax.step(xs, starting, where="post", color=c, linewidth=1.2, linestyle=":", label="starting")
        _scale_marks(ax, scale_events, role, c, div)
        top = max([*ready, *spec, *desired, *starting, 1.0])
        ax.set_ylim(0, top * 1.45 + 0.5)  # headroom so the legend never hides a line
        _fault_marks(ax, faults, div, label_them=ax is axes[0, 0])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"{role}\nreplicas (pods)")
        ax.grid(True, alpha=0.3)
        ax2 = ax.twinx()
        lx, load = _xy(ts, role, "arrivals", div)
        interval = _interval(ts)
        lx, rate, window = _binned(lx, [v / interval for v in load], interval, span=_sim_seconds(ts), div=div)
        label = "arrivals" if window <= interval else f"arrivals ({window:g} s mean)"
        ax2.step(lx, rate, where="post", color=LOAD_COLOUR, linewidth=0.9, alpha=0.9, label=label)
        ax2.set_ylabel("arrivals (req/s)", color="#666666")
        ax2.tick_params(axis="y", colors="#666666")
        ax2.set_ylim(0, max([v / interval for v in load] + [1.0]) * 1.45)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8, ncol=6, framealpha=0.85)
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
    axes[-1, 0].set_xlabel(xlabel)
    fig.suptitle(title or "Replicas per role against load", fontsize=12)
    return _finish(fig, path)


FAULT_COLOUR = "#C0392B"


def _fault_marks(ax: Axes, faults: Sequence[Mapping[str, Any]], div: float, *, label_them: bool) -> None:
    labels: dict[float, list[str]] = {}
    for f in faults:
        labels.setdefault(float(f["t"]) / div, []).append(str(f.get("fault", "fault")))
        t = float(f["t"]) / div
        until = f.get("until")
        if until is not None:
            ax.axvspan(t, float(until) / div, color=FAULT_COLOUR, alpha=0.08, linewidth=0)
        else:
            ax.axvline(t, color=FAULT_COLOUR, linewidth=1.0, linestyle="-.", alpha=0.8)
    if label_them:  # above the top panel, clear of the legend; faults at one instant share a label
        for t, names in labels.items():
            ax.text(
                t,
                1.01,
                ", ".join(names),
                transform=ax.get_xaxis_transform(),
                rotation=35,
                va="bottom",
                ha="left",
                fontsize=7,
                color=FAULT_COLOUR,
                clip_on=False,
            )


def _binned(
    xs: list[float],
    ys: list[float],
    interval: float,
    points: int = 300,
    *,
    span: float | None = None,
    div: float = 1.0,
) -> tuple[list[float], list[float], float]:
    """Block means so a long run shows about `points` load steps instead of per-second noise.

    With `span` (the run's simulated seconds) the block length depends on the run only, so every
    series of a figure, sparse or not, is averaged over the same window and the legends agree;
    blocks are aligned on multiples of the window (x in display units of `div` seconds)."""
    n = (span / interval) if span else len(xs)
    size = max(1, round(n / points))
    if size == 1:
        return xs, ys, interval
    window = size * interval
    wx = window / div
    sums: dict[int, list[float]] = {}
    for x, y in zip(xs, ys):
        sums.setdefault(int(x / wx + 1e-9), []).append(y)
    keys = sorted(sums)
    return [k * wx for k in keys], [sum(sums[k]) / len(sums[k]) for k in keys], window


def _interval(ts: TimeSeries) -> float:
    times = sorted({float(r["t"]) for r in ts.rows[:50]})  # type: ignore[arg-type]
    return times[1] - times[0] if len(times) > 1 else 1.0


def plot_latency(ts: TimeSeries, path: Path, *, roles: Sequence[str] | None = None, title: str = "") -> Path:
    """Top: end-to-end p99 (solid) and p50 (dashed) of requests finishing in each interval. Below:
    per role, the p99 and p50 of the time requests spent at the role (queue plus service). Long runs
    are drawn as block means (the legend says over how many seconds)."""
    order = [r for r in _roles(ts, roles) if _xy(ts, r, "latency_p99", 1.0)[1]]
    colours = role_colours(_roles(ts, roles))
    div, xlabel = _time_axis(_sim_seconds(ts))
    interval = _interval(ts)
    fig, (ax, axr) = plt.subplots(
        2, 1, figsize=(11, 6.2), sharex=True, height_ratios=(1, 1.2), layout="constrained"
    )

    positives: dict[int, list[float]] = {id(ax): [], id(axr): []}

    def draw(target: Axes, role: str, colour: str, label: str, width: float) -> bool:
        drawn = False
        for column, style, lw, suffix in (
            ("latency_p99", "-", width, "p99"),
            ("latency_p50", "--", 1.0, "p50"),
        ):
            xs, ys = _xy(ts, role, column, div)
            if not ys:
                continue
            bx, by, window = _binned(xs, ys, interval, span=_sim_seconds(ts), div=div)
            mean = "" if window <= interval else f" ({window:g} s mean)"
            target.step(
                bx,
                by,
                where="post",
                color=colour,
                linestyle=style,
                linewidth=lw,
                label=f"{label} {suffix}{mean}",
            )
            positives[id(target)].extend(y for y in by if y > 0)
            drawn = True
        return drawn

    e2e = E2E in ts.roles and draw(ax, E2E, E2E_COLOUR, "end to end", 1.6)
    for role in order:
        draw(axr, role, colours[role], role, 1.3)
    for target, has, what in ((ax, e2e, "end-to-end latency (s)"), (axr, bool(order), "time at role (s)")):
        if not has:
            target.text(
                0.5,
                0.5,
                "no completed requests",
                transform=target.transAxes,
                ha="center",
                va="center",
                color="#666666",
            )
        else:
            target.legend(loc="upper left", fontsize=8, ncol=4, framealpha=0.85)
        target.set_ylabel(what)
        seen = positives[id(target)]
        if seen and max(seen) / min(seen) > 20:
            # A cold-start spike would flatten steady-state latency on a linear axis.
            target.set_yscale("log")
            target.set_ylim(min(seen) / 2, max(seen) * 3)
            target.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            target.yaxis.set_minor_formatter(NullFormatter())
            target.set_ylabel(f"{what}, log scale")
        else:
            target.set_ylim(0, max(target.get_ylim()[1], 0.001) * 1.3)
        target.grid(True, alpha=0.3, which="both")
    axr.set_xlabel(xlabel)
    fig.suptitle(
        title or "Latency end to end and per role (requests finishing in each interval)", fontsize=12
    )
    return _finish(fig, path)


def plot_queue(ts: TimeSeries, path: Path, *, roles: Sequence[str] | None = None, title: str = "") -> Path:
    """Requests waiting in front of each role, and requests dropped per interval."""
    order = _roles(ts, roles)
    colours = role_colours(order)
    div, xlabel = _time_axis(_sim_seconds(ts))
    fig, (ax, axd) = plt.subplots(
        2, 1, figsize=(11, 5.2), sharex=True, height_ratios=(3, 1.3), layout="constrained"
    )
    for role in order:
        xs, q = _xy(ts, role, "queue", div)
        ax.step(xs, q, where="post", color=colours[role], linewidth=1.3, label=role)
    ax.set_ylabel("queue depth (requests)")
    ax.set_ylim(0, max(ax.get_ylim()[1], 1.0) * 1.3)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, ncol=6, framealpha=0.85)
    width = _interval(ts) / div
    any_drop = False
    for role in order:
        xs, d = _xy(ts, role, "dropped", div)
        if any(v > 0 for v in d):
            axd.bar(xs, d, width=width, color=colours[role], alpha=0.8, label=role, align="edge")
            any_drop = True
    if not any_drop:
        axd.text(
            0.5,
            0.5,
            "no requests dropped",
            transform=axd.transAxes,
            ha="center",
            va="center",
            color="#666666",
        )
    else:
        axd.legend(loc="upper left", fontsize=8, ncol=6)
    axd.set_ylabel("dropped\n(requests)")
    axd.set_ylim(bottom=0)
    axd.set_xlabel(xlabel)
    axd.grid(True, alpha=0.3)
    fig.suptitle(title or "Queues in front of each role and drops", fontsize=12)
    return _finish(fig, path)


def plot_compare_replicas(
    ts_a: TimeSeries,
    ts_b: TimeSeries,
    path: Path,
    *,
    labels: tuple[str, str] = ("A", "B"),
    roles: Sequence[str] | None = None,
    title: str = "",
    faults: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Two runs on shared axes: per role, ready replicas of A (solid, filled) and B (dashed), spec
    replicas thin. Roles keep their colour; the line style tells the runs apart. `faults` (of run A)
    are marked as in `plot_replicas`."""
    order = list(roles) if roles else [r for r in ts_a.roles if r != E2E]
    order += [r for r in ts_b.roles if r != E2E and r not in order]
    colours = role_colours(order)
    div, xlabel = _time_axis(max(_sim_seconds(ts_a), _sim_seconds(ts_b)))
    n = max(1, len(order))
    fig, axes = plt.subplots(
        n, 1, figsize=(11, 2.3 * n + 0.9), sharex=True, squeeze=False, layout="constrained"
    )
    for ax, role in zip(axes[:, 0], order):
        c = colours[role]
        top = 1.0
        for ts, style, label in ((ts_a, "-", labels[0]), (ts_b, "--", labels[1])):
            if role not in ts.roles:
                continue
            xs, ready = _xy(ts, role, "ready", div)
            if style == "-":
                ax.fill_between(xs, ready, step="post", color=c, alpha=0.18, linewidth=0)
            ax.step(xs, ready, where="post", color=c, linestyle=style, linewidth=2.0, label=f"{label}: ready")
            xs, spec = _xy(ts, role, "spec", div)
            ax.step(
                xs,
                spec,
                where="post",
                color="#555555",
                linestyle=style,
                linewidth=0.9,
                label=f"{label}: spec",
            )
            top = max([top, *ready, *spec])
        ax.set_ylim(0, top * 1.45 + 0.5)
        _fault_marks(ax, faults, div, label_them=ax is axes[0, 0])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"{role}\nreplicas (pods)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8, ncol=4, framealpha=0.85)
    axes[-1, 0].set_xlabel(xlabel)
    fig.suptitle(title or f"Replicas: {labels[0]} (solid) vs {labels[1]} (dashed)", fontsize=12)
    return _finish(fig, path)


def plot_compare_latency(
    ts_a: TimeSeries, ts_b: TimeSeries, path: Path, *, labels: tuple[str, str] = ("A", "B"), title: str = ""
) -> Path:
    """End-to-end p50/p99 latency of two runs."""
    div, xlabel = _time_axis(max(_sim_seconds(ts_a), _sim_seconds(ts_b)))
    fig, ax = plt.subplots(figsize=(11, 3.8), layout="constrained")
    drawn = False
    for ts, style, label in ((ts_a, "-", labels[0]), (ts_b, "--", labels[1])):
        for col, colour in (("latency_p99", E2E_COLOUR), ("latency_p50", "#777777")):
            xs, ys = _xy(ts, E2E, col, div)
            if ys:
                ax.plot(xs, ys, color=colour, linestyle=style, linewidth=1.3, label=f"{label}: {col[-3:]}")
                drawn = True
    if not drawn:
        ax.text(
            0.5,
            0.5,
            "no completed requests",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#666666",
        )
    else:
        ax.legend(loc="upper left", fontsize=8, ncol=4)
    ax.set_ylabel("end-to-end latency (s)")
    ax.set_xlabel(xlabel)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.set_title(title or f"End-to-end latency: {labels[0]} (solid) vs {labels[1]} (dashed)", fontsize=12)
    return _finish(fig, path)


def plot_metrics(
    ts: TimeSeries, path: Path, *, roles: Sequence[str] | None = None, title: str = ""
) -> Path | None:
    """Per role, the metric values the autoscalers read (averaged over the role's pods, at each
    read), against the role's ready replicas (thin step, right axis). None when no scaler read a
    metric (nothing is drawn)."""
    columns = ts.metric_columns()
    order = [
        r for r in _roles(ts, roles) if any(any(v is not None for v in ts.series(r, c)[1]) for c in columns)
    ]
    if not order:
        return None
    colours = role_colours(_roles(ts, roles))
    div, xlabel = _time_axis(_sim_seconds(ts))
    styles = ("-", "--", ":", "-.")
    fig, axes = plt.subplots(
        len(order), 1, figsize=(11, 2.3 * len(order) + 0.9), sharex=True, squeeze=False, layout="constrained"
    )
    for ax, role in zip(axes[:, 0], order):
        c = colours[role]
        for i, column in enumerate(columns):
            xs, ys = _xy(ts, role, column, div)
            if ys:
                name = column.removeprefix("metric.")
                ax.plot(
                    xs,
                    ys,
                    color=c,
                    linestyle=styles[i % len(styles)],
                    marker=".",
                    markersize=3,
                    linewidth=1.2,
                    label=name,
                )
        ax.set_ylabel(f"{role}\nmetric value")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax2 = ax.twinx()
        rx, ready = _xy(ts, role, "ready", div)
        ax2.step(rx, ready, where="post", color=LOAD_COLOUR, linewidth=0.9, label="ready replicas")
        ax2.set_ylabel("ready (pods)", color="#666666")
        ax2.tick_params(axis="y", colors="#666666")
        ax2.set_ylim(0, max([*ready, 1.0]) * 1.45)
        ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8, ncol=4, framealpha=0.85)
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
    axes[-1, 0].set_xlabel(xlabel)
    fig.suptitle(title or "What the autoscalers read", fontsize=12)
    return _finish(fig, path)


SLO_COLOUR = "#B22222"


def plot_ttft_tpot(summary: Mapping[str, Any], path: Path, *, title: str = "") -> Path | None:
    """Time to first token and time per output token (p99 solid, p50 dashed) of the requests
    finishing in each window, with the SLO thresholds (red dashed), and, when the scenario sets an
    SLO, the attainment per window against its target. None when no request completed."""
    lot = summary.get("latency_over_time") or {}
    times = [float(t) for t in lot.get("t") or []]
    if not times or not any(v is not None for v in lot.get("ttft_p99") or []):
        return None
    slo = summary.get("slo") or {}
    thresholds = slo.get("thresholds") or {}
    window = float(lot.get("window_s") or 1.0)
    div, xlabel = _time_axis(float(summary.get("sim_seconds") or times[-1] + window))
    has_tpot = any(v is not None for v in lot.get("tpot_p99") or [])
    panels = [("ttft", "time to first token (s)")] + (
        [("tpot", "time per output token (s)")] if has_tpot else []
    )
    rows = len(panels) + (1 if slo.get("over_time") else 0)
    fig, axes = plt.subplots(
        rows, 1, figsize=(11, 2.6 * rows + 0.8), sharex=True, squeeze=False, layout="constrained"
    )
    xs = [t / div for t in times]
    for ax, (metric, ylabel) in zip(axes[:, 0], panels):
        seen: list[float] = []
        for q, style, lw in (("p99", "-", 1.8), ("p50", "--", 1.1)):
            ys = lot.get(f"{metric}_{q}") or []
            pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
            if not pts:
                continue
            ax.step(
                [p[0] for p in pts],
                [p[1] for p in pts],
                where="post",
                color=E2E_COLOUR,
                linestyle=style,
                linewidth=lw,
                label=f"{q} ({window:g} s window)",
            )
            seen.extend(p[1] for p in pts if p[1] > 0)
        th = thresholds.get(metric)
        if th:
            ax.axhline(
                float(th["seconds"]),
                color=SLO_COLOUR,
                linestyle="--",
                linewidth=1.2,
                label=f"SLO p{float(th['percentile']):g} ≤ {float(th['seconds']):g} s",
            )
            seen.append(float(th["seconds"]))
        if seen and max(seen) / max(min(seen), 1e-9) > 50:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            ylabel += ", log scale"
        else:
            ax.set_ylim(0, max([*seen, 0.001]) * 1.35)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(loc="upper left", fontsize=8, ncol=3, framealpha=0.85)
    if slo.get("over_time"):
        ax = axes[-1, 0]
        ot = slo["over_time"]
        ox = [float(w["t"]) / div for w in ot if w.get("attainment") is not None]
        oy = [100.0 * float(w["attainment"]) for w in ot if w.get("attainment") is not None]
        ax.fill_between(ox, oy, step="post", color="#009E73", alpha=0.25, linewidth=0)
        ax.step(
            ox, oy, where="post", color="#009E73", linewidth=1.6, label=f"attainment ({window:g} s window)"
        )
        target = slo.get("target")
        if target is None:
            pcts = [float(t["percentile"]) for t in thresholds.values() if t.get("percentile") is not None]
            target = min(pcts) / 100.0 if pcts else None
        if target is not None:
            ax.axhline(
                100.0 * float(target),
                color=SLO_COLOUR,
                linestyle="--",
                linewidth=1.2,
                label=f"target {float(target):.0%}",
            )
        ax.set_ylim(0, 105)
        ax.set_ylabel("SLO attainment (%)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower left", fontsize=8, ncol=2, framealpha=0.85)
    axes[-1, 0].set_xlabel(xlabel)
    fig.suptitle(title or "Time to first token, time per output token and SLO attainment", fontsize=12)
    return _finish(fig, path)


FIGURES: tuple[tuple[str, str], ...] = (
    ("replicas.png", "Replicas per role against load"),
    ("ttft_tpot.png", "Time to first token, time per output token and SLO attainment"),
    ("latency.png", "Latency"),
    ("queue.png", "Queues and drops"),
    ("metrics.png", "What the autoscalers read"),
    ("prediction.png", "Prediction: predicted against observed metric, and confidence"),
)
OPTIONAL_FIGURES = frozenset({"metrics.png", "ttft_tpot.png", "prediction.png"})
"""Drawn only when there is something to show (no autoscaler read a metric: no metrics.png)."""


def render_run_plots(
    folder: Path,
    ts: TimeSeries,
    scale_events: Sequence[Mapping[str, Any]],
    *,
    roles: Sequence[str] | None = None,
    name: str = "",
    faults: Sequence[Mapping[str, Any]] = (),
    summary: Mapping[str, Any] | None = None,
) -> list[Path]:
    """All PNGs of one run into `folder` (the names in FIGURES)."""
    prefix = f"{name}: " if name else ""
    ttft = (
        plot_ttft_tpot(summary, folder / "ttft_tpot.png", title=f"{prefix}TTFT, TPOT and SLO attainment")
        if summary
        else None
    )
    return [
        *([ttft] if ttft is not None else []),
        plot_replicas(
            ts,
            scale_events,
            folder / "replicas.png",
            roles=roles,
            title=f"{prefix}replicas per role against load",
            faults=faults,
        ),
        plot_latency(
            ts, folder / "latency.png", roles=roles, title=f"{prefix}latency per role and end to end"
        ),
        plot_queue(
            ts, folder / "queue.png", roles=roles, title=f"{prefix}queues in front of each role and drops"
        ),
        *(
            p
            for p in [
                plot_metrics(
                    ts, folder / "metrics.png", roles=roles, title=f"{prefix}what the autoscalers read"
                )
            ]
            if p is not None
        ),
    ]


def prediction_series(events: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """scaler -> its decision events that carry a prediction (BudAIScalers with predictionConfig.enabled)."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for e in events:
        if e.get("event") == "decision" and isinstance(e.get("prediction"), Mapping):
            out.setdefault(str(e.get("scaler", "")), []).append(e)
    return dict(sorted(out.items()))


def _bin_means(t: Sequence[float], ys: Sequence[float], width: float) -> tuple[list[float], list[float]]:
    """Means of `ys` per `width`-second bin of `t` (NaNs ignored; empty bins dropped)."""
    sums: dict[int, tuple[float, int]] = {}
    for ti, yi in zip(t, ys, strict=True):
        if yi != yi:  # NaN
            continue
        k = int(ti // width)
        s0, n0 = sums.get(k, (0.0, 0))
        sums[k] = (s0 + yi, n0 + 1)
    keys = sorted(sums)
    return [(k + 0.5) * width for k in keys], [sums[k][0] / sums[k][1] for k in keys]


def plot_prediction(events: Sequence[Mapping[str, Any]], path: Path, *, title: str = "") -> Path | None:
    """Per scaler with prediction enabled: the metric it observed and the value its predictor
    extrapolated `lookAhead` ahead (top), and the predictor's confidence with upstream's 0.7 gate and
    the share of decisions whose prediction was blended in (bottom). Long runs are averaged into
    about 600 bins; the metric axis is clipped to the observed range (a two-point trend at start-up
    can extrapolate far off). None when no scaler predicts."""
    series = prediction_series(events)
    if not series:
        return None
    t_max = max(float(e.get("t", 0.0)) for rows in series.values() for e in rows)
    div, xlabel = (3600.0, "simulated time (h)") if t_max > 6 * 3600 else _time_axis(t_max)
    width = max(10.0, round(t_max / 600.0 / 60.0) * 60.0)
    n = len(series)
    fig, axes = plt.subplots(
        2 * n,
        1,
        figsize=(11, 4.2 * n + 0.6),
        sharex=True,
        squeeze=False,
        height_ratios=[2.0, 1.0] * n,
        layout="constrained",
    )
    nan = float("nan")
    for i, (scaler, rows) in enumerate(series.items()):
        top, bottom = axes[2 * i][0], axes[2 * i + 1][0]
        p = [r["prediction"] for r in rows]
        t = [float(r.get("t", 0.0)) for r in rows]

        def col(key: str, p: list[Any] = p) -> list[float]:
            return [nan if x.get(key) is None else float(x[key]) for x in p]

        observed, predicted, conf = col("observed"), col("predictedValue"), col("confidence")
        used = [1.0 if x.get("used") else 0.0 for x in p]
        metric = next((str(x.get("metric")) for x in p if x.get("metric")), "metric")
        tb, ob = _bin_means(t, observed, width)
        top.plot([x / div for x in tb], ob, color="#444444", linewidth=0.8, label=f"observed {metric}")
        tb, pb = _bin_means(t, predicted, width)
        top.plot([x / div for x in tb], pb, color="#d62728", linewidth=1.0, label="predicted (look-ahead)")
        finite = [v for v in observed if v == v]
        if finite:
            top.set_ylim(min(0.0, min(finite)), max(finite) * 1.3 + 1e-9)
        top.set_ylabel(metric, fontsize=8)
        top.set_title(f"{scaler} (means over {width:g} s)", fontsize=9, loc="left")
        top.legend(loc="upper right", fontsize=7)
        tb, cb = _bin_means(t, conf, width)
        bottom.plot([x / div for x in tb], cb, color="#1f77b4", linewidth=0.9, label="confidence")
        tb, ub = _bin_means(t, used, width)
        bottom.fill_between(
            [x / div for x in tb], 0, ub, color="#2ca02c", alpha=0.25, step="mid", label="share blended in"
        )
        bottom.axhline(0.7, color="#999999", linestyle="--", linewidth=0.8, label="gate 0.7")
        bottom.set_ylim(0, 1.05)
        bottom.set_ylabel("confidence", fontsize=8)
        bottom.legend(loc="lower right", fontsize=7)
    axes[-1][0].set_xlabel(xlabel)
    if title:
        fig.suptitle(title, fontsize=10)
    return _finish(fig, path)


# --------------------------------------------------------------------------- notebooks: one run in detail


def plot_role_scaling(
    ts: TimeSeries,
    scale_events: Sequence[Mapping[str, Any]],
    path: Path,
    *,
    roles: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """Per role, two panels: replicas (ready filled, starting hatched on top of it, spec, desired
    dashed) with each scaling decision marked and numbered in event order (the numbers of
    `sim.report.analysis.scaling_decisions`, whose table gives each one's reason), and below it the
    load the role saw: arrivals (req/s) and requests queued in front of it."""
    order = _roles(ts, roles)
    colours = role_colours(order)
    div, xlabel = _time_axis(_sim_seconds(ts))
    interval = _interval(ts)
    n = max(1, len(order))
    fig, axes = plt.subplots(
        2 * n,
        1,
        figsize=(11, 3.3 * n + 0.9),
        sharex=True,
        squeeze=False,
        height_ratios=[2.2, 1.1] * n,
        layout="constrained",
    )
    numbered = [
        (i + 1, e) for i, e in enumerate(e for e in scale_events if e.get("type", "scale") == "scale")
    ]
    for k, role in enumerate(order):
        ax, axl = axes[2 * k, 0], axes[2 * k + 1, 0]
        c = colours[role]
        xs, ready = _xy(ts, role, "ready", div)
        ax.fill_between(xs, ready, step="post", color=c, alpha=0.22, linewidth=0)
        ax.step(xs, ready, where="post", color=c, linewidth=2.2, label="ready")
        xs, spec = _xy(ts, role, "spec", div)
        ax.step(xs, spec, where="post", color=c, linewidth=1.1, alpha=0.9, label="spec")
        xs, desired = _xy(ts, role, "desired", div)
        if desired:
            ax.step(xs, desired, where="post", color="black", linewidth=1.0, linestyle="--", label="desired")
        xs, starting = _xy(ts, role, "starting", div)
        if any(v > 0 for v in starting):
            ready_at = dict(zip(*_xy(ts, role, "ready", div)))
            base = [ready_at.get(x, 0.0) for x in xs]
            ax.fill_between(
                xs,
                base,
                [b + v for b, v in zip(base, starting)],
                step="post",
                facecolor="none",
                edgecolor=c,
                hatch="////",
                linewidth=0,
                label="starting (on top of ready)",
            )
        _scale_marks(ax, scale_events, role, c, div)
        for i, e in numbered:
            if e.get("role") == role:
                ax.annotate(
                    str(i),
                    (float(e["t"]) / div, float(e["to"])),
                    textcoords="offset points",
                    xytext=(0, 7 if e["to"] > e["from"] else -13),
                    ha="center",
                    fontsize=7,
                    color="#333333",
                )
        top = max([*ready, *spec, *desired, *[r + v for r, v in zip(ready, starting)], 1.0])
        ax.set_ylim(0, top * 1.5 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"{role}\nreplicas (pods)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8, ncol=7, framealpha=0.85)
        lx, load = _xy(ts, role, "arrivals", div)
        lx, rate, window = _binned(lx, [v / interval for v in load], interval, span=_sim_seconds(ts), div=div)
        label = "arrivals" if window <= interval else f"arrivals ({window:g} s mean)"
        axl.step(lx, rate, where="post", color=LOAD_COLOUR, linewidth=1.0, label=label)
        axl.set_ylabel(f"{role}\narrivals (req/s)", color="#555555")
        axl.set_ylim(0, max([*rate, 1.0]) * 1.35)
        axl.grid(True, alpha=0.3)
        axq = axl.twinx()
        qx, queue = _xy(ts, role, "queue", div)
        axq.step(qx, queue, where="post", color=c, linewidth=1.1, label="queued")
        axq.set_ylabel("queued (requests)", color=c)
        axq.set_ylim(0, max([*queue, 1.0]) * 1.35)
        h1, l1 = axl.get_legend_handles_labels()
        h2, l2 = axq.get_legend_handles_labels()
        axl.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8, ncol=2, framealpha=0.85)
    axes[-1, 0].set_xlabel(xlabel)
    fig.suptitle(title or "Per-role scaling: replicas, decisions and the load each role saw", fontsize=12)
    return _finish(fig, path)


# --------------------------------------------------------------------------- notebooks: runs side by side


def _role_panels(order: Sequence[str], extra: int = 0) -> tuple[Figure, list[Axes]]:
    n = max(1, len(order) + extra)
    fig, axes = plt.subplots(1, n, figsize=(max(11, 4.4 * n), 4.4), squeeze=False, layout="constrained")
    return fig, list(axes[0, :])


def _run_ticks(ax: Axes, labels: Sequence[str]) -> None:
    """Run labels under their bars: multi-line labels ("KPA\nupstream") stay horizontal."""
    ax.set_xticks(range(len(labels)))
    if any("\n" in label for label in labels):
        ax.set_xticklabels(labels, fontsize=7.5)
    else:
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_xlim(-0.7, len(labels) - 0.3)


def plot_cost_by_run(
    costs: Mapping[str, Mapping[str, float]],
    path: Path,
    *,
    roles: Sequence[str],
    bounds: Mapping[str, float] | None = None,
    incomplete: Sequence[str] = (),
    unit: str = "GPU-hours",
    title: str = "",
) -> Path:
    """One panel per role: what each run paid (bars in the role's colour, one per run) against the
    lower bound no scaler can beat (dashed line: the work the trace contains at peak throughput).
    Runs in `incomplete` (they left requests unfinished, so the bound does not apply) are hatched
    and labelled. Roles that cost nothing in `unit` in every run (e.g. CPU roles in GPU-hours) are
    left out."""
    runs = list(costs)
    colours = role_colours(roles)
    shown = [
        r for r in roles if any(costs[run].get(r, 0.0) > 0 for run in runs) or (bounds or {}).get(r, 0.0) > 0
    ]
    fig, axes = _role_panels(shown)
    for ax, role in zip(axes, shown):
        values = [costs[run].get(role, 0.0) for run in runs]
        bars = ax.bar(
            range(len(runs)), values, color=colours[role], alpha=0.85, edgecolor="black", linewidth=0.5
        )
        for bar, run in zip(bars, runs):
            if run in incomplete:
                bar.set_alpha(0.35)
                bar.set_hatch("xx")
        bound = (bounds or {}).get(role)
        if bound is not None:
            ax.axhline(bound, color="black", linestyle="--", linewidth=1.2, label=f"lower bound {bound:.2f}")
        for bar, v, run in zip(bars, values, runs):
            text = f"{v:.2f}" + (f"\n×{v / bound:.1f}" if bound else "")
            if run in incomplete:
                text += "\nunfinished"
            ax.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, v),
                textcoords="offset points",
                xytext=(0, 3),
                ha="center",
                fontsize=7,
            )
        ax.set_ylim(0, max([*values, bound or 0.0, 1e-9]) * 1.3)
        ax.set_ylabel(f"{role}: {unit}")
        ax.set_title(role, color=colours[role], fontsize=11)
        _run_ticks(ax, runs)
        ax.grid(True, axis="y", alpha=0.3)
        if bound is not None:
            ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title or f"{unit} per role and run, against the lower bound", fontsize=12)
    return _finish(fig, path)


def plot_latency_by_run(
    latency: Mapping[str, Mapping[str, Mapping[str, float | None]]],
    path: Path,
    *,
    roles: Sequence[str],
    percentiles: tuple[str, str] = ("p50", "p99"),
    title: str = "",
) -> Path:
    """One panel per role: time requests spent at the role (queue + service) per run, the lower
    percentile as a solid bar and the upper one hatched behind it (log scale when a panel spans
    more than a factor of 20: tails and medians differ by orders of magnitude)."""
    runs = list(latency)
    colours = role_colours(roles)
    fig, axes = _role_panels(roles)
    lo, hi = percentiles
    for ax, role in zip(axes, roles):
        c = colours[role]
        his = [latency[run].get(role, {}).get(hi) or 0.0 for run in runs]
        los = [latency[run].get(role, {}).get(lo) or 0.0 for run in runs]
        ax.bar(range(len(runs)), his, color="white", edgecolor=c, hatch="///", linewidth=1.0, label=hi)
        ax.bar(range(len(runs)), los, width=0.5, color=c, alpha=0.9, label=lo)
        for i, v in enumerate(his):
            ax.annotate(
                f"{v:.3g}", (i, v), textcoords="offset points", xytext=(0, 2), ha="center", fontsize=7
            )
        positive = [v for v in [*his, *los] if v > 0]
        if positive and max(positive) / min(positive) > 20:
            ax.set_yscale("log")
            ax.set_ylim(min(positive) / 2, max(positive) * 3)
            ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_ylim(0, max([*positive, 1e-3]) * 1.3)
        ax.set_ylabel(f"{role}: time at role (s)")
        ax.set_title(role, color=c, fontsize=11)
        _run_ticks(ax, runs)
        ax.grid(True, axis="y", alpha=0.3, which="both")
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title or f"Latency per role and run ({lo} solid, {hi} hatched)", fontsize=12)
    return _finish(fig, path)


def plot_actions_by_run(
    actions: Mapping[str, Mapping[str, tuple[int, int]]],
    dropped: Mapping[str, int],
    path: Path,
    *,
    roles: Sequence[str],
    title: str = "",
) -> Path:
    """Scaling actions (replica writes) per role and run, ups solid and downs hatched on top, and
    requests dropped per run in the last panel. Roles no run ever scaled are left out."""
    runs = list(actions)
    colours = role_colours(roles)
    shown = [r for r in roles if any(sum(actions[run].get(r, (0, 0))) > 0 for run in runs)]
    fig, axes = _role_panels(shown, extra=1)
    for ax, role in zip(axes, shown):
        c = colours[role]
        ups = [actions[run].get(role, (0, 0))[0] for run in runs]
        downs = [actions[run].get(role, (0, 0))[1] for run in runs]
        ax.bar(range(len(runs)), ups, color=c, alpha=0.9, edgecolor="black", linewidth=0.5, label="scale ups")
        ax.bar(
            range(len(runs)),
            downs,
            bottom=ups,
            color="white",
            edgecolor=c,
            hatch="\\\\\\",
            label="scale downs",
        )
        ax.set_ylim(0, max([u + d for u, d in zip(ups, downs)] + [1]) * 1.35)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"{role}: scaling actions (writes)")
        ax.set_title(role, color=c, fontsize=11)
        _run_ticks(ax, runs)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    ax = axes[-1]
    values = [dropped.get(run, 0) for run in runs]
    bars = ax.bar(range(len(runs)), values, color=E2E_COLOUR, alpha=0.8, label="dropped")
    for bar, v in zip(bars, values):
        ax.annotate(
            str(v),
            (bar.get_x() + bar.get_width() / 2, v),
            textcoords="offset points",
            xytext=(0, 2),
            ha="center",
            fontsize=7,
        )
    if not any(values):
        ax.text(0.5, 0.5, "no requests dropped", transform=ax.transAxes, ha="center", color="#666666")
    ax.set_ylim(0, max([*values, 1]) * 1.35)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("dropped (requests)")
    ax.set_title("end to end", color=E2E_COLOUR, fontsize=11)
    _run_ticks(ax, runs)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title or "Scaling actions per role, and requests dropped, per run", fontsize=12)
    return _finish(fig, path)


def plot_replicas_grid(
    runs: Mapping[str, TimeSeries],
    path: Path,
    *,
    roles: Sequence[str],
    rows: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """Small multiples: one row per role (`rows`, default every role of the pipeline order
    `roles`, which fixes the colours), one column per run; ready replicas filled and spec as a thin
    line. Rows share their y axis so runs compare at a glance."""
    labels = list(runs)
    colours = role_colours(roles)
    roles = list(rows) if rows is not None else list(roles)
    div, xlabel = _time_axis(max((_sim_seconds(ts) for ts in runs.values()), default=0.0))
    nr, nc = max(1, len(roles)), max(1, len(labels))
    fig, axes = plt.subplots(
        nr,
        nc,
        figsize=(max(11, 2.6 * nc), 2.2 * nr + 1.0),
        sharex=True,
        sharey="row",
        squeeze=False,
        layout="constrained",
    )
    for i, role in enumerate(roles):
        c = colours[role]
        top = max(
            [1.0]
            + [v for ts in runs.values() for col in ("ready", "spec") for v in _xy(ts, role, col, div)[1]]
        )
        for j, label in enumerate(labels):
            ax = axes[i, j]
            ts = runs[label]
            xs, ready = _xy(ts, role, "ready", div)
            ax.fill_between(xs, ready, step="post", color=c, alpha=0.3, linewidth=0)
            ax.step(xs, ready, where="post", color=c, linewidth=1.6, label="ready")
            xs, spec = _xy(ts, role, "spec", div)
            ax.step(xs, spec, where="post", color="#444444", linewidth=0.8, label="spec")
            ax.set_ylim(0, top * 1.25 + 0.5)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(True, alpha=0.3)
            if i == 0:
                ax.set_title(label, fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{role}\nreplicas (pods)", color=c)
            if i == nr - 1:
                ax.set_xlabel(xlabel, fontsize=8)
            if i == 0 and j == 0:
                ax.legend(loc="upper left", fontsize=7)
    fig.suptitle(title or "Replicas per role (rows) for each run (columns)", fontsize=12)
    return _finish(fig, path)


# --------------------------------------------------------------------------- notebooks: parameter sweeps


def plot_cold_start_sweep(
    sweeps: Mapping[str, Sequence[Mapping[str, float]]],
    path: Path,
    *,
    roles: Sequence[str],
    targets: Mapping[str, float],
    latency_label: str = "p95 time at role (s)",
    title: str = "",
) -> Path:
    """One column per swept role: above, the role's latency against its pods' model-load time
    (simulated seconds), with its target dashed and the cliff (the first load time that breaks
    it) marked; below, the scale-ups the role's scaler made. Each point is
    {"load_s", "latency", "scale_ups"}."""
    swept = [r for r in roles if r in sweeps]
    colours = role_colours(roles)
    n = max(1, len(swept))
    fig, axes = plt.subplots(
        2,
        n,
        figsize=(max(11, 5.5 * n), 6.4),
        squeeze=False,
        sharex="col",
        height_ratios=(2.2, 1.0),
        layout="constrained",
    )
    for k, role in enumerate(swept):
        c = colours[role]
        pts = sorted(sweeps[role], key=lambda p: p["load_s"])
        xs = [p["load_s"] for p in pts]
        lat = [p["latency"] for p in pts]
        ax, axu = axes[0, k], axes[1, k]
        ax.plot(xs, lat, color=c, marker="o", linewidth=1.8, label=f"{role} {latency_label}")
        target = targets.get(role)
        if target is not None:
            ax.axhline(target, color=c, linestyle="--", linewidth=1.2, label=f"target {target:g} s")
            cliff = next((x for x, v in zip(xs, lat) if v > target), None)
            if cliff is not None:
                ax.axvline(
                    cliff, color="#B22222", linestyle=":", linewidth=1.4, label=f"cliff: {cliff:g} s load"
                )
        ax.set_ylim(0, max([*lat, target or 0.0, 1e-3]) * 1.3)
        ax.set_ylabel(latency_label)
        ax.set_title(f"sweeping {role} model-load time", color=c, fontsize=11)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
        ups = [p["scale_ups"] for p in pts]
        width = (min(b - a for a, b in itertools.pairwise(xs)) if len(xs) > 1 else 10.0) * 0.6
        axu.bar(
            xs, ups, width=width, color=c, alpha=0.85, edgecolor="black", linewidth=0.5, label="scale ups"
        )
        axu.set_ylim(0, max([*ups, 1]) * 1.35)
        axu.yaxis.set_major_locator(MaxNLocator(integer=True))
        axu.set_ylabel(f"{role}: scale ups")
        axu.set_xlabel(f"{role} model-load time (simulated s)")
        axu.grid(True, axis="y", alpha=0.3)
        axu.legend(loc="upper left", fontsize=8)
    fig.suptitle(title or "Cold-start cliff: latency and scale-ups against model-load time", fontsize=12)
    return _finish(fig, path)
