"""Resolve a scenario's `engines:` block into one `EngineProfile` per role, at load time.

Each `engines.<role>` block (model, GPU, tp, vLLM arguments) goes through `sim.engines.build_profile` with the
role container's `nvidia.com/gpu` request, so a bad block is a one-line bad-input error (exit 2) naming the
field: tp different from the GPU request, unknown model or GPU, weights that do not fit. A model given as a
path to a config.json is resolved against the scenario's folder and confined to it like every other path.
`engine: analytic` keeps the role on today's service models (docs/load.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.engine import EngineKind
from model.errors import InputError
from model.scenario import Scenario
from model.yamlio import LoadedDocument

if TYPE_CHECKING:
    from sim.engines import EngineProfile
    from sim.scenario.load import Manifest

GPU_RESOURCE = "nvidia.com/gpu"


def gpu_request(role: Mapping[str, Any]) -> int:
    """GPUs one pod of the role asks for: the sum over its containers of `nvidia.com/gpu` (requests, else
    limits, as Kubernetes defaults requests to limits for extended resources)."""
    total = 0
    containers = (((role.get("template") or {}).get("spec") or {}).get("containers")) or []
    for c in containers:
        res = c.get("resources") or {}
        value = (res.get("requests") or {}).get(GPU_RESOURCE, (res.get("limits") or {}).get(GPU_RESOURCE, 0))
        try:
            total += int(str(value))
        except ValueError:
            continue  # admission already rejected a malformed quantity
    return total


def resolve_engines(
    scenario: Scenario,
    doc: LoadedDocument,
    name: str,
    root: Path,
    ds: Sequence[Manifest],
    *,
    outside_ok: bool,
) -> dict[str, EngineProfile]:
    """role -> EngineProfile for every `engines` entry that is not `engine: analytic`."""
    if not scenario.engines:
        return {}
    from sim.engines import build_profile, catalogue
    from sim.load.engine import EngineMode, engine_modes
    from sim.load.pipeline import PipelineError, pipeline_from_service

    roles: dict[str, Mapping[str, Any]] = {}
    for m in ds:
        for role in (m.obj.get("spec") or {}).get("roles") or []:
            roles.setdefault(str(role.get("name")), role)
    ids = {k.lower() for k in catalogue()}
    wanted = {r: b for r, b in scenario.engines.items() if b.engine is not EngineKind.ANALYTIC}
    for role_name in scenario.engines:
        if role_name not in roles:
            from sim.scenario.load import _unknown_role

            raise _unknown_role(role_name, list(roles), name, doc, f"engines.{role_name}")
    # an engine must sit on a role an engine serves (prefill, decode, inference)
    modes: dict[str, EngineMode] = {}
    for m in ds:
        try:
            spec = pipeline_from_service(m.obj)
            modes.update(engine_modes(spec, {r: b for r, b in wanted.items() if r in spec.roles}))
        except PipelineError as err:
            raise InputError(
                err.allowed, file=name, line=doc.line_of(err.path), path=err.path, value=err.value
            ) from None
    profiles: dict[str, EngineProfile] = {}
    for role_name, block in wanted.items():
        at = f"engines.{role_name}"
        if block.model.lower() not in ids:
            target = (root / block.model).resolve()
            if not outside_ok and not target.is_relative_to(root):
                raise InputError(
                    "model config path escapes the scenario's folder tree",
                    file=name,
                    line=doc.line_of(f"{at}.model"),
                    path=f"{at}.model",
                    value=block.model,
                    allowed="a catalogue id, or a config.json inside the scenario's folder (or --allow-outside)",
                )
        try:
            profile = build_profile(
                block, gpus_requested=gpu_request(roles[role_name]), where=name, base_dir=root
            )
        except InputError as err:
            if err.file not in (None, name):
                raise  # inside the model's config.json: its own file and line
            field = err.path or ""
            path = f"{at}.{field}" if field else at
            line = doc.line_of(path) or doc.line_of(at)
            raise InputError(err.message, file=name, line=line, path=path, value=err.value) from None
        profiles[role_name] = profile
    # an encoder (no KV cache, no generation) only serves embedding roles
    for role_name, mode in modes.items():
        if profiles[role_name].model.encoder and mode is not EngineMode.EMBEDDING:
            at = f"engines.{role_name}.model"
            raise InputError(
                f"{profiles[role_name].model.name} is an encoder (no KV cache, no generation): it can only "
                f"serve an embedding Inference role, not the {mode.value} role {role_name!r}",
                file=name,
                line=doc.line_of(at),
                path=at,
                value=scenario.engines[role_name].model,
            )
    return profiles
