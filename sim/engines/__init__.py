"""Engine models: a model's config.json and a GPU in, step times and KV capacity out.

- `catalogue`: `ModelSpec` from a Hugging Face config.json (parameters, FLOPs, KV bytes per token).
- `hardware`: the GPU catalogue (peak FLOPs, HBM and link bandwidth, memory).
- `steptime`: the per-iteration step-time model, `Corrections` and `EngineProfile` / `build_profile`.
- `fit`: robust fitting of the corrections from measured phase timings (`dsim calibrate`).
"""

from sim.engines.catalogue import ModelSpec, catalogue, load_model, spec_from_config
from sim.engines.hardware import Hardware, hardware_catalogue, load_hardware
from sim.engines.steptime import (
    Corrections,
    CorrectionValues,
    EngineProfile,
    build_profile,
    default_corrections,
    load_corrections,
)

__all__ = [
    "CorrectionValues",
    "Corrections",
    "EngineProfile",
    "Hardware",
    "ModelSpec",
    "build_profile",
    "catalogue",
    "default_corrections",
    "hardware_catalogue",
    "load_corrections",
    "load_hardware",
    "load_model",
    "spec_from_config",
]
