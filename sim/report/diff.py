"""Two runs side by side (for example the same scenario under `upstream` and `corrected`): a
terminal table of the facts that differ and an HTML page with overlaid per-role figures."""

from __future__ import annotations

import html as _html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.report.html import CSS, fmt_num, img_tag
from sim.report.plots import plot_compare_latency, plot_compare_replicas, role_colours
from sim.report.render import check_run_folder
from sim.report.summary import read_summary
from sim.report.timeseries import read_timeseries


@dataclass(frozen=True)
class DiffRow:
    section: str
    label: str
    a: object
    b: object

    @property
    def differs(self) -> bool:
        return _norm(self.a) != _norm(self.b)


def _norm(value: object) -> object:
    if isinstance(value, float):
        return round(value, 6)
    return value


def _label(folder: Path, summary: Mapping[str, Any]) -> str:
    return f"{folder.name} ({summary.get('profile', '?')})"


def diff_rows(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[DiffRow]:
    """Every compared fact, in display order."""
    rows = [
        DiffRow("run", "scenario", a.get("scenario"), b.get("scenario")),
        DiffRow("run", "profile", a.get("profile"), b.get("profile")),
        DiffRow("run", "seed", a.get("seed"), b.get("seed")),
        DiffRow("run", "status", a.get("status"), b.get("status")),
        DiffRow("run", "digest", str(a.get("digest", ""))[:16], str(b.get("digest", ""))[:16]),
        DiffRow("run", "simulated seconds", a.get("sim_seconds"), b.get("sim_seconds")),
        DiffRow("run", "events", a.get("events"), b.get("events")),
    ]
    ra, rb = a.get("requests", {}), b.get("requests", {})
    for key in ("arrived", "completed", "dropped", "in_flight"):
        rows.append(DiffRow("requests", key, ra.get(key), rb.get(key)))
    la = a.get("latency", {}).get("e2e", {}) or {}
    lb = b.get("latency", {}).get("e2e", {}) or {}
    for key in sorted(set(la) | set(lb), key=lambda k: float(k[1:])):
        rows.append(DiffRow("requests", f"e2e latency {key} (s)", la.get(key), lb.get(key)))
    order = list(a.get("role_order", [])) + [
        r for r in b.get("role_order", []) if r not in a.get("role_order", [])
    ]
    for role in order:
        xa = a.get("roles", {}).get(role, {})
        xb = b.get("roles", {}).get(role, {})
        for key, label in (
            ("first_ready_s", "first Ready (s)"),
            ("replicas_min", "ready replicas min"),
            ("replicas_max", "ready replicas max"),
            ("scale_ups", "scale ups"),
            ("scale_downs", "scale downs"),
        ):
            rows.append(DiffRow(f"role {role}", label, xa.get(key), xb.get(key)))
        rows.append(DiffRow(f"role {role}", "scaler", scaler_kind(a, role), scaler_kind(b, role)))
        rows.append(
            DiffRow(
                f"role {role}",
                "latency p99 (s)",
                (xa.get("latency") or {}).get("p99"),
                (xb.get("latency") or {}).get("p99"),
            )
        )
    ea = {e["name"]: e for e in a.get("expectations", [])}
    eb = {e["name"]: e for e in b.get("expectations", [])}
    for name in [*ea, *(n for n in eb if n not in ea)]:
        pa = ea.get(name, {}).get("passed")
        pb = eb.get(name, {}).get("passed")
        rows.append(DiffRow("expectations", name, _pass(pa), _pass(pb)))
    rows.extend(answer_rows(a, b, order))
    qa, qb = a.get("quirks_triggered", {}), b.get("quirks_triggered", {})
    for q in sorted(set(qa) | set(qb)):
        if not qa.get(q) and not qb.get(q):
            continue  # enabled but never fired in either run
        rows.append(DiffRow("quirks triggered", q, qa.get(q, 0), qb.get(q, 0)))
    return rows


def answer_rows(a: Mapping[str, Any], b: Mapping[str, Any], order: list[str]) -> list[DiffRow]:
    """SLO attainment and goodput, cost against the lower bound, and findings of both runs."""
    rows: list[DiffRow] = []
    sa, sb = a.get("slo") or {}, b.get("slo") or {}
    if sa or sb:
        rows.append(DiffRow("SLO", "met", _yes(sa.get("met")), _yes(sb.get("met"))))
        rows.append(DiffRow("SLO", "attainment", _pct(sa.get("attainment")), _pct(sb.get("attainment"))))
        rows.append(DiffRow("SLO", "goodput (req/s)", sa.get("goodput_rps"), sb.get("goodput_rps")))
        for role in order:
            rows.append(
                DiffRow(
                    "SLO",
                    f"attainment {role}",
                    _pct((sa.get("roles") or {}).get(role)),
                    _pct((sb.get("roles") or {}).get(role)),
                )
            )
    ca, cb = a.get("cost") or {}, b.get("cost") or {}
    if ca or cb:
        rows.append(DiffRow("cost", "GPU-hours", ca.get("total_gpu_hours"), cb.get("total_gpu_hours")))
        for role in order:
            ga = (ca.get("gpu_hours") or {}).get(role)
            gb = (cb.get("gpu_hours") or {}).get(role)
            if ga or gb:
                rows.append(DiffRow("cost", f"GPU-hours {role}", ga, gb))
        idle_a = sum(float(v or 0) for v in (ca.get("idle_gpu_hours") or {}).values()) if ca else None
        idle_b = sum(float(v or 0) for v in (cb.get("idle_gpu_hours") or {}).values()) if cb else None
        rows.append(DiffRow("cost", "idle GPU-hours", idle_a, idle_b))
        rows.append(
            DiffRow(
                "cost",
                "lower bound GPU-hours",
                ca.get("lower_bound_gpu_hours"),
                cb.get("lower_bound_gpu_hours"),
            )
        )
        rows.append(DiffRow("cost", "efficiency", _pct(ca.get("efficiency")), _pct(cb.get("efficiency"))))
        if ca.get("amount") is not None or cb.get("amount") is not None:
            rows.append(
                DiffRow(
                    "cost",
                    f"amount ({ca.get('currency') or cb.get('currency')})",
                    ca.get("amount"),
                    cb.get("amount"),
                )
            )
    fa, fb = a.get("findings"), b.get("findings")
    if fa is not None or fb is not None:
        for sev in ("error", "warning", "info"):
            rows.append(
                DiffRow(
                    "findings",
                    f"{sev} findings",
                    sum(1 for f in fa or [] if f.get("severity") == sev),
                    sum(1 for f in fb or [] if f.get("severity") == sev),
                )
            )
        kinds = sorted({str(f.get("kind")) for f in [*(fa or []), *(fb or [])]})
        for kind in kinds:
            rows.append(
                DiffRow(
                    "findings",
                    kind,
                    _roles_of(fa or [], kind),
                    _roles_of(fb or [], kind),
                )
            )
    return rows


def _roles_of(findings: list[Mapping[str, Any]], kind: str) -> str:
    roles = sorted({str(f.get("role") or "pipeline") for f in findings if f.get("kind") == kind})
    return ", ".join(roles) if roles else "–"


def _yes(value: object) -> str:
    return "–" if value is None else ("yes" if value else "NO")


def _pct(value: object) -> str | None:
    return None if value is None else f"{float(value):.1%}"  # type: ignore[arg-type]


def scaler_kind(summary: Mapping[str, Any], role: str) -> str:
    """What drives `role` in a run (BudAIScaler <strategy>, Knative KPA, AIBrix KPA/APA, native HPA)."""
    from sim.report.refcompare import scaler_of

    return scaler_of(summary.get("autoscalers") or {}, role)


def _pass(value: object) -> str:
    if value is None:
        return "–"
    return "pass" if value else "FAIL"


def print_terminal(rows: list[DiffRow], label_a: str, label_b: str, *, only_diff: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    # A terminal gets its own width; a pipe or a file gets no wrapping at all (Rich would assume
    # 80 columns and cut long quirk names). Names never shrink to an ellipsis: they fold.
    probe = Console()
    console = probe if probe.is_terminal else Console(width=10_000)
    table = Table(title="dsim diff", show_lines=False)
    table.add_column("", style="dim", overflow="fold")
    table.add_column("fact", overflow="fold", min_width=12)
    table.add_column(label_a, justify="right", overflow="fold")
    table.add_column(label_b, justify="right", overflow="fold")
    last = ""
    for row in rows:
        if only_diff and not row.differs and row.section != "run":
            continue
        style = "bold yellow" if row.differs else ""
        section = row.section if row.section != last else ""
        last = row.section
        table.add_row(section, row.label, _cell(row.a), _cell(row.b), style=style)
    console.print(table)
    changed = sum(1 for r in rows if r.differs and r.section != "run")
    console.print(f"{changed} fact{'s' if changed != 1 else ''} differ (highlighted).")


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return fmt_num(value)
    return str(value)


def write_html(
    out: Path,
    rows: list[DiffRow],
    label_a: str,
    label_b: str,
    roles: list[str],
    findings: tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]] = ([], []),
) -> Path:
    from sim.report.html import findings_section

    findings_html = [
        f"<h2>Findings of A: {_html.escape(label_a)}</h2>",
        findings_section(findings[0]),
        f"<h2>Findings of B: {_html.escape(label_b)}</h2>",
        findings_section(findings[1]).replace('id="findings"', 'id="findings-b"'),
    ]
    colours = role_colours(roles)
    body = []
    last = ""
    for row in rows:
        sec = row.section if row.section != last else ""
        last = row.section
        role = row.section[5:] if row.section.startswith("role ") else ""
        sw = f'<span class="sw" style="background:{colours[role]}"></span>' if sec and role in colours else ""
        style = ' style="background:#fff4d6"' if row.differs else ""
        body.append(
            f"<tr{style}><td>{sw}{_html.escape(sec)}</td><td>{_html.escape(row.label)}</td>"
            f'<td class="num">{_html.escape(_cell(row.a))}</td><td class="num">{_html.escape(_cell(row.b))}</td></tr>'
        )
    page = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>dsim diff: {_html.escape(label_a)} vs {_html.escape(label_b)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_html.escape(label_a)} vs {_html.escape(label_b)}</h1>",
        "<p class='sub'>Highlighted rows differ. In the figures run A is solid, run B dashed; each role keeps its colour.</p>",
        f"<table><tr><th></th><th>fact</th><th>A: {_html.escape(label_a)}</th><th>B: {_html.escape(label_b)}</th></tr>",
        *body,
        "</table>",
        *findings_html,
        "<h2>Replicas per role</h2>",
        img_tag(out / "compare_replicas.png", "replicas"),
        "<h2>End-to-end latency</h2>",
        img_tag(out / "compare_latency.png", "latency"),
        "</body></html>",
    ]
    path = out / "diff.html"
    path.write_text("\n".join(page), encoding="utf-8")
    return path


def first_divergence(events_a: Path, events_b: Path) -> tuple[str, str] | None:
    """Where two event logs part: `line N, t=…: type actor verb kind/name` for each run (None when
    identical). Finds where a change of profile, seed or code first shows."""
    import json
    from itertools import zip_longest

    if not events_a.exists() or not events_b.exists():
        return None

    def describe(n: int, line: str | None) -> str:
        if line is None:
            return f"line {n}: (log ended)"
        e = json.loads(line)
        what = " ".join(
            str(e[k]) for k in ("type", "actor", "event", "verb", "kind", "name", "role") if e.get(k)
        )
        return f"line {n}, t={e.get('t')}: {what}"

    with events_a.open(encoding="utf-8") as fa, events_b.open(encoding="utf-8") as fb:
        for n, (la, lb) in enumerate(zip_longest(fa, fb), start=1):
            if la != lb:
                return describe(n, la), describe(n, lb)
    return None


def diff_runs(
    run_a: Path, run_b: Path, out: Path | None, *, only_diff: bool = False, quiet: bool = False
) -> Path | None:
    """Compare two run folders; print the table; write diff.html and figures into `out`."""
    check_run_folder(run_a)
    check_run_folder(run_b)
    sa, sb = read_summary(run_a / "summary.json"), read_summary(run_b / "summary.json")
    label_a, label_b = _label(run_a, sa), _label(run_b, sb)
    if label_a == label_b:
        label_a, label_b = f"A: {label_a}", f"B: {label_b}"
    rows = diff_rows(sa, sb)
    divergence = first_divergence(run_a / "events.jsonl", run_b / "events.jsonl")
    if divergence is not None:
        rows.insert(7, DiffRow("run", "first differing event", divergence[0], divergence[1]))
    from sim.report.lead import lead_and_cost

    rows += [DiffRow(*r) for r in lead_and_cost(run_a, run_b)]
    if not quiet:
        print_terminal(rows, label_a, label_b, only_diff=only_diff)
    if out is None:
        return None
    out.mkdir(parents=True, exist_ok=True)
    ta, tb = read_timeseries(run_a / "timeseries.csv"), read_timeseries(run_b / "timeseries.csv")
    roles = list(sa.get("role_order", [])) + [
        r for r in sb.get("role_order", []) if r not in sa.get("role_order", [])
    ]
    from sim.report.events import of_type, read_events

    faults = of_type(read_events(run_a / "events.jsonl"), "fault")
    plot_compare_replicas(
        ta, tb, out / "compare_replicas.png", labels=(label_a, label_b), roles=roles, faults=faults
    )
    plot_compare_latency(ta, tb, out / "compare_latency.png", labels=(label_a, label_b))
    return write_html(
        out, rows, label_a, label_b, roles, (list(sa.get("findings") or []), list(sb.get("findings") or []))
    )
