"""The dsim/v1 Scenario schema: durations, defaults, overrides, expectation names, error paths."""

from __future__ import annotations

from typing import Any

import pytest

from model.errors import InputError
from model.quirks import Profile, Quirk
from model.scenario import (
    KillPods,
    ReplicaBounds,
    Synthetic,
    expectation_name,
    parse_duration,
    scenario_from_data,
)


def base(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "apiVersion": "dsim/v1",
        "kind": "Scenario",
        "name": "s",
        "seed": 3,
        "duration": 60,
        "manifests": [{"path": "m.yaml"}],
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90.0),
        ("90", 90.0),
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("250ms", 0.25),
        ("1.5m", 90.0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "1d", "m5", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="expected a number of seconds"):
        parse_duration(text)


def test_defaults_and_duration_fields() -> None:
    sc = scenario_from_data(
        base(
            duration="2m",
            faults=[{"type": "conflicts", "at": "30s", "until": "1m", "probability": 0.5}],
            expectations=[{"type": "replicas", "role": "r", "min": 1, "from": "10s", "to": "1m"}],
        )
    )
    assert sc.duration == 120.0
    assert sc.profile is Profile.UPSTREAM
    assert sc.sample_interval == 1.0
    assert (sc.faults[0].at, sc.faults[0].until) == (30.0, 60.0)  # type: ignore[union-attr]
    exp = sc.expectations[0]
    assert isinstance(exp, ReplicaBounds)
    assert (exp.from_, exp.to) == (10.0, 60.0)
    assert expectation_name(exp) == "1 <= r ready replicas in [10s, 60s]"


def test_overrides_from_the_command_line() -> None:
    sc = scenario_from_data(base(quirks={"ds_ready_requires_nonzero": False}))
    assert sc.quirks == {Quirk.DS_READY_REQUIRES_NONZERO: False}
    over = sc.with_overrides(seed=9, profile="corrected", until=30.0)
    assert (over.seed, over.profile, over.duration) == (9, Profile.CORRECTED, 30.0)
    assert sc.seed == 3  # frozen: the original is untouched


def test_synthetic_shapes_name_what_they_need() -> None:
    with pytest.raises(ValueError, match="shape 'step' needs peakRate, at"):
        Synthetic.model_validate({"shape": "step", "rate": 1})


def test_kill_pods_needs_a_target() -> None:
    with pytest.raises(InputError, match="killPods needs 'role' or 'selector'"):
        scenario_from_data(base(faults=[{"type": "killPods", "at": 1}]))
    sc = scenario_from_data(base(faults=[{"type": "killPods", "at": 1, "role": "r"}]))
    assert isinstance(sc.faults[0], KillPods)


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        (base(seed=True), "seed", "seed must be a non-negative integer"),
        (base(seed=-1), "seed", "greater than or equal to 0"),
        (base(manifests=[]), "manifests", "at least 1 item"),
        (base(manifests=[{"path": "a", "inline": {}}]), "manifests[0]", "exactly one of 'path'"),
        (base(quirks={"nope": True}), "quirks.nope", "'nope' is not allowed"),
        (
            base(workload={"synthetic": {"shape": "spike", "rate": 1}}),
            "workload.synthetic",
            "needs peakRate, at, length",
        ),
        (base(expectations=[{"role": "r"}]), "expectations[0].type", "each expectation needs a 'type'"),
        (
            base(expectations=[{"type": "roleReady", "role": "r"}]),
            "expectations[0]",
            "exactly one of 'by' (seconds) or 'never: true'",
        ),
        (base(cluster={"nodePools": [{"name": "a"}, {"name": "a"}]}), "cluster", "'a' is used twice"),
    ],
)
def test_error_paths(data: dict[str, Any], path: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        scenario_from_data(data, file="s.yaml")
    assert info.value.path == path
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"s.yaml: {path}: ")


def test_not_a_mapping() -> None:
    with pytest.raises(InputError, match="a scenario file must hold one mapping"):
        scenario_from_data(["x"], file="s.yaml")
