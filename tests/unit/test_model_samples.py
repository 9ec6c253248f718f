"""`dsim validate` on the five upstream samples and on the pull request's examples: exact output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.commands.validate import validate

DATA = Path(__file__).parent.parent / "data"

FULL = "upstream/samples/scaler_v1alpha1_budaiscaler_full.yaml"
KPA = "upstream/samples/scaler_v1alpha1_budaiscaler_kpa.yaml"
KPA_WARNINGS = [
    f"  warning: {KPA}:12: metadata.annotations[scaler.bud.studio/panic-window]: value '60' cannot be parsed by the "
    'controller (time: missing unit in duration "60"); it is silently ignored and the default is used; expected a Go '
    'duration such as "60s"',
    f"  warning: {KPA}:13: metadata.annotations[scaler.bud.studio/stable-window]: value '180' cannot be parsed by the "
    'controller (time: missing unit in duration "180"); it is silently ignored and the default is used; expected a Go '
    'duration such as "180s"',
]
EXPECTED_SAMPLES = [
    "BudAIScaler/ai-production/llm-inference-full: invalid (2 errors)",
    f"  warning: {FULL}:11: metadata.annotations[scaler.bud.studio/scale-up-rate]: unknown annotation key: the "
    "controller never reads it, so it has no effect; did you mean 'scaler.bud.studio/max-scale-up-rate'?",
    f"  warning: {FULL}:12: metadata.annotations[scaler.bud.studio/scale-down-rate]: unknown annotation key: the "
    "controller never reads it, so it has no effect; did you mean 'scaler.bud.studio/max-scale-down-rate'?",
    f"  warning: {FULL}:13: metadata.annotations[scaler.bud.studio/tolerance]: unknown annotation key: the "
    "controller never reads it, so it has no effect; did you mean 'scaler.bud.studio/scale-up-tolerance'?",
    "BudAIScaler/default/web-server-hpa: ok",
    "BudAIScaler/default/api-gateway-kpa: ok with 2 warnings",
    *KPA_WARNINGS,
    "BudAIScaler/ai-inference/tgi-server: ok",
    "BudAIScaler/ai-inference/vllm-server: ok",
    "",
    "2 errors:",
    f"{FULL}:59: spec.gpuConfig.vgpuEnabled: unknown field",
    f"{FULL}:66: spec.costConfig.maxSpotPercentage: unknown field",
]


@pytest.fixture(autouse=True)
def _in_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA)


def test_upstream_samples_exactly_as_a_strict_api_server_plus_lints() -> None:
    result = CliRunner().invoke(validate, ["upstream/samples"])
    assert result.exit_code == 2
    assert result.output.splitlines() == EXPECTED_SAMPLES


@pytest.mark.parametrize("name", ["hpa", "tgi", "vllm"])
def test_other_samples_pass_clean(name: str) -> None:
    result = CliRunner().invoke(
        validate, ["--strict", f"upstream/samples/scaler_v1alpha1_budaiscaler_{name}.yaml"]
    )
    assert result.exit_code == 0, result.output


def test_kpa_sample_warnings_exit_zero_unless_strict() -> None:
    result = CliRunner().invoke(validate, [KPA])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "BudAIScaler/default/api-gateway-kpa: ok with 2 warnings",
        *KPA_WARNINGS,
    ]
    strict = CliRunner().invoke(validate, ["--strict", KPA])
    assert strict.exit_code == 2
    assert strict.output.splitlines()[-1] == "--strict: 2 warnings treated as errors"


def test_pr_examples() -> None:
    ok = CliRunner().invoke(
        validate, ["manifests/pr-embedding-pipeline.yaml", "manifests/inference-scaler-corrected.yaml"]
    )
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines() == [
        "DisaggregatedService/default/embedding-pipeline: ok",
        "BudAIScaler/default/inference-scaler: ok",
    ]
    bad = CliRunner().invoke(validate, ["manifests/pr-inference-scaler.yaml"])
    assert bad.exit_code == 2
    assert bad.output.splitlines() == [
        "BudAIScaler/default/inference-scaler: invalid (1 error)",
        "",
        "1 error:",
        "manifests/pr-inference-scaler.yaml:10: spec.metricsSources: Required value",
    ]


def test_json_output() -> None:
    result = CliRunner().invoke(validate, ["--output", "json", "manifests/pr-inference-scaler.yaml"])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["summary"] == {"objects": 1, "errors": 1, "warnings": 0}
    assert report["objects"][0]["issues"] == [
        {
            "path": "spec.metricsSources",
            "line": 10,
            "severity": "error",
            "message": "Required value",
            "value": None,
        }
    ]
    assert report["objects"][0]["status"] == "error"


def test_missing_file_is_a_clear_error() -> None:
    result = CliRunner().invoke(validate, ["does-not-exist.yaml"])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == "does-not-exist.yaml: no such file"


def test_no_objects_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not yaml")
    result = CliRunner().invoke(validate, [str(tmp_path)])
    assert result.exit_code == 2
    assert "no Kubernetes objects found in:" in result.output
