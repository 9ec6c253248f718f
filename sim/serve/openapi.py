"""OpenAPI v3 documents, as far as kubectl needs them.

- `kubectl apply`/`create`/`edit` ask /openapi/v3 whether each kind's PATCH accepts the
  `fieldValidation` query parameter (cli-runtime pkg/resource/query_param_verifier_v3.go
  supportsQueryParamV3); it does, so validation happens on the server (the strict model admission).
- `kubectl explain` reads the schema carrying `x-kubernetes-group-version-kind` for the kind:
  the CRDs' schemas come from model/crd.py, the built-in kinds' from their pydantic models in
  model/ (object_schema), other kinds get an open object.
/openapi/v2 is not served (kubectl falls back to v3)."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from sim.serve.discovery import SERVED, Served, group_versions

_PARAMS = [
    {"name": n, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
    for n in ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")
]


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_name(s: Served) -> str:
    prefix = s.group or "core"
    return f"io.dsim.{prefix}.{s.version}.{s.kind}"


def _model_schema(s: Served) -> dict[str, Any]:
    from model.crd import all_crds, object_schema
    from model.registry import KINDS

    for crd in all_crds():
        if crd["spec"]["names"]["kind"] == s.kind and crd["spec"]["group"] == s.group:
            schema: dict[str, Any] = json.loads(
                json.dumps(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
            )
            return schema
    cls = KINDS.get((s.group_version, s.kind))
    if cls is not None:
        try:
            out = object_schema(cls)
            out.setdefault(
                "description", (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else s.kind
            )
            return out
        except Exception:  # a model shape object_schema cannot express: an open object
            pass
    return {"type": "object", "description": s.kind, "x-kubernetes-preserve-unknown-fields": True}


@functools.cache
def _gv_doc(group: str, version: str) -> str:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for s in SERVED:
        if s.group != group or s.version != version:
            continue
        gvk = {"group": s.group, "version": s.version, "kind": s.kind}
        schema = _model_schema(s)
        schema["x-kubernetes-group-version-kind"] = [gvk]
        schemas[_schema_name(s)] = schema
        ref = {"$ref": f"#/components/schemas/{_schema_name(s)}"}
        ok = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}
        base = "/" + _gv_path(group, version)
        item = (
            f"{base}/namespaces/{{namespace}}/{s.plural}/{{name}}"
            if s.namespaced
            else f"{base}/{s.plural}/{{name}}"
        )
        ops: dict[str, Any] = {
            "get": {"operationId": f"read{s.kind}", "responses": ok, "x-kubernetes-group-version-kind": gvk}
        }
        if s.store_kind is not None:
            for verb in ("put", "patch", "delete"):
                ops[verb] = {
                    "operationId": f"{verb}{s.kind}",
                    "parameters": _PARAMS,
                    "responses": ok,
                    "x-kubernetes-action": {"put": "put", "patch": "patch", "delete": "delete"}[verb],
                    "x-kubernetes-group-version-kind": gvk,
                }
        paths[item] = ops
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "dsim serve", "version": "v1.32.0-dsim"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    return json.dumps(doc, sort_keys=True)


def document(rest: list[str]) -> Any:
    """/openapi/v3 (the root listing) and /openapi/v3/<gv path>; None = not found."""
    if not rest or rest[0] != "v3":
        return None
    if len(rest) == 1:
        root: dict[str, Any] = {}
        for group, versions in group_versions().items():
            for v in versions:
                h = hashlib.sha256(_gv_doc(group, v).encode()).hexdigest()[:16].upper()
                p = _gv_path(group, v)
                root[p] = {"serverRelativeURL": f"/openapi/v3/{p}?hash={h}"}
        return {"paths": root}
    path = "/".join(rest[1:])
    for group, versions in group_versions().items():
        for v in versions:
            if _gv_path(group, v) == path:
                return json.loads(_gv_doc(group, v))
    return None
