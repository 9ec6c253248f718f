"""`dsim validate FILE|DIR...`: check manifests as a strict API server (plus webhook rules) would, and lint.

One line per object (`kind/namespace/name: ok`, or its warnings); on any error every error is listed
as `FILE:LINE: PATH: message` and the exit code is 2. `--strict` makes warnings fail too."""

from __future__ import annotations

import json
import sys

import click

from model.validation import ValidationReport, validate_paths


def _print_text(report: ValidationReport) -> None:
    for obj in report.objects:
        if obj.errors:
            click.echo(f"{obj.ref}: invalid ({len(obj.errors)} error{'s' if len(obj.errors) != 1 else ''})")
        elif obj.warnings:
            click.echo(
                f"{obj.ref}: ok with {len(obj.warnings)} warning{'s' if len(obj.warnings) != 1 else ''}"
            )
        else:
            click.echo(f"{obj.ref}: ok")
        for issue in obj.warnings:
            click.echo(f"  warning: {issue.format(obj.file)}")
    errors = [str(e) for e in report.file_errors]
    for obj in report.objects:
        errors.extend(issue.format(obj.file) for issue in obj.errors)
    if errors:
        click.echo("")
        click.echo(f"{len(errors)} error{'s' if len(errors) != 1 else ''}:")
        for line in errors:
            click.echo(line)


@click.command(name="validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Treat warnings (lints) as errors: exit 2 if there are any.")
def validate(paths: tuple[str, ...], output: str, strict: bool) -> None:
    """Check Kubernetes manifests (FILE or DIR...) as a strict API server would, plus lints.

    Exit 0 when every object is accepted, 2 on any error (or any warning with --strict)."""
    report = validate_paths(paths)
    if output == "json":
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=False, ensure_ascii=False))
    else:
        _print_text(report)
    if not report.objects and not report.file_errors:
        click.echo(f"no Kubernetes objects found in: {', '.join(paths)}", err=True)
        sys.exit(2)
    if strict and output == "text" and report.warning_count and not report.error_count:
        n = report.warning_count
        click.echo(f"\n--strict: {n} warning{'s' if n != 1 else ''} treated as error{'s' if n != 1 else ''}")
    if report.failed(strict):
        sys.exit(2)
