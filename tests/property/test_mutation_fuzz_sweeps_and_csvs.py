"""The mutation fuzzer applied to the inputs that landed after it (issue 21): sweep files (through
`model.sweep.load_sweep`, the loader `dsim sweep` calls first) and measured-timing CSVs (through
`dsim calibrate check`). A broken input is one `FILE:LINE: ...` InputError / exit 2 with one line and
no traceback, or it is accepted; never another exception. (Engine configs: test_mutation_fuzz_engine_configs.py;
REST bodies: test_serve_fuzz.py.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.errors import InputError
from model.sweep import load_sweep
from sim.commands.calibrate import calibrate
from sim.testing.mutations import Mutant, mutate_document

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "sweeps" / "prefill-capacity.yaml"
CSV = ROOT / "tests" / "data" / "calibration" / "measured_llama-2-70b.csv"
CONFIG = ROOT / "sim" / "engines" / "data" / "models" / "llama-2-70b-hf.json"
EXAMPLES = {"deep": 600, "ci": 25, "dev": 10}.get(os.environ.get("HYPOTHESIS_PROFILE", "ci"), 25)
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(mutate_document(yaml.safe_load(SWEEP.read_text(encoding="utf-8"))))
def test_sweep_file_mutants_are_one_line_input_errors_or_valid(tmp_path: Path, mutant: Mutant) -> None:
    folder = tmp_path / "sweeps"
    folder.mkdir(exist_ok=True)
    path = folder / "mutant.yaml"
    path.write_bytes(mutant.raw)
    try:
        load_sweep(path)
    except InputError as exc:
        text = str(exc)
        assert text.startswith(str(path)), (mutant.describe(), text)
        assert "\n" not in text.strip(), (mutant.describe(), text)


HEADER, *ROWS = CSV.read_text(encoding="utf-8").splitlines()[:16]
BAD_CELLS = ("", "abc", "nan", "inf", "-inf", "-1", "0", "1e400", "1e30", "\x00", "\t ", "12,5", '"', "1;2")


@st.composite
def csv_mutants(draw: st.DrawFn) -> str:
    header = HEADER.split(",")
    rows = [r.split(",") for r in ROWS]
    kind = draw(
        st.sampled_from(["cell", "drop_column", "misspell_header", "short_row", "empty", "header_only"])
    )
    if kind == "cell":
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(header) - 1))
        rows[r][c] = draw(st.sampled_from(BAD_CELLS) | st.text(max_size=8))
    elif kind == "drop_column":
        c = draw(st.integers(0, len(header) - 1))
        header.pop(c)
        for row in rows:
            row.pop(c)
    elif kind == "misspell_header":
        c = draw(st.integers(0, len(header) - 1))
        header[c] = header[c][::-1]
    elif kind == "short_row":
        r = draw(st.integers(0, len(rows) - 1))
        rows[r] = rows[r][: draw(st.integers(0, len(header) - 1))]
    elif kind == "empty":
        return ""
    else:
        rows = []
    return "\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\n"


@SETTINGS
@given(csv_mutants())
def test_measured_csv_mutants_exit_2_with_one_line_or_check(tmp_path: Path, text: str) -> None:
    path = tmp_path / "measured.csv"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    shutil.copy(CONFIG, tmp_path / "config.json")
    result = CliRunner().invoke(
        calibrate, ["check", str(path), "--model-config", str(tmp_path / "config.json"), "--json"]
    )
    assert result.exit_code in (0, 2), (text, result.output, result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1, (text, result.output)
        assert str(path) in lines[0], (text, lines[0])
