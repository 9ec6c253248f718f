"""Run artefacts: the event log, per-role time series, summary.json, plots, report.html, diffs.

Everything here reads and writes plain files in a run folder, so `dsim report DIR` and
`dsim diff A B` work on finished runs without re-simulating."""
