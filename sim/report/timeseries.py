"""Per-role, per-sample time series (`timeseries.csv`, and `timeseries.parquet` if pyarrow is
importable).

Long format, one row per (t, role): replica counts (desired, spec, ready, starting), load
(arrivals, completions, queue, in_flight, dropped per interval), latency percentiles of requests
that finished at that role during the interval, and `metric.<name>` columns with the values the
scalers saw. The pseudo-role `_e2e` carries end-to-end figures. Values are written with a fixed
format so the file's bytes are part of the run digest."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

E2E = "_e2e"

BASE_COLUMNS: tuple[str, ...] = (
    "t",
    "role",
    "desired",
    "spec",
    "ready",
    "starting",
    "arrivals",
    "completions",
    "queue",
    "in_flight",
    "dropped",
    "latency_p50",
    "latency_p95",
    "latency_p99",
)
INT_COLUMNS = frozenset(
    {"desired", "spec", "ready", "starting", "arrivals", "completions", "queue", "in_flight", "dropped"}
)
METRIC_PREFIX = "metric."

Value = float | int | None


def format_value(value: object) -> str:
    """Fixed, locale-free formatting: ints as ints, floats with at most 6 decimals, None/NaN empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value)


def parse_value(text: str, column: str) -> Value:
    if text == "":
        return None
    if column in INT_COLUMNS:
        try:
            return int(text)
        except ValueError:
            return float(text)
    return float(text)


class TimeSeries:
    """Rows keyed by (t, role), kept in the order they were sampled (time, then role order)."""

    def __init__(self, roles: Iterable[str] = ()) -> None:
        self.roles: list[str] = list(roles)
        self.rows: list[dict[str, Value | str]] = []
        self._metric_columns: set[str] = set()

    def add(self, t: float, role: str, values: Mapping[str, Value]) -> None:
        if role not in self.roles:
            self.roles.append(role)
        row: dict[str, Value | str] = {"t": float(t), "role": role}
        for key, value in values.items():
            if key not in BASE_COLUMNS:
                if not key.startswith(METRIC_PREFIX):
                    raise ValueError(f"unknown time-series column {key!r}")
                self._metric_columns.add(key)
            row[key] = value
        self.rows.append(row)

    def columns(self) -> list[str]:
        return [*BASE_COLUMNS, *sorted(self._metric_columns)]

    def metric_columns(self) -> list[str]:
        return sorted(self._metric_columns)

    def series(self, role: str, column: str) -> tuple[list[float], list[float | None]]:
        """(times, values) of one column for one role; missing values are None."""
        times: list[float] = []
        values: list[float | None] = []
        for row in self.rows:
            if row["role"] == role:
                times.append(float(row["t"]))  # type: ignore[arg-type]
                v = row.get(column)
                values.append(None if v is None or isinstance(v, str) else float(v))
        return times, values

    def to_csv_bytes(self) -> bytes:
        cols = self.columns()
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(cols)
        for row in self.rows:
            writer.writerow([format_value(row.get(c)) for c in cols])
        return buf.getvalue().encode("utf-8")

    def write(self, folder: Path) -> list[Path]:
        """timeseries.csv always; timeseries.parquet when pyarrow is importable."""
        csv_path = folder / "timeseries.csv"
        csv_path.write_bytes(self.to_csv_bytes())
        written = [csv_path]
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            return written
        cols = self.columns()
        table = pa.table({c: [row.get(c) for row in self.rows] for c in cols})
        parquet_path = folder / "timeseries.parquet"
        pq.write_table(table, parquet_path)
        written.append(parquet_path)
        return written


def read_timeseries(path: Path) -> TimeSeries:
    """Load timeseries.csv of a finished run."""
    ts = TimeSeries()
    if not path.exists():
        return ts
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return ts
        for record in reader:
            values = dict(zip(header, record))
            role = values.pop("role")
            t = float(values.pop("t"))
            ts.add(t, role, {k: parse_value(v, k) for k, v in values.items()})
    return ts
