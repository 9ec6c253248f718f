"""Hardware catalogue: peak dense BF16 FLOPs, HBM bandwidth, memory and link bandwidth per GPU.

The numbers are data (`sim/engines/data/hardware.json`, from public vendor datasheets); the step-time
model turns them into roofline terms and the fitted corrections say how much of them an engine gets.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from model.errors import InputError

GIB = 1024**3


@dataclass(frozen=True)
class Hardware:
    """One GPU type. Link bandwidth is the per-GPU total (both directions) of its GPU-to-GPU link."""

    name: str
    peak_flops: float  # dense BF16 tensor FLOP/s
    hbm_bytes_per_s: float
    memory_bytes: int
    interconnect: str
    link_bytes_per_s: float

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / GIB


@cache
def hardware_catalogue() -> dict[str, Hardware]:
    """GPU name -> Hardware, from the shipped hardware.json."""
    path = Path(str(resources.files("sim.engines") / "data" / "hardware.json"))
    raw = json.loads(path.read_text())
    out: dict[str, Hardware] = {}
    for name, entry in sorted(raw.items()):
        if name.startswith("_"):
            continue
        out[name] = Hardware(
            name=name,
            peak_flops=float(entry["bf16_tflops"]) * 1e12,
            hbm_bytes_per_s=float(entry["hbm_tb_per_s"]) * 1e12,
            memory_bytes=int(float(entry["memory_gib"]) * GIB),
            interconnect=str(entry["interconnect"]),
            link_bytes_per_s=float(entry["link_gb_per_s"]) * 1e9,
        )
    return out


def load_hardware(name: str, *, where: str = "", field: str = "gpu") -> Hardware:
    """The GPU called `name` (exact, or case-insensitive); unknown names are an InputError listing
    the known ones with a did-you-mean."""
    known = hardware_catalogue()
    if name in known:
        return known[name]
    lowered = {k.lower(): k for k in known}
    if isinstance(name, str) and name.lower() in lowered:
        return known[lowered[name.lower()]]
    near = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.4)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise InputError(
        f"unknown GPU {name!r}{hint}",
        file=where or None,
        path=field,
        value=name,
        allowed=", ".join(known),
    )
