"""Regression (held-out mutation fuzz): a BudAIScaler with strategy HPA whose `scaleTargetRef.kind`
is empty (or names no served kind) crashed the run: the HPA controller's get_scale raised the
fake API server's `Unsupported`, error.txt, exit 1. A real HPA controller reports FailedGetScale
(`unable to determine resource for scale target reference`), and so does this one."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.badinput import copy_scenario, dsim_run, edit


def test_run_hpa_strategy_target_kind_empty_reports_failed_get_scale(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path, "hpa-strategy")
    manifest = tmp_path / "manifests" / "hpa-strategy.yaml"
    edit(
        manifest,
        "kind: DisaggregatedService, name: embedding-pipeline}",
        'kind: "", name: embedding-pipeline}',
    )
    result = dsim_run(scenario, tmp_path, "--max-sim-seconds", "60", "--no-render")
    assert result.exit_code in (0, 1), result.output
    assert not (result.out / "error.txt").exists()
    summary = (result.out / "summary.json").read_text(encoding="utf-8")
    assert "unable to determine resource for scale target reference" in summary
    assert json.loads(summary)["status"] in ("ok", "failed")
