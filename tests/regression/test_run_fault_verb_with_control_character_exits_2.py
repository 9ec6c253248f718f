"""Regression (held-out mutation fuzz): an `errors` fault whose `verbs` held an unknown verb (a
control character) passed the scenario check and crashed the run at fault scheduling
(`ValueError: unknown verbs ['\\x00']`, error.txt). Verbs are checked at load."""

from __future__ import annotations

import typing
from pathlib import Path

from model.scenario import ApiVerb
from sim.apiserver.faults import ALL_VERBS
from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, edit


def test_scenario_error_fault_verbs_match_the_api_server() -> None:
    assert set(typing.get_args(ApiVerb)) == set(ALL_VERBS)


def test_run_fault_verb_with_control_character_exits_2(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    edit(
        scenario,
        "expectations:\n",
        'faults:\n  - {type: errors, at: 10, until: 20, probability: 0.1, verbs: [update, "\\0"]}\nexpectations:\n',
    )
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["path"] == "faults[0].verbs[1]"
