"""report.html: one self-contained file (images embedded as base64 PNG, inline CSS, no scripts),
readable in any browser without Python or network."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.report.plots import FIGURES, OPTIONAL_FIGURES, role_colours

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;color:#1d1d1d;padding:0 16px}
h1{font-size:1.6em;margin-bottom:.1em} h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.sub{color:#555;margin-top:0} table{border-collapse:collapse;margin:.5em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:4px 9px;text-align:left;vertical-align:top} th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:3px 10px;border-radius:4px;color:#fff;font-weight:600}
.pass{background:#1b7f3b}.fail{background:#b3261e}.error{background:#7a4a00}
.ok{color:#1b7f3b;font-weight:600}.bad{color:#b3261e;font-weight:600}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:middle}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
pre{background:#f7f7f7;padding:10px;overflow-x:auto;font-size:.85em;max-height:480px}
.kv td:first-child{color:#555;white-space:nowrap} code{font-size:.92em}
.grid{display:flex;gap:28px;flex-wrap:wrap}
.findings{list-style:none;padding:0;margin:.4em 0}
.findings li{border-left:5px solid #999;background:#fafafa;padding:6px 10px;margin:6px 0}
.findings li.error{border-color:#b3261e;background:#fdf0ef}.findings li.warning{border-color:#c77700;background:#fff7e6}
.findings li.info{border-color:#2a6fb0;background:#eef5fc}
.findings .sev{font-weight:700;text-transform:uppercase;font-size:.8em;margin-right:6px}
.findings .hint{color:#555;font-size:.9em}.findings .ev{color:#666;font-size:.85em}
.badge.warn{background:#c77700}
.headline{display:flex;gap:18px;flex-wrap:wrap;margin:.6em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:150px}
.card .big{font-size:1.5em;font-weight:700}.card .lbl{color:#555;font-size:.85em}
"""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def fmt_num(value: object, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e12:
            return f"{int(value):,}"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return esc(value)


def img_tag(path: Path, alt: str) -> str:
    if not path.exists():
        return f"<p><em>{esc(alt)}: figure missing</em></p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def status_badge(summary: Mapping[str, Any]) -> str:
    """The expectations' badge with a findings badge beside it: a run whose expectations hold but
    which has error findings never shows a lone green badge."""
    status = summary.get("status", "ok")
    if status == "error":
        return '<span class="badge error">ERROR</span>'
    failed = [e for e in summary.get("expectations", []) if not e.get("passed")]
    if failed:
        head = f'<span class="badge fail">{len(failed)} EXPECTATION{"S" if len(failed) > 1 else ""} FAILED</span>'
    else:
        head = '<span class="badge pass">ALL EXPECTATIONS HOLD</span>'
    return head + " " + findings_badge(summary.get("findings") or [])


def findings_badge(findings: Sequence[Mapping[str, Any]]) -> str:
    errors = sum(1 for f in findings if f.get("severity") == "error")
    warnings = sum(1 for f in findings if f.get("severity") == "warning")
    if errors:
        return f'<span class="badge fail" id="findings-badge">{errors} ERROR FINDING{"S" if errors > 1 else ""}</span>'
    if warnings:
        return f'<span class="badge warn" id="findings-badge">{warnings} WARNING{"S" if warnings > 1 else ""}</span>'
    return '<span class="badge pass" id="findings-badge">NO FINDINGS</span>'


def findings_section(findings: Sequence[Mapping[str, Any]]) -> str:
    """The findings, most severe first: what went wrong, when, the numbers and what to try."""
    if not findings:
        return '<p id="findings"><em>No findings: no flapping, saturation, stuck scaler, stranded backlog, scale-up lag, SLO breach or over-provisioning detected.</em></p>'
    items = []
    for f in findings:
        sev = esc(f.get("severity"))
        role = f" <b>{esc(f.get('role'))}</b>" if f.get("role") else ""
        ev = ", ".join(f"{esc(k)}={esc(v)}" for k, v in (f.get("evidence") or {}).items())
        items.append(
            f'<li class="{sev}"><span class="sev">{sev}</span><code>{esc(f.get("kind"))}</code>{role} '
            f"({fmt_num(f.get('start_s'))}–{fmt_num(f.get('end_s'))} s): {esc(f.get('message'))}"
            f'<div class="ev">{ev}</div><div class="hint">hint: {esc(f.get("hint"))}</div></li>'
        )
    return '<ul class="findings" id="findings">' + "".join(items) + "</ul>"


def _pct(x: object) -> str:
    return "–" if x is None else f"{float(x):.1%}"  # type: ignore[arg-type]


def headline_cards(summary: Mapping[str, Any]) -> str:
    """SLO attainment, goodput, GPU-hours and efficiency at a glance."""
    cards = []
    slo = summary.get("slo")
    if slo:
        cls = "ok" if slo.get("met") else "bad"
        cards.append(
            f'<div class="card"><div class="lbl">SLO attainment</div><div class="big {cls}">'
            f"{_pct(slo.get('attainment'))}</div><div class='lbl'>{'met' if slo.get('met') else 'not met'}</div></div>"
        )
        cards.append(
            f'<div class="card"><div class="lbl">goodput</div><div class="big">{fmt_num(slo.get("goodput_rps"))}</div>'
            "<div class='lbl'>req/s meeting every SLO</div></div>"
        )
    cost = summary.get("cost")
    if cost:
        cards.append(
            f'<div class="card"><div class="lbl">GPU-hours used</div><div class="big">{fmt_num(cost.get("total_gpu_hours"))}</div>'
            f"<div class='lbl'>lower bound {fmt_num(cost.get('lower_bound_gpu_hours'))}</div></div>"
        )
        if cost.get("efficiency") is not None:
            cards.append(
                f'<div class="card"><div class="lbl">efficiency</div><div class="big">{_pct(cost.get("efficiency"))}</div>'
                "<div class='lbl'>lower bound ÷ used</div></div>"
            )
        if cost.get("amount") is not None:
            cards.append(
                f'<div class="card"><div class="lbl">cost</div><div class="big">{fmt_num(cost.get("amount"))}</div>'
                f"<div class='lbl'>{esc(cost.get('currency'))}</div></div>"
            )
    return '<div class="headline">' + "".join(cards) + "</div>" if cards else ""


def slo_table(summary: Mapping[str, Any]) -> str:
    slo = summary.get("slo")
    if not slo:
        return "<p id='slo'><em>This scenario sets no SLO: add an <code>slo:</code> block (docs/slo.md) to see attainment and goodput.</em></p>"
    rows = []
    for metric, th in (slo.get("thresholds") or {}).items():
        met = th.get("met")
        mark = "" if met is None else ('<span class="ok">✔</span>' if met else '<span class="bad">✘</span>')
        pct = f"p{float(th['percentile']):g} " if th.get("percentile") is not None else ""
        rows.append(
            f"<tr><td>{mark}</td><td><code>{esc(metric)}</code></td><td>{pct}&le; {fmt_num(th.get('seconds'))} s</td>"
            f'<td class="num">{fmt_num(th.get("observed_s"))}</td><td class="num">{_pct(th.get("share_within"))}</td></tr>'
        )
    roles = slo.get("roles") or {}
    attrib = slo.get("attribution") or {}
    role_rows = "".join(
        f"<tr><td>{esc(r)}</td><td class='num'>{_pct(a)}</td><td>{esc(', '.join(attrib.get(r, [])))}</td></tr>"
        for r, a in roles.items()
    )
    classes = slo.get("classes") or {}
    class_rows = "".join(
        f"<tr><td>{esc(k)}</td><td class='num'>{_pct(v)}</td></tr>" for k, v in classes.items()
    )
    out = (
        f"<table id='slo'><tr><th></th><th>metric</th><th>threshold</th><th>observed (s)</th><th>share within</th></tr>{''.join(rows)}</table>"
        f"<p>Mode <code>{esc(slo.get('mode'))}</code>; {fmt_num(slo.get('finished'))} requests finished, "
        f"{fmt_num(slo.get('good'))} met every threshold, {fmt_num(slo.get('failed'))} did not complete (they miss every threshold).</p>"
        "<table><tr><th>role</th><th>attainment</th><th>thresholds attributed to it</th></tr>"
        + role_rows
        + "</table>"
    )
    if class_rows:
        out += "<table><tr><th>request class</th><th>attainment</th></tr>" + class_rows + "</table>"
    return out


def cost_table(summary: Mapping[str, Any]) -> str:
    cost = summary.get("cost")
    if not cost:
        return ""
    order = [r for r in summary.get("role_order", []) if r in (cost.get("gpu_hours") or {})]
    colours = role_colours(order)
    lb = (cost.get("lower_bound") or {}).get("gpu_hours") or {}
    money = cost.get("amount_by_role") or {}
    rows = []
    for r in order:
        sw = f'<span class="sw" style="background:{colours[r]}"></span>'
        rows.append(
            f"<tr><td>{sw}{esc(r)}</td><td class='num'>{fmt_num((cost.get('gpus_per_pod') or {}).get(r))}</td>"
            f"<td class='num'>{fmt_num((cost.get('pod_hours') or {}).get(r))}</td>"
            f"<td class='num'>{fmt_num(cost['gpu_hours'].get(r))}</td>"
            f"<td class='num'>{fmt_num((cost.get('idle_gpu_hours') or {}).get(r))}</td>"
            f"<td class='num'>{fmt_num(lb.get(r))}</td>"
            + (f"<td class='num'>{fmt_num(money.get(r))}</td>" if money else "")
            + "</tr>"
        )
    money_head = f"<th>{esc(cost.get('currency'))}</th>" if money else ""
    window = (cost.get("lower_bound") or {}).get("window_s")
    note = (
        f"<p>Lower bound: the fewest replicas per role and {fmt_num(window)} s window that keep up with the same arrivals "
        "at one pod's peak throughput (docs/cost.md); efficiency = lower bound ÷ used.</p>"
        if window
        else ""
    )
    return (
        "<table id='cost'><tr><th>role</th><th>GPUs per pod</th><th>pod-hours</th><th>GPU-hours</th><th>idle GPU-hours</th>"
        f"<th>lower bound GPU-hours</th>{money_head}</tr>" + "".join(rows) + "</table>" + note
    )


def _kv(rows: Sequence[tuple[str, str]]) -> str:
    return (
        '<table class="kv">'
        + "".join(f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in rows)
        + "</table>"
    )


def expectations_table(expectations: Sequence[Mapping[str, Any]]) -> str:
    if not expectations:
        return "<p><em>This scenario declares no expectations.</em></p>"
    rows = []
    for e in expectations:
        ok = bool(e.get("passed"))
        mark = '<span class="ok">✔ pass</span>' if ok else '<span class="bad">✘ FAIL</span>'
        rows.append(f"<tr><td>{mark}</td><td>{esc(e.get('name'))}</td><td>{esc(e.get('detail'))}</td></tr>")
    return "<table><tr><th></th><th>expectation</th><th>observed</th></tr>" + "".join(rows) + "</table>"


def roles_table(summary: Mapping[str, Any]) -> str:
    roles: Mapping[str, Mapping[str, Any]] = summary.get("roles", {})
    order = [r for r in summary.get("role_order", list(roles)) if r in roles]
    colours = role_colours(order)
    head = (
        "<tr><th>role</th><th>ready replicas min–max</th><th>spec min–max</th><th>first Ready (s)</th>"
        "<th>scale ups</th><th>scale downs</th><th>p50 (s)</th><th>p95 (s)</th><th>p99 (s)</th></tr>"
    )
    rows = []
    for role in order:
        r = roles[role]
        lat = r.get("latency", {}) or {}
        sw = f'<span class="sw" style="background:{colours[role]}"></span>'
        rows.append(
            f"<tr><td>{sw}{esc(role)}</td>"
            f'<td class="num">{fmt_num(r.get("replicas_min"))}–{fmt_num(r.get("replicas_max"))}</td>'
            f'<td class="num">{fmt_num(r.get("spec_min"))}–{fmt_num(r.get("spec_max"))}</td>'
            f'<td class="num">{fmt_num(r.get("first_ready_s"))}</td>'
            f'<td class="num">{fmt_num(r.get("scale_ups"))}</td><td class="num">{fmt_num(r.get("scale_downs"))}</td>'
            f'<td class="num">{fmt_num(lat.get("p50"))}</td><td class="num">{fmt_num(lat.get("p95"))}</td>'
            f'<td class="num">{fmt_num(lat.get("p99"))}</td></tr>'
        )
    return "<table>" + head + "".join(rows) + "</table>"


def requests_table(summary: Mapping[str, Any]) -> str:
    req = summary.get("requests", {})
    lat = summary.get("latency", {}).get("e2e", {}) or {}
    cells = [
        ("arrived", req.get("arrived")),
        ("completed", req.get("completed")),
        ("dropped", req.get("dropped")),
        ("in flight at end", req.get("in_flight")),
    ]
    first = "".join(f"<th>{esc(k)}</th>" for k, _ in cells)
    second = "".join(f'<td class="num">{fmt_num(v)}</td>' for _, v in cells)
    lat_cells = "".join(f"<th>e2e {esc(k)} (s)</th>" for k in lat)
    lat_vals = "".join(f'<td class="num">{fmt_num(v)}</td>' for v in lat.values())
    return f"<table><tr>{first}{lat_cells}</tr><tr>{second}{lat_vals}</tr></table>"


def autoscalers_table(summary: Mapping[str, Any]) -> str:
    scalers: Mapping[str, Mapping[str, Any]] = summary.get("autoscalers", {}) or {}
    if not scalers:
        return "<p><em>No autoscalers in this scenario.</em></p>"
    rows = []
    for name, a in scalers.items():
        conds = "<br>".join(
            f"<code>{esc(c.get('type'))}={esc(c.get('status'))}</code> {esc(c.get('reason'))}: {esc(c.get('message'))}"
            for c in a.get("conditions", [])
        )
        last = a.get("last_decision") or {}
        decision = (
            f"{fmt_num(last.get('t'))} s: {esc(last.get('reason'))}"
            + (f" <code>{esc(last.get('code'))}</code>" if last.get("code") else "")
            if last
            else "–"
        )
        rows.append(
            f"<tr><td>{esc(name)}</td><td>{esc(a.get('target'))}</td><td>{esc(a.get('strategy'))}</td>"
            f'<td class="num">{fmt_num(a.get("desired"))}</td><td class="num">{fmt_num(a.get("actual"))}</td>'
            f"<td>{conds or '–'}</td><td>{decision}</td></tr>"
        )
    return (
        "<table><tr><th>autoscaler</th><th>target</th><th>strategy</th><th>desired</th><th>actual</th>"
        "<th>conditions at the end of the run</th><th>last decision</th></tr>" + "".join(rows) + "</table>"
    )


def quirks_section(summary: Mapping[str, Any]) -> str:
    enabled = summary.get("quirks", {})
    triggered = summary.get("quirks_triggered", {})
    rows = []
    # the quirks that changed decisions first, then the rest by name
    for name in sorted(enabled, key=lambda q: (-int(triggered.get(q, 0) or 0), q)):
        on = enabled[name]
        rows.append(
            f"<tr><td><code>{esc(name)}</code></td><td>{'on' if on else 'off'}</td>"
            f'<td class="num">{fmt_num(triggered.get(name, 0))}</td></tr>'
        )
    return (
        "<table><tr><th>quirk</th><th>enabled</th><th>times it changed a decision</th></tr>"
        + "".join(rows)
        + "</table>"
    )


TIMELINE_TYPES = ("role.ready", "role.notready", "scale", "fault", "fault.end", "scaler.conflict")
TIMELINE_ROWS = 80


def _plain(value: Any) -> str:
    """Lists as space-separated names (a killed pod is `[name, namespace]`: show the name)."""
    if isinstance(value, list):
        return " ".join(str(x[0]) if isinstance(x, list) and x else str(x) for x in value)
    return str(value)


def describe_event(e: Mapping[str, Any]) -> str:
    kind = e.get("type")
    if kind == "role.ready":
        return f"role <b>{esc(e.get('role'))}</b> Ready"
    if kind == "role.notready":
        return f"role <b>{esc(e.get('role'))}</b> no longer Ready"
    if kind == "scale":
        arrow = "▲" if e.get("to", 0) > e.get("from", 0) else "▼"
        return (
            f"{arrow} <b>{esc(e.get('role'))}</b> {esc(e.get('from'))} → {esc(e.get('to'))} replicas "
            f"by {esc(e.get('actor'))} (via {esc(e.get('via'))})"
        )
    if kind == "fault":
        what = ", ".join(
            f"{k}={_plain(v)}"
            for k, v in sorted(e.items())
            if k not in ("t", "type", "fault") and v is not None
        )
        return f"fault <b>{esc(e.get('fault'))}</b> {esc(what)}"
    if kind == "fault.end":
        return f"fault {esc(e.get('fault'))} ends"
    if kind == "scaler.conflict":
        return f"scaler <b>{esc(e.get('scaler'))}</b> ConflictDetected: {esc(e.get('message'))}"
    return esc(kind)


def timeline_table(events: Sequence[Mapping[str, Any]]) -> str:
    picked = [e for e in events if e.get("type") in TIMELINE_TYPES]
    if not picked:
        return "<p><em>No readiness changes, scaling actions, faults or conflicts.</em></p>"
    rows = "".join(
        f'<tr><td class="num">{fmt_num(e.get("t"))}</td><td>{describe_event(e)}</td></tr>'
        for e in picked[:TIMELINE_ROWS]
    )
    more = (
        f"<p>… and {len(picked) - TIMELINE_ROWS} more (all in <code>events.jsonl</code>).</p>"
        if len(picked) > TIMELINE_ROWS
        else ""
    )
    return f"<table><tr><th>t (s)</th><th>what happened</th></tr>{rows}</table>{more}"


def render_html(
    folder: Path,
    summary: Mapping[str, Any],
    *,
    scenario_yaml: str = "",
    events: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Write `folder/report.html` from the summary and the PNGs already in `folder`."""
    name = summary.get("scenario", folder.name)
    speed = summary.get("speedup")
    facts = [
        ("status", status_badge(summary)),
        ("profile", f"<code>{esc(summary.get('profile'))}</code>"),
        ("seed", f"<code>{esc(summary.get('seed'))}</code>"),
        ("simulated", f"{fmt_num(summary.get('sim_seconds'))} s"),
        (
            "wall clock",
            f"{fmt_num(summary.get('wall_seconds'))} s"
            + (f" ({fmt_num(speed)}× real time)" if speed else ""),
        ),
        ("events", fmt_num(summary.get("events"))),
        ("digest", f"<code>{esc(summary.get('digest'))}</code>"),
    ]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>dsim report: {esc(name)}</title><style>{CSS}</style></head><body>",
        f"<h1>{esc(name)}</h1>",
        f"<p class='sub'>{esc(summary.get('description', ''))}</p>",
        _kv(facts),
        headline_cards(summary),
        "<h2>Findings</h2>" + findings_section(summary.get("findings") or []),
    ]
    if summary.get("error"):
        parts.append(
            "<h2>Run error</h2><p>The run stopped early; artefacts below cover the part that ran.</p>"
        )
        parts.append(f"<pre>{esc(summary['error'])}</pre>")
    parts.append("<h2>Expectations</h2>" + expectations_table(summary.get("expectations", [])))
    parts.append("<h2>Service-level objectives</h2>" + slo_table(summary))
    if summary.get("cost"):
        parts.append("<h2>Cost</h2>" + cost_table(summary))
    parts.append("<h2>Requests</h2>" + requests_table(summary))
    parts.append("<h2>Roles</h2>" + roles_table(summary))
    parts.append("<h2>Autoscalers</h2>" + autoscalers_table(summary))
    for filename, title in FIGURES:
        if filename in OPTIONAL_FIGURES and not (folder / filename).exists():
            continue
        parts.append(f"<h2>{esc(title)}</h2>" + img_tag(folder / filename, title))
    parts.append(
        "<h2>Timeline</h2><p>Readiness changes, scaling actions, faults and conflicts in simulated time.</p>"
        + timeline_table(events)
    )
    notes = summary.get("notes", [])
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    parts.append("<h2>Quirks</h2>" + quirks_section(summary))
    counts = summary.get("event_counts", {})
    if counts:
        rows = "".join(
            f'<tr><td><code>{esc(k)}</code></td><td class="num">{fmt_num(v)}</td></tr>'
            for k, v in counts.items()
        )
        parts.append(
            "<h2>Event log</h2><p><code>events.jsonl</code> in this folder holds every event; counts by type:</p>"
            f"<table><tr><th>type</th><th>count</th></tr>{rows}</table>"
        )
    if scenario_yaml:
        parts.append(
            f"<h2>Resolved scenario</h2><details><summary>show</summary><pre>{esc(scenario_yaml)}</pre></details>"
        )
    parts.append(
        "<p class='sub'>Generated by <code>dsim run</code>; re-render with <code>dsim report "
        f"{esc(folder)}</code>. Roles keep one colour in every figure.</p></body></html>"
    )
    out = folder / "report.html"
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
