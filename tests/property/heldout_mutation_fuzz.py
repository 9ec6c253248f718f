"""Held-out mutation fuzz (not collected by pytest): N scenario and N manifest mutants of the shipped
files, drawn with a seed the suite does not use, every outcome counted rather than stopped at the
first failure. Prints "N tracebacks, M exception error.txt" and each distinct symptom.

    .venv/bin/python -m tests.property.heldout_mutation_fuzz --seed 20261208 -n 300
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

from sim.testing.mutations import Mutant
from tests.property import test_mutation_fuzz as fz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=20261208)
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dsim-heldout-"))
    shutil.copytree(fz.SCENARIOS, tmp / "scenarios", ignore=shutil.ignore_patterns("traces"))
    (tmp / "scenarios" / "traces").symlink_to(fz.SCENARIOS / "traces", target_is_directory=True)
    folder = tmp / "scenarios"
    outcomes: Counter[str] = Counter()
    symptoms: Counter[str] = Counter()
    examples: dict[str, str] = {}

    def record(what: str, target: str, mutant: Mutant, symptom: str | None) -> None:
        outcomes[what] += 1
        if symptom is None:
            outcomes["ok"] += 1
            return
        kind = "exception error.txt" if symptom.startswith("run crashed") else "traceback"
        outcomes[kind] += 1
        symptoms[symptom] += 1
        examples.setdefault(symptom, f"{mutant.describe()} of {target}")

    run = settings(
        max_examples=args.n,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )

    @run
    @seed(args.seed)
    @given(
        fz.st.sampled_from(fz.SCENARIO_FILES).flatmap(
            lambda n: fz.mutate_documents(fz.SCENARIO_DOCS[n]).map(lambda m: (n, m))
        )
    )
    def scenarios(case: tuple[str, Mutant]) -> None:
        name, mutant = case
        record("scenario mutants", name, mutant, fz.check_scenario_mutant(folder, name, mutant))

    @run
    @seed(args.seed + 1)
    @given(
        fz.st.sampled_from(fz.MANIFEST_FILES).flatmap(
            lambda n: fz.mutate_documents(fz.MANIFEST_DOCS[n]).map(lambda m: (n, m))
        )
    )
    def manifests(case: tuple[str, Mutant]) -> None:
        name, mutant = case
        record("manifest mutants", name, mutant, fz.check_manifest_mutant(folder, name, mutant))

    scenarios()
    manifests()
    shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"{outcomes['scenario mutants']} scenario and {outcomes['manifest mutants']} manifest mutants: "
        f"{outcomes['traceback']} tracebacks, {outcomes['exception error.txt']} exception error.txt"
    )
    for symptom, count in symptoms.most_common():
        print(f"  {count:4d}  {symptom[:160]}\n        e.g. {examples[symptom]}")


if __name__ == "__main__":
    main()
