"""Every notebook in notebooks/ runs top to bottom on a fresh kernel and shows its figures.

The kernel is this interpreter (a kernelspec written to a temporary folder points at
`sys.executable`), so the notebooks import the project exactly as the tests do, whatever `python`
is on PATH. Run folders and PNGs go to a temporary folder (DSIM_NOTEBOOK_OUT). Committed notebooks
carry no outputs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL = "dsim-python"

# notebook -> images it must show (each figure drawn by sim.report.plots, shown with IPython.display)
EXPECTED_IMAGES = {
    "per-role-scaling.ipynb": 3,
    "strategy-comparison.ipynb": 5,
    "cold-start-cliff.ipynb": 3,
}
TIMEOUT_S = 300  # per cell; the budget for a whole notebook is 2 minutes on a laptop


def _kernel_manager(tmp: Path) -> object:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = tmp / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "disagg-sim (test interpreter)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    ksm = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")])
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=ksm)


def _images(nb: object) -> int:
    return sum(
        1
        for cell in nb.cells  # type: ignore[attr-defined]
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    )


def test_kernel_dependencies_installed() -> None:
    """The dev extras carry ipykernel; without it the notebooks cannot run and CI must say so
    (a skip would hide it)."""
    assert importlib.util.find_spec("ipykernel") is not None, "pip install -e '.[dev]' (ipykernel)"


def test_every_notebook_is_listed() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED_IMAGES)


@pytest.mark.parametrize("name", sorted(EXPECTED_IMAGES))
def test_committed_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert dirty == [], f"{name}: strip outputs before committing (cells {dirty})"


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_IMAGES))
def test_notebook_runs_and_shows_its_figures(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSIM_NOTEBOOK_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        km=_kernel_manager(tmp_path),
        timeout=TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    assert _images(nb) == EXPECTED_IMAGES[name]
    errors = [
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("name") == "stderr" and "Traceback" in out.get("text", "")
    ]
    assert errors == []
    pngs = sorted(p.name for p in (tmp_path / "out").rglob("*.png"))
    assert len(pngs) >= EXPECTED_IMAGES[name]
