"""Every file in tests/data/bad/ is rejected by `dsim validate` with exit 2, the expected message, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sim.commands.validate import validate

BAD = Path(__file__).parent.parent / "data" / "bad"
EXPECTED: dict[str, str] = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))


def test_at_least_forty_bad_inputs_each_with_a_fragment() -> None:
    files = sorted(p.name for p in BAD.iterdir() if p.name != "expected.yaml")
    assert len(files) >= 40
    assert files == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_rejected_with_message(name: str) -> None:
    result = CliRunner().invoke(validate, [str(BAD / name)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.exit_code == 2, result.output
    assert EXPECTED[name] in result.output, result.output
