"""Symptom: `make run` printed setuptools' "`project.license` as a TOML table is deprecated"
warning. The project declares an SPDX string with license-files, and a setuptools that reads it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_license_is_an_spdx_string_with_license_files() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = data["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
    (setuptools,) = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    match = re.search(r">=\s*(\d+)", setuptools)
    assert match is not None and int(match.group(1)) >= 77  # SPDX license strings need setuptools 77
