"""Every quirk is documented in docs/quirks.md and described in model.quirks.QUIRK_INFO."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.quirks import QUIRK_INFO, Profile, Quirk, QuirkSet

DOC = Path(__file__).resolve().parents[2] / "docs" / "quirks.md"


@pytest.mark.parametrize("quirk", list(Quirk), ids=lambda q: q.value)
def test_every_quirk_has_a_section_in_docs(quirk: Quirk) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"`{quirk.value}`" in text.split("\n## ", 1)[1], f"{quirk.value} has no section in docs/quirks.md"
    assert quirk in QUIRK_INFO


def test_profiles_switch_every_quirk() -> None:
    assert QuirkSet(Profile.UPSTREAM).enabled() == list(Quirk)
    assert QuirkSet(Profile.CORRECTED).enabled() == []
    one = QuirkSet("corrected", {"symmetric_conflict": True})
    assert one.enabled() == [Quirk.SYMMETRIC_CONFLICT]


def test_quirks_doc_is_generated_from_the_code_and_fragments() -> None:
    import subprocess
    import sys

    script = DOC.parent / "build_quirks.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
