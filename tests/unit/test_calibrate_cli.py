"""`dsim calibrate`: fit -> check round trip, --json shape, folder --model-config, --plot, and bad
inputs (exit 2, one line, no traceback)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import cli as main
from sim.engines import load_corrections

ROOT = Path(__file__).parents[2]
CSV = ROOT / "tests" / "data" / "calibration" / "measured_llama-2-70b.csv"
CONFIG = ROOT / "sim" / "engines" / "data" / "models" / "llama-2-70b-hf.json"
BAD = ROOT / "tests" / "data" / "bad_engines"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["calibrate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_fit_then_check_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "corrections.yaml"
    code, _, err = _run("fit", str(CSV), "--model-config", str(CONFIG), "-o", str(out))
    assert code == 0, err
    assert "630 rows" in err and out.exists()
    fitted = load_corrections(out)
    assert 0 < fitted.default.prefill_efficiency <= 0.9
    code, stdout, _ = _run(
        "check", str(CSV), "--model-config", str(CONFIG), "--corrections", str(out), "--json"
    )
    assert code == 0
    summary = json.loads(stdout)
    assert summary["rows"] == 630
    assert set(summary["mape"]) == {"prefill_ms", "decode_ms_per_token"}
    assert summary["mape"]["prefill_ms"] <= 15 and summary["mape"]["decode_ms_per_token"] <= 10
    assert summary["excluded_rows"] == 10  # TP 2, batch 64: prefill faster than 100% of peak
    assert set(summary["by_tp"]) == {"2", "4", "8"}


def test_check_with_a_folder_of_configs_and_plot(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    shutil.copy(CONFIG, folder / "Llama-2-70B-HF.json")  # matched case-insensitively
    plot = tmp_path / "accuracy.png"
    code, stdout, err = _run("check", str(CSV), "--model-config", str(folder), "--plot", str(plot))
    assert code == 0, err
    assert "all rows" in stdout and "tp 8" in stdout
    assert plot.stat().st_size > 10_000


def test_check_defaults_to_the_catalogue() -> None:
    code, stdout, _ = _run("check", str(CSV), "--json")
    assert code == 0 and json.loads(stdout)["rows"] == 630


@pytest.mark.parametrize(
    ("csv_name", "config", "needle"),
    [
        ("non_numeric.csv", CONFIG, "non_numeric.csv:2: column prefill_ms: not a number: 'abc'"),
        ("missing_column.csv", CONFIG, "missing_column.csv:1: header: missing column 'decode_ms_per_token'"),
        ("empty.csv", CONFIG, "empty.csv: empty file"),
        ("unknown_gpu.csv", CONFIG, "unknown_gpu.csv:2: column gpu: unknown GPU 'A100-SXM-40GB'"),
        ("tp_not_dividing.csv", CONFIG, "tp_not_dividing.csv:2: column tp: tp 3 does not divide"),
        ("weights_do_not_fit.csv", CONFIG, "1 × 80 GiB × 0.9 available"),
        (
            "../calibration/measured_llama-2-70b.csv",
            BAD / "unknown_family.json",
            "unknown_family.json: model_type: unknown model family",
        ),
        (
            "../calibration/measured_llama-2-70b.csv",
            BAD / "missing_layers.json",
            "missing_layers.json: num_hidden_layers: missing field",
        ),
        ("unknown_gpu.csv", BAD, "no config for model 'meta-llama/Llama-2-70b-hf'"),
    ],
)
def test_bad_input_exits_2_with_one_line(csv_name: str, config: Path, needle: str) -> None:
    for command in ("fit", "check"):
        code, _, err = _run(command, str(BAD / csv_name), "--model-config", str(config))
        assert code == 2, (command, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], lines
        assert "Traceback" not in err


def test_missing_files_exit_2() -> None:
    code, _, err = _run("check", str(BAD / "nope.csv"))
    assert code == 2 and "nope.csv: measurement file not found" in err
    code, _, err = _run("check", str(CSV), "--model-config", str(BAD / "nope.json"))
    assert code == 2 and "nope.json: --model-config: model config not found" in err


def test_help_teaches() -> None:
    result = CliRunner().invoke(main, ["calibrate", "--help"])
    assert result.exit_code == 0 and "dsim calibrate fit measured.csv" in result.output
