"""report.html and diff.html in a real browser (headless Chromium, Debian's `chromium`; `.ci/run`
installs it): no console errors, every image decodes, the findings and the SLO table are there.

Each page is loaded as a copy with a tiny checking script in front (the reports themselves carry no
script); `--dump-dom` prints the page after its load event, with the script's verdict in it."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sim.report.diff import diff_runs
from sim.scenario.load import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it in CI)",
)

CHECK = """<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message || e.type)); }, true);
(function () { var ce = console.error; console.error = function () {
  window.__errors.push(Array.prototype.join.call(arguments, ' ')); ce.apply(console, arguments); }; })();
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return i.alt; });
  var out = document.createElement('pre'); out.id = 'dsim-check';
  out.textContent = JSON.stringify({images: imgs.length, bad: bad, errors: window.__errors,
    findings: !!document.getElementById('findings'), slo: !!document.getElementById('slo'),
    badge: (document.getElementById('findings-badge') || {}).textContent || null});
  document.body.appendChild(out);
});
</script>"""

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=10000",
)


def _open(page: Path, tmp: Path) -> dict[str, Any]:
    checked = page.with_name(f"checked-{page.name}")
    text = page.read_text(encoding="utf-8")
    checked.write_text(text.replace("<head>", "<head>" + CHECK, 1), encoding="utf-8")
    assert CHROMIUM is not None
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "--dump-dom", checked.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r'<pre id="dsim-check">(.*?)</pre>', proc.stdout, re.S)
    assert match, f"no verdict from the page (exit {proc.returncode}): {proc.stderr[-2000:]}"
    verdict: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    console = [
        line
        for line in proc.stderr.splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or "rror" in line)
    ]
    verdict["console"] = console
    return verdict


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("browser")
    scenario = ROOT / "scenarios" / "embedding-pipeline.yaml"
    a = run_scenario(load_scenario(scenario, until=240), base / "upstream").out
    b = run_scenario(load_scenario(scenario, profile="corrected", until=240), base / "corrected").out
    return a, b


def test_report_html_in_chromium(runs: tuple[Path, Path], tmp_path: Path) -> None:
    verdict = _open(runs[0] / "report.html", tmp_path)
    assert verdict["errors"] == [] and verdict["console"] == []
    assert verdict["images"] >= 4 and verdict["bad"] == []
    assert verdict["findings"] and verdict["slo"]
    assert verdict["badge"]


def test_diff_html_in_chromium(runs: tuple[Path, Path], tmp_path: Path) -> None:
    page = diff_runs(runs[0], runs[1], tmp_path / "diff", quiet=True)
    assert page is not None
    verdict = _open(page, tmp_path)
    assert verdict["errors"] == [] and verdict["console"] == []
    assert verdict["images"] >= 2 and verdict["bad"] == []
    assert verdict["findings"]


def test_the_check_catches_a_broken_image_and_a_script_error(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body>"
        '<img alt="broken" src="data:image/png;base64,AAAA"><script>undefinedFunction();</script></body></html>',
        encoding="utf-8",
    )
    verdict = _open(page, tmp_path)
    assert verdict["bad"] == ["broken"]
    assert verdict["errors"] and not verdict["findings"]
