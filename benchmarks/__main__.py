"""Run every benchmark module, print a table and write reports/bench.json.

Each `benchmarks/bench_<area>.py` exposes `run() -> dict[str, dict]` mapping a figure name (as the issues name
them, e.g. `control_plane.pods_ready_per_s`) to {"value": float, "unit": str, "target": str}. Speed and memory
targets are reported here, never asserted in the test suite."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import traceback
from pathlib import Path

import benchmarks


def _modules(selected: list[str]) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("only", nargs="*", help="substring(s) of benchmark module names to run")
    parser.add_argument("--out", default="reports/bench.json")
    args = parser.parse_args(argv)
    figures: dict[str, dict[str, object]] = {}
    failed: list[str] = []
    for name in _modules(args.only):
        print(f"running {name} ...", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            figures.update(module.run())
        except Exception:
            failed.append(name)
            traceback.print_exc()
    width = max([len(k) for k in figures] + [6])
    print(f"\n{'figure':<{width}}  {'value':>14}  {'unit':<14}  target")
    for key in sorted(figures):
        fig = figures[key]
        value = fig.get("value")
        shown = f"{value:,.1f}" if isinstance(value, (int, float)) else str(value)
        print(f"{key:<{width}}  {shown:>14}  {fig.get('unit', ''):<14}  {fig.get('target', '')}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {out}")
    if failed:
        print(f"benchmarks that raised: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
