"""`dsim`: the command-line entry point.

Sub-commands live one per module in `sim.commands` and are imported only when invoked, so
`dsim --help` is instant. Exit codes: 0 success, 1 an expectation/vector/property failed,
2 bad input (never a traceback)."""

from __future__ import annotations

import importlib
import sys

import click

# name -> (module, attribute, one-line help shown by `dsim --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": (
        "sim.commands.validate",
        "validate",
        "Check manifests as a strict API server would, plus lints.",
    ),
    "crd": ("sim.commands.crd", "crd", "Print the CustomResourceDefinitions generated from the models."),
    "run": ("sim.commands.run", "run", "Replay a scenario: simulate, check expectations, write a report."),
    "report": ("sim.commands.report", "report", "Re-render plots and report.html of a finished run."),
    "diff": ("sim.commands.diff", "diff", "Compare two runs side by side (terminal and HTML)."),
    "conformance": (
        "sim.commands.conformance",
        "conformance",
        "Run upstream test vectors through the production code.",
    ),
    "check": (
        "sim.commands.check",
        "check",
        "Property-test your own manifests; export counterexamples as scenarios.",
    ),
    "calibrate": (
        "sim.commands.calibrate",
        "calibrate",
        "Fit and check engine step-time corrections against measured timings.",
    ),
    "serve": (
        "sim.commands.serve",
        "serve",
        "Serve a scenario's cluster as a Kubernetes API on the virtual clock (kubectl, clients).",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module_name, attr, short = spec
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return _not_built(cmd_name, short)
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, spec[2]) for name, spec in COMMANDS.items()])


def _not_built(name: str, short: str) -> click.Command:
    @click.command(name=name, help=f"{short} (not available in this build)")
    def _cmd() -> None:
        click.echo(f"dsim {name}: this command is not part of this build yet", err=True)
        sys.exit(2)

    return _cmd


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=(
        "\b\nExamples:\n"
        "  dsim validate manifests/                    # every YAML file in a folder\n"
        "  dsim run scenarios/embedding-pipeline.yaml  # the default scenario (make run)\n"
        "  dsim run scenarios/scale-to-zero.yaml --profile corrected --out reports/s2z-corrected\n"
        "  dsim diff reports/s2z-upstream reports/s2z-corrected\n"
        "  dsim conformance tests/data/conformance/*.json\n"
        "  dsim check scenarios/embedding-pipeline.yaml --properties dependency_ordering\n"
        "  dsim calibrate check tests/data/calibration/measured_llama-2-70b.csv --json\n"
        "\n"
        "Exit codes: 0 ok, 1 an expectation, vector or property failed, 2 bad input.\n"
        "Run `dsim COMMAND --help` for each command's options."
    ),
)
@click.version_option(package_name="disagg-sim")
def cli() -> None:
    """disagg-sim: deterministic simulation of DisaggregatedService pipelines and their BudAIScaler
    autoscalers on a fake Kubernetes control plane.

    Every run is reproducible from its scenario and seed. Profile `upstream` reproduces the Go
    controllers exactly, defects included; `corrected` switches the documented quirks off
    (docs/quirks.md)."""


def main() -> None:
    cli(prog_name="dsim")


if __name__ == "__main__":
    main()
