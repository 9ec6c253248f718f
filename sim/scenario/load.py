"""Resolve a scenario file: read and validate it, resolve relative paths against its folder (never
escaping the folder tree unless allowed), load the manifests, check the trace exists and that every
role named anywhere exists. All problems are `model.errors.InputError` with file, line and YAML
path; nothing is simulated or written before this succeeds."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import InputError
from model.scenario import (
    KillPods,
    Latency,
    MetricsOutage,
    ReplicaBounds,
    RoleReady,
    ScalingActions,
    Scenario,
    scenario_from_data,
)
from model.validation import document_objects, validate_manifest
from model.yamlio import LoadedDocument, dump_documents, load_documents, load_documents_from_string

DS_KIND = "DisaggregatedService"
KV_TRANSFER = "kv-transfer"
"""The key of `services` that tunes the prefill -> decode KV-cache transfer (sim/load)."""


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object of the scenario and where it was written (`doc` and `prefix` locate its
    fields: the manifest file's document, or the scenario's document at `manifests[i].inline`)."""

    obj: dict[str, Any]
    file: str
    line: int | None
    doc: LoadedDocument | None = field(default=None, compare=False, repr=False)
    prefix: str = field(default="", compare=False)


@dataclass(frozen=True)
class ResolvedScenario:
    scenario: Scenario
    file: Path
    root: Path
    manifests: tuple[Manifest, ...]
    trace: Path | None
    roles: tuple[str, ...]
    """Role names of every DisaggregatedService, in spec order (the pipeline order)."""
    ds_names: tuple[str, ...] = field(default=())
    size_traces: dict[str, Path] = field(default_factory=dict)
    """Resolved files of empirical size distributions, keyed by YAML path without `.trace`
    (`workload.synthetic.inputTokens`, `workload.classes[0].outputTokens`, ...)."""
    engines: dict[str, Any] = field(default_factory=dict)
    """role -> sim.engines.EngineProfile for roles with a (non-analytic) `engines` block."""

    def scenario_yaml(self) -> str:
        """The scenario as it was run (command-line overrides applied), for the run folder."""
        data = self.scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
        return dump_documents([data])

    def manifests_yaml(self) -> str:
        return dump_documents([m.obj for m in self.manifests])


def _line(doc: LoadedDocument, path: str) -> int | None:
    return doc.line_of(path)


def load_scenario(
    path: str | Path,
    *,
    seed: int | None = None,
    profile: str | None = None,
    until: float | None = None,
    allow_outside: bool = False,
    text: str | None = None,
) -> ResolvedScenario:
    """Read, validate and resolve `path` with the command line's overrides applied. With `text`,
    that YAML is the scenario instead of the file's content (relative paths still resolve against
    `path`'s folder): `dsim sweep` resolves each point this way."""
    file = Path(path)
    docs = load_documents(file) if text is None else load_documents_from_string(text, str(file))
    name = str(file)
    if len(docs) != 1:
        raise InputError(
            f"a scenario file holds exactly one YAML document, found {len(docs)}",
            file=name,
            line=docs[1].line if len(docs) > 1 else 1,
            allowed="one mapping with apiVersion: dsim/v1 and kind: Scenario",
        )
    doc = docs[0]
    scenario = scenario_from_data(doc.data, file=name, line_of=doc.line_of)
    if until is not None and until <= 0:
        raise InputError("--until must be a positive number of seconds", value=until, allowed="> 0")
    scenario = scenario.with_overrides(seed=seed, profile=profile, until=until)
    root = file.resolve().parent
    outside_ok = allow_outside or scenario.allow_outside

    def resolve(rel: str, yaml_path: str, what: str) -> Path:
        try:
            target = (root / rel).resolve()
            is_file = target.is_file()
        except (ValueError, OSError) as exc:  # e.g. an embedded NUL byte, a name too long
            raise InputError(
                f"{what} path cannot be used: {exc}",
                file=name,
                line=_line(doc, yaml_path),
                path=yaml_path,
                value=rel,
                allowed="a file path without control characters, relative to the scenario file",
            ) from None
        if not outside_ok and not target.is_relative_to(root):
            raise InputError(
                f"{what} path escapes the scenario's folder tree ({root})",
                file=name,
                line=_line(doc, yaml_path),
                path=yaml_path,
                value=rel,
                allowed="a path inside the scenario's folder, or run with --allow-outside",
            )
        if not is_file:
            raise InputError(
                f"{what} file not found: {target}",
                file=name,
                line=_line(doc, yaml_path),
                path=yaml_path,
                value=rel,
                allowed="an existing file, relative to the scenario file",
            )
        return target

    manifests: list[Manifest] = []
    for i, ref in enumerate(scenario.manifests):
        if ref.inline is not None:
            prefix = f"manifests[{i}].inline"
            manifests.append(Manifest(dict(ref.inline), name, _line(doc, prefix), doc, prefix))
            continue
        assert ref.path is not None
        target = resolve(ref.path, f"manifests[{i}].path", "manifest")
        for mdoc in load_documents(target):
            for obj, prefix, line in document_objects(mdoc):
                manifests.append(Manifest(dict(obj), str(target), line or mdoc.line, mdoc, prefix))
    _admit(manifests)
    _check_node_objects(scenario, doc, name)

    trace = None
    if scenario.workload is not None and scenario.workload.trace is not None:
        trace = resolve(scenario.workload.trace, "workload.trace", "trace")
        _check_trace(trace, scenario.workload.trace_format())
    size_traces = {
        where: resolve(rel, f"{where}.trace", "size trace") for where, rel in _size_trace_refs(scenario)
    }
    _check_unique(manifests)

    ds = [m for m in manifests if m.obj.get("kind") == DS_KIND]
    roles: list[str] = []
    for m in ds:
        for role in m.obj.get("spec", {}).get("roles", []) or []:
            role_name = str(role.get("name"))
            if role_name not in roles:
                roles.append(role_name)
    ds_names = tuple(str(m.obj.get("metadata", {}).get("name")) for m in ds)
    _check_roles(scenario, doc, name, roles, ds_names)
    _check_nodes(scenario, doc, name)
    _check_services(scenario, doc, name, ds)
    from sim.scenario.engines import resolve_engines

    engines = resolve_engines(scenario, doc, name, root, ds, outside_ok=outside_ok)
    return ResolvedScenario(
        scenario,
        file.resolve(),
        root,
        tuple(manifests),
        trace,
        tuple(roles),
        ds_names,
        size_traces,
        engines=engines,
    )


def _size_trace_refs(scenario: Scenario) -> list[tuple[str, str]]:
    """(YAML path, relative file) of every empirical token-size distribution of the workload."""
    wl = scenario.workload
    if wl is None:
        return []
    found: list[tuple[str, Any]] = []
    if wl.synthetic is not None:
        found += [
            ("workload.synthetic.inputTokens", wl.synthetic.input_tokens),
            ("workload.synthetic.outputTokens", wl.synthetic.output_tokens),
        ]
    for i, c in enumerate(wl.classes or []):
        found += [
            (f"workload.classes[{i}].inputTokens", c.input_tokens),
            (f"workload.classes[{i}].outputTokens", c.output_tokens),
        ]
    return [(w, str(d.trace)) for w, d in found if getattr(d, "distribution", None) == "empirical"]


def _admit(manifests: list[Manifest]) -> None:
    """Reject manifests a strict API server would reject: the same check as `dsim validate`
    (model.validation.validate_manifest), reported at the line of the offending field."""
    from model.admission import admit

    for m in manifests:
        if m.doc is not None:
            result = validate_manifest(m.doc, m.obj, m.prefix, m.line)
            errors = result.errors
            ref = " ".join(result.ref.split()) or "<object>"  # a kind or name of spaces stays readable
        else:  # a Manifest built in code, without its document
            errors = [i for i in admit(m.obj) if i.severity == "error"]
            ref = str(m.obj.get("kind", "?"))
        if errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            path = first.path
            if m.prefix.startswith("manifests["):  # inline: the path within the scenario file
                path = f"{m.prefix}.{path}" if path else m.prefix
            raise InputError(
                f"{ref}: {first.message}{more}",
                file=m.file,
                line=first.line or m.line,
                path=path,
                value=first.value,
            )


def _check_node_objects(scenario: Scenario, doc: LoadedDocument, name: str) -> None:
    """The Nodes the cluster section becomes at t=0, admitted now as the API server will admit
    them, so a bad node-pool value is a bad-input error at the scenario's line, not a crash."""
    from model.admission import admit
    from sim.scenario.cluster import node_objects

    for i, pool in enumerate(scenario.cluster.node_pools):
        first = node_objects(type(scenario.cluster)(node_pools=[pool.model_copy(update={"count": 1})]))
        for obj in first[:1]:
            issues = [x for x in admit(obj) if x.severity == "error"]
            if issues:
                where = f"cluster.nodePools[{i}]"
                raise InputError(
                    f"node pool {pool.name!r} makes an invalid Node: {issues[0].path}: {issues[0].message}",
                    file=name,
                    line=doc.line_of(where),
                    path=where,
                    value=issues[0].value,
                )


def _unknown_role(role: str, roles: list[str], name: str, doc: LoadedDocument, path: str) -> InputError:
    hint = difflib.get_close_matches(role, roles, n=1)
    return InputError(
        f"no role {role!r} in the scenario's DisaggregatedService"
        + (f"; did you mean {hint[0]!r}?" if hint else ""),
        file=name,
        line=doc.line_of(path),
        path=path,
        value=role,
        allowed=", ".join(roles) if roles else "(no DisaggregatedService in the manifests)",
    )


def _check_roles(
    scenario: Scenario, doc: LoadedDocument, name: str, roles: list[str], ds_names: tuple[str, ...]
) -> None:
    for key in scenario.lifecycle:
        if key not in roles:
            raise _unknown_role(key, roles, name, doc, f"lifecycle.{key}")
    for key in scenario.services:
        if key not in roles and key != KV_TRANSFER:
            raise _unknown_role(key, [*roles, KV_TRANSFER], name, doc, f"services.{key}")
    for i, fault in enumerate(scenario.faults):
        if isinstance(fault, KillPods | MetricsOutage) and fault.role is not None and fault.role not in roles:
            raise _unknown_role(fault.role, roles, name, doc, f"faults[{i}].role")
    for i, exp in enumerate(scenario.expectations):
        role = getattr(exp, "role", None)
        if (
            isinstance(exp, ReplicaBounds | RoleReady | ScalingActions | Latency)
            and role is not None
            and role not in roles
        ):
            raise _unknown_role(role, roles, name, doc, f"expectations[{i}].role")
    wl = scenario.workload
    if wl is not None:
        if wl.target is not None and wl.target not in ds_names:
            raise InputError(
                f"workload.target names no DisaggregatedService in the manifests: {wl.target!r}",
                file=name,
                line=doc.line_of("workload.target"),
                path="workload.target",
                value=wl.target,
                allowed=", ".join(ds_names) or "(none)",
            )
        if isinstance(wl.routing, dict):
            for key in wl.routing:
                if key not in roles:
                    raise _unknown_role(key, roles, name, doc, f"workload.routing.{key}")
        if wl.target is None and len(ds_names) != 1:
            raise InputError(
                "workload needs 'target' when the manifests hold "
                + ("no DisaggregatedService" if not ds_names else "several DisaggregatedServices"),
                file=name,
                line=doc.line_of("workload"),
                path="workload.target",
                allowed=", ".join(ds_names) or "a DisaggregatedService in the manifests",
            )


def _check_services(scenario: Scenario, doc: LoadedDocument, name: str, ds: list[Manifest]) -> None:
    """Service-model parameters are checked against the model of each role's kind now, so a typo
    is a bad-input error (exit 2, nothing written) rather than a crash at t=0."""
    from sim.load.pipeline import (
        PipelineError,
        RoleStep,
        kv_transfer_params,
        params_for,
        pipeline_from_service,
    )

    if not scenario.services:
        return
    kinds: dict[str, Any] = {}
    for m in ds:
        try:
            spec = pipeline_from_service(m.obj)
        except PipelineError as err:
            raise InputError(str(err), file=m.file, line=m.line, path=err.path, value=err.value) from None
        for step in spec.steps:
            if isinstance(step, RoleStep):
                kinds.setdefault(step.role, step.kind)
    for role, params in scenario.services.items():
        where = f"services.{role}"
        try:
            if role == KV_TRANSFER:
                kv_transfer_params(params)
            elif role in kinds:
                params_for(kinds[role], params, where=where)
        except PipelineError as err:
            path = err.path if err.path.startswith(where) else where
            raise InputError(
                f"bad service-model parameter: {err.allowed}",
                file=name,
                line=doc.line_of(path),
                path=path,
                value=err.value,
            ) from None


def _check_trace(path: Path, fmt: Any) -> None:
    """Read the whole trace once (streaming, constant memory) so a malformed row is a bad-input
    error naming the trace's file and line, not a crash in the middle of a run. A trace already
    found good in this process (same path, size and modification time) is not read again: `dsim
    sweep` resolves the same scenario once per point."""
    stat = path.stat()
    _check_trace_once(str(path), fmt, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _check_trace_once(name: str, fmt: Any, size: int, mtime_ns: int) -> None:
    """Only a good trace is remembered (lru_cache does not keep calls that raise)."""
    path = Path(name)
    from model.scenario import TraceFormat
    from sim.load.arrivals import TraceFormatError, azure_csv, mooncake_jsonl

    reader = mooncake_jsonl if fmt is TraceFormat.MOONCAKE else azure_csv
    try:
        for _ in reader(path):
            pass
    except TraceFormatError as err:
        raise InputError(
            f"bad trace row: {err.value!r}",
            file=str(path),
            line=err.line,
            value=err.value,
            allowed=err.allowed,
        ) from None
    except UnicodeDecodeError:
        raise InputError(
            "the trace is not UTF-8 text", file=str(path), allowed="an Azure CSV or Mooncake JSONL trace"
        ) from None


def _check_unique(manifests: list[Manifest]) -> None:
    """Two manifests for the same object would make the apply at t=0 fail with AlreadyExists."""
    seen: dict[tuple[str, str, str], Manifest] = {}
    for m in manifests:
        meta = m.obj.get("metadata") or {}
        key = (str(m.obj.get("kind")), str(meta.get("namespace") or "default"), str(meta.get("name")))
        first = seen.get(key)
        if first is not None:
            where = f"{first.file}:{first.line}" if first.line else first.file
            raise InputError(
                f"{key[0]} {key[1]}/{key[2]} is defined twice (first at {where})",
                file=m.file,
                line=m.line,
                path="metadata.name",
                value=key[2],
                allowed="one manifest per kind, namespace and name",
            )
        seen[key] = m


def _check_nodes(scenario: Scenario, doc: LoadedDocument, name: str) -> None:
    nodes = [f"{p.name}-{i}" for p in scenario.cluster.node_pools for i in range(p.count)]
    for i, fault in enumerate(scenario.faults):
        node = getattr(fault, "node", None)
        if node is not None and node not in nodes:
            hint = difflib.get_close_matches(node, nodes, n=1)
            raise InputError(
                f"no node {node!r} in the cluster" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                file=name,
                line=doc.line_of(f"faults[{i}].node"),
                path=f"faults[{i}].node",
                value=node,
                allowed="node names are <pool>-<index>, e.g. " + ", ".join(nodes[:4]),
            )
