"""`dsim calibrate`: fit the engine step-time corrections to measurements, and check them.

The measurement CSV has the columns `model,gpu,tp,prompt_tokens,batch_size,output_tokens,
prefill_ms,decode_ms_per_token` (repeats allowed). Exit codes: 0 done, 2 bad input (one line naming
file, row, column or field; never a traceback)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import click

from model.errors import InputError
from sim.engines.catalogue import ModelSpec, load_config, load_model, spec_from_config
from sim.engines.fit import (
    Measurement,
    ModelLookup,
    Prediction,
    fit_corrections,
    group_medians,
    mape,
    predict,
    read_measurements,
)
from sim.engines.steptime import Corrections, default_corrections, load_corrections


def _fail(err: InputError) -> None:
    click.echo(f"dsim calibrate: {str(err).splitlines()[0]}", err=True)
    sys.exit(2)


def model_lookup(model_config: Path | None) -> ModelLookup:
    """Row -> ModelSpec: one config file for every row, a folder matched by the last part of the
    row's `model` id (case-insensitive, `meta-llama/Llama-2-70b-hf` -> `llama-2-70b-hf.json`), or
    (no option) the shipped catalogue."""
    cache: dict[str, ModelSpec] = {}
    if model_config is not None and not model_config.exists():
        raise InputError("model config not found", file=str(model_config), path="--model-config")
    if model_config is not None and model_config.is_file():
        spec = spec_from_config(load_config(model_config), source=str(model_config), name=model_config.stem)

        def one(row: Measurement) -> ModelSpec:
            return spec

        return one
    files: dict[str, Path] = {}
    if model_config is not None:
        for path in sorted(model_config.iterdir()):
            if path.suffix.lower() == ".json":
                files[path.name.lower()] = path

    def lookup(row: Measurement) -> ModelSpec:
        if row.model in cache:
            return cache[row.model]
        if model_config is None:
            try:
                spec = load_model(row.model)
            except InputError as err:
                raise InputError(
                    f"{err.message}; pass --model-config FILE_OR_FOLDER", file=row.where, path="column model"
                ) from None
        else:
            name = row.model.rstrip("/").split("/")[-1].lower() + ".json"
            path = files.get(name)
            if path is None:
                raise InputError(
                    f"no config for model {row.model!r} in {model_config} (expected {name})",
                    file=row.where,
                    path="column model",
                )
            spec = spec_from_config(load_config(path), source=str(path), name=row.model)
        cache[row.model] = spec
        return spec

    return lookup


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _breakdown(preds: Sequence[Prediction], key: str) -> dict[str, dict[str, float]]:
    groups: dict[str, list[Prediction]] = {}
    for p in preds:
        groups.setdefault(str(getattr(p.row, key)), []).append(p)
    return {k: mape(v) for k, v in sorted(groups.items(), key=lambda kv: (len(kv[0]), kv[0]))}


def plot_predictions(preds: Sequence[Prediction], out: Path, title: str) -> None:
    """Predicted against measured, log-log, one colour per TP degree, y = x; two panels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    tps = sorted({p.row.tp for p in preds})
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    panels = (
        ("prefill_ms", "Prefill time of the batch (ms)"),
        ("decode_ms_per_token", "Decode step (ms per token)"),
    )
    for ax, (column, label) in zip(axes, panels, strict=True):
        values: list[float] = []
        for i, tp in enumerate(tps):
            sel = [p for p in preds if p.row.tp == tp and p.plausible]
            meas = [getattr(p.row, column) for p in sel]
            pred = [getattr(p, column) for p in sel]
            values += meas + pred
            ax.scatter(meas, pred, s=14, alpha=0.7, color=colours[i % len(colours)], label=f"TP {tp}")
        bad = [p for p in preds if not p.plausible]
        if bad:
            ax.scatter(
                [getattr(p.row, column) for p in bad],
                [getattr(p, column) for p in bad],
                s=20,
                marker="x",
                color="grey",
                label="implausible (excluded)",
            )
            values += [getattr(p.row, column) for p in bad] + [getattr(p, column) for p in bad]
        lo, hi = min(values) * 0.8, max(values) * 1.25
        ax.plot([lo, hi], [lo, hi], color="black", linewidth=1, label="y = x")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        m = mape(preds)[column]
        ax.set_title(f"{label}\nMAPE {m:.1f}%")
        ax.set_xlabel("measured (ms)")
        ax.set_ylabel("predicted (ms)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


@click.group(
    name="calibrate",
    epilog=(
        "\b\nExamples:\n"
        "  dsim calibrate fit measured.csv --model-config llama-2-70b-hf.json -o corrections.yaml\n"
        "  dsim calibrate check measured.csv --model-config configs/ --json\n"
        "  dsim calibrate check measured.csv --model-config cfg.json --corrections corrections.yaml \\\n"
        "      --plot accuracy.png\n"
        "\b\nCSV columns: model,gpu,tp,prompt_tokens,batch_size,output_tokens,prefill_ms,decode_ms_per_token\n"
        "(repeats of a point are allowed; the fit uses their median). See docs/engines.md."
    ),
)
def calibrate() -> None:
    """Fit and check the step-time corrections of the engine models against measurements.

    The engine models (docs/engines.md) predict each iteration's time from roofline terms of the
    model and GPU; the corrections say how much of the hardware an engine really gets
    (efficiencies) and what it costs besides (overheads). They are model-independent, so
    corrections fitted on one model apply to another."""


_CONFIG_HELP = (
    "A Hugging Face config.json used for every row, or a folder of them matched by the last part of the "
    "row's model id (meta-llama/Llama-2-70b-hf -> llama-2-70b-hf.json, case-insensitive). "
    "Default: the shipped catalogue (sim/engines/data/models)."
)


@calibrate.command(name="fit")
@click.argument("measured", type=click.Path(path_type=Path))
@click.option("--model-config", type=click.Path(path_type=Path), default=None, help=_CONFIG_HELP)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the corrections YAML (default: print to stdout).",
)
@click.option(
    "--per-gpu/--no-per-gpu",
    default=True,
    show_default=True,
    help="Also fit one set of corrections per GPU type in the data (used for that GPU).",
)
def fit_cmd(measured: Path, model_config: Path | None, output: Path | None, per_gpu: bool) -> None:
    """Fit corrections to MEASURED.csv and write them as YAML.

    Repeats are reduced to their median, physically impossible rows (faster than the roofline at
    100% of peak) are set aside, and the rest is fitted by a bounded least-absolute-relative-error
    regression (efficiencies <= 1, overheads >= 0)."""
    try:
        rows = read_measurements(measured)
        lookup = model_lookup(model_config)
        corrections, results = fit_corrections(rows, lookup, per_gpu=per_gpu, source=measured.name)
        accuracy = mape(predict(rows, lookup, corrections))
    except InputError as err:
        _fail(err)
        return
    text = corrections.to_yaml()
    if output is None:
        click.echo(text, nl=False)
    else:
        _write_atomic(output, text)
    points = len(group_medians(rows))
    click.echo(
        f"dsim calibrate fit: {len(rows)} rows ({points} points, {len(results[0].rejected) // 2} implausible "
        f"set aside); MAPE on the fit data: prefill {accuracy['prefill_ms']:.1f}%, "
        f"decode {accuracy['decode_ms_per_token']:.1f}%" + (f"; wrote {output}" if output else ""),
        err=True,
    )


@calibrate.command(name="check")
@click.argument("measured", type=click.Path(path_type=Path))
@click.option("--model-config", type=click.Path(path_type=Path), default=None, help=_CONFIG_HELP)
@click.option(
    "--corrections",
    "corrections_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Corrections YAML from `dsim calibrate fit` (default: the shipped ones).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of the table.")
@click.option(
    "--plot", type=click.Path(path_type=Path), default=None, help="Write predicted-vs-measured PNG."
)
def check_cmd(
    measured: Path, model_config: Path | None, corrections_path: Path | None, as_json: bool, plot: Path | None
) -> None:
    """Predict every row of MEASURED.csv and report the MAPE of prefill_ms and decode_ms_per_token.

    Every row counts (repeats included) except physically impossible ones (faster than the roofline
    at 100% of peak), which are listed and left out. --json prints
    {"rows": N, "mape": {"prefill_ms": X, "decode_ms_per_token": Y}, ...} with X, Y in percent."""
    try:
        rows = read_measurements(measured)
        lookup = model_lookup(model_config)
        corrections: Corrections = (
            load_corrections(corrections_path) if corrections_path is not None else default_corrections()
        )
        preds = predict(rows, lookup, corrections)
    except InputError as err:
        _fail(err)
        return
    overall = mape(preds)
    excluded = [p for p in preds if not p.plausible]
    summary = {
        "rows": len(rows),
        "mape": {k: round(v, 2) for k, v in overall.items()},
        "excluded_rows": len(excluded),
        "excluded_lines": [p.row.line for p in excluded],
        "by_tp": {k: {c: round(v, 2) for c, v in m.items()} for k, m in _breakdown(preds, "tp").items()},
        "by_gpu": {k: {c: round(v, 2) for c, v in m.items()} for k, m in _breakdown(preds, "gpu").items()},
        "by_model": {
            k: {c: round(v, 2) for c, v in m.items()} for k, m in _breakdown(preds, "model").items()
        },
        "corrections": corrections.source,
    }
    if plot is not None:
        plot_predictions(preds, plot, f"{measured.name}: predicted vs measured ({corrections.source})")
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{measured}: {len(rows)} rows, corrections {corrections.source}")
    click.echo(f"{'':24} {'prefill MAPE':>13} {'decode MAPE':>12}")
    click.echo(f"{'all rows':24} {overall['prefill_ms']:12.1f}% {overall['decode_ms_per_token']:11.1f}%")
    for label, key in (("tp", "by_tp"), ("gpu", "by_gpu")):
        table = summary[key]
        assert isinstance(table, dict)
        for name, m in table.items():
            click.echo(f"{label + ' ' + name:24} {m['prefill_ms']:12.1f}% {m['decode_ms_per_token']:11.1f}%")
    if excluded:
        lines = ", ".join(str(p.row.line) for p in excluded[:12])
        more = "" if len(excluded) <= 12 else f" and {len(excluded) - 12} more"
        click.echo(f"excluded {len(excluded)} physically impossible rows (lines {lines}{more})")
    if plot is not None:
        click.echo(f"wrote {plot}")
