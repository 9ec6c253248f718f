"""Benchmark: accuracy of the engine step-time model on the shipped Llama-2-70B measurements under
leave-one-TP-degree-out cross-validation.

For each TP degree (2, 4, 8): fit the corrections (`sim.engines.fit.fit_corrections`, per-GPU) on the
rows of the other two degrees, predict every row of the held-out degree (repeats included; the
physically impossible rows are left out, as `dsim calibrate check` does), and take the MAPE of
`prefill_ms` and `decode_ms_per_token`. The figures are the MEAN over the three held-out degrees;
the worst held-out degree is reported as a second figure."""

from __future__ import annotations

from pathlib import Path

from sim.engines import load_model
from sim.engines.fit import leave_one_tp_out, read_measurements

CSV = Path(__file__).parents[1] / "tests" / "data" / "calibration" / "measured_llama-2-70b.csv"


def run() -> dict[str, dict[str, object]]:
    rows = read_measurements(CSV)
    spec = load_model("meta-llama/Llama-2-70b-hf")
    folds = leave_one_tp_out(rows, lambda _row: spec)
    out: dict[str, dict[str, object]] = {}
    for column, short in (("prefill_ms", "prefill"), ("decode_ms_per_token", "decode")):
        values = [fold[column] for fold in folds.values()]
        out[f"calibration.llama2_70b.{short}_mape"] = {
            "value": round(sum(values) / len(values), 2),
            "unit": "% (mean over held-out TP 2/4/8)",
            "target": "≤ 10 %",
        }
        worst_tp = max(folds, key=lambda tp: folds[tp][column])
        out[f"calibration.llama2_70b.{short}_mape_worst_tp"] = {
            "value": round(folds[worst_tp][column], 2),
            "unit": f"% (held-out TP {worst_tp})",
            "target": "≤ 15 %",
        }
    return out


if __name__ == "__main__":
    for name, fig in run().items():
        print(f"{name}: {fig['value']} {fig['unit']} (target {fig['target']})")
