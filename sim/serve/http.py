"""The HTTP front of `dsim serve`: routing, verbs, watch streaming, Status errors, auth, body limits.

One `ThreadingHTTPServer`; every touch of the world happens under `Driver.lock`. Reads serialise
the server's stored objects, which are immutable snapshots (sim.apiserver.store), outside the lock.
Bad input of any shape answers a metav1.Status (400, 401, 404, 405, 409, 410, 413, 415, 422), never
a traceback; an unexpected server fault is a one-line 500 Status."""

from __future__ import annotations

import contextlib
import hmac
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from sim.apiserver.errors import ApiError, Unsupported
from sim.serve import discovery, openapi, tables, wallclock
from sim.serve.discovery import Served
from sim.serve.driver import Driver
from sim.serve.patches import PatchError, apply_json_patch, apply_strategic_merge
from sim.serve.query import (
    QueryError,
    decode_continue,
    encode_continue,
    fields_match,
    parse_field_selector,
    parse_int,
    parse_label_selector,
)

MAX_BODY = 3 * 1024 * 1024  # kube-apiserver's default request body limit (3 MiB)
_SYNTH_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


class HttpError(Exception):
    def __init__(self, code: int, reason: str, message: str, close: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.close = close


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        out["details"] = details
    return out


def _api_error_status(err: ApiError, served: Served | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if err.name:
        details["name"] = err.name
    if served is not None:
        if served.group:
            details["group"] = served.group
        # NewInvalid names the Kind; NotFound, Conflict... name the resource (apimachinery errors.go)
        details["kind"] = served.kind if err.code == 422 else served.plural
    if err.causes:
        details["causes"] = [{"reason": c.reason, "message": c.message, "field": c.field} for c in err.causes]
    if err.retry_after_seconds is not None:
        details["retryAfterSeconds"] = err.retry_after_seconds
    return status(err.code, err.reason.value, err.message, details)


def _not_found_path(path: str) -> HttpError:
    return HttpError(404, "NotFound", f"the server could not find the requested resource (path {path!r})")


def _parse_json_bytes(raw: bytes, ctype: str) -> Any:
    def bad_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        text = raw.decode("utf-8")
        if "yaml" in ctype:
            value = yaml.safe_load(text)
            json.dumps(value, allow_nan=False)  # YAML dates, sets, NaN...: not JSON
            return value
        return json.loads(text, parse_constant=bad_constant)
    except (ValueError, TypeError, yaml.YAMLError, RecursionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HttpError(400, "BadRequest", f"the request body is not valid {_fmt(ctype)}: {first}") from None


def _fmt(ctype: str) -> str:
    return "YAML" if "yaml" in ctype else "JSON"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # header and body writes must not wait for a delayed ACK (40 ms)
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: kubectl polls a lot

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    # ------------------------------------------------------------------ plumbing

    @property
    def app(self) -> ServeServer:
        return self.server.app

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        """Status line, headers and body in one write (one segment on the wire for small replies)."""
        reason = self.responses.get(code, ("",))[0]
        head = (
            f"HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"Cache-Control: no-cache, private\r\n"
        )
        if self.close_connection:
            head += "Connection: close\r\n"
        payload = (head + "\r\n").encode()
        self.wfile.write(payload if self.command == "HEAD" else payload + body)

    def _send_json(self, code: int, obj: Any) -> None:
        self._send(code, json.dumps(obj, separators=(",", ":")).encode())

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise HttpError(
                411, "BadRequest", "chunked request bodies are not supported; send Content-Length", True
            )
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise HttpError(400, "BadRequest", f"invalid Content-Length {length_text!r}", True) from None
        if length < 0:
            raise HttpError(400, "BadRequest", f"invalid Content-Length {length_text!r}", True)
        if length > self.app.max_body:
            raise HttpError(
                413,
                "RequestEntityTooLarge",
                f"the request body is {length} bytes; the limit is {self.app.max_body} bytes",
                True,
            )
        return self.rfile.read(length)

    def _dispatch(self, method: str) -> None:
        served: Served | None = None
        try:
            self._check_token()
            body = self._read_body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
            split = urlsplit(self.path)
            raw_q = parse_qs(split.query, keep_blank_values=True)
            query = {k: v[-1] for k, v in raw_q.items()}
            segs = [unquote(s) for s in split.path.split("/") if s]
            served = self._route(method, split.path, segs, query, body)
        except HttpError as err:
            if err.close:
                self.close_connection = True
            self._send_json(err.code, status(err.code, err.reason, err.message))
        except ApiError as err:
            self._send_json(err.code, _api_error_status(err, served))
        except Unsupported as err:
            self._send_json(400, status(400, "BadRequest", str(err)))
        except PatchError as err:
            self._send_json(422, status(422, "Invalid", str(err)))
        except QueryError as err:
            self._send_json(400, status(400, "BadRequest", str(err)))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug, not bad input: one line, no traceback
            print(
                f"dsim serve: internal error on {method} {self.path}: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send_json(500, status(500, "InternalError", f"internal error: {type(exc).__name__}"))

    def _check_token(self) -> None:
        token = self.app.token
        if token is None:
            return
        got = self.headers.get("Authorization", "")
        if not hmac.compare_digest(got.encode(), f"Bearer {token}".encode()):
            raise HttpError(401, "Unauthorized", "Unauthorized")

    # ------------------------------------------------------------------ routing

    def _route(
        self, method: str, path: str, segs: list[str], q: dict[str, str], body: bytes
    ) -> Served | None:
        if segs[:2] == ["dsim", "v1"]:
            self._dsim(method, segs[2:], q)
            return None
        if method in ("GET", "HEAD"):
            doc = self._static(segs)
            if doc is not None:
                self._send_json(200, doc)
                return None
            if segs in (["healthz"], ["readyz"], ["livez"]):
                self._send(200, b"ok", "text/plain")
                return None
        if len(segs) >= 3 and segs[:2] == ["api", "v1"]:
            return self._resource(method, "", "v1", segs[2:], q, body, path)
        if len(segs) >= 4 and segs[0] == "apis":
            return self._resource(method, segs[1], segs[2], segs[3:], q, body, path)
        if method not in ("GET", "HEAD"):
            raise HttpError(405, "MethodNotAllowed", f"{method} is not supported on {path!r}")
        raise _not_found_path(path)

    def _static(self, segs: list[str]) -> Any:
        if segs == []:
            paths = ["/api", "/api/v1", "/apis", "/version", "/openapi/v2", "/openapi/v3", "/dsim/v1/clock"]
            paths += [f"/apis/{g}" for g in discovery.group_versions() if g]
            return {"paths": sorted(paths)}
        if segs == ["version"]:
            return discovery.VERSION_INFO
        if segs == ["api"]:
            return discovery.api_versions()
        if segs == ["api", "v1"]:
            return discovery.resource_list("", "v1")
        if segs == ["apis"]:
            return discovery.api_group_list()
        if len(segs) == 2 and segs[0] == "apis":
            return discovery.api_group(segs[1])
        if len(segs) == 3 and segs[0] == "apis":
            return discovery.resource_list(segs[1], segs[2])
        if segs and segs[0] == "openapi":
            return openapi.document(segs[1:])
        return None

    def _dsim(self, method: str, rest: list[str], q: dict[str, str]) -> None:
        driver = self.app.driver
        if rest == ["clock"] and method in ("GET", "HEAD"):
            self._send_json(200, driver.clock())
            return
        if rest == ["advance"]:
            if method != "POST":
                raise HttpError(
                    405, "MethodNotAllowed", "advance the clock with POST /dsim/v1/advance?seconds=S"
                )
            if driver.speed is not None:
                raise HttpError(409, "Conflict", "the clock runs on its own (--speed); advance needs --step")
            text = q.get("seconds", "")
            try:
                seconds = float(text)
            except ValueError:
                raise HttpError(400, "BadRequest", f"seconds={text!r} is not a number of seconds") from None
            if not (0 <= seconds <= 1e7):
                raise HttpError(400, "BadRequest", f"seconds={text!r} must be between 0 and 10000000")
            clock = driver.advance(seconds)
            if clock["error"]:
                last = str(clock["error"]).strip().splitlines()[-1]
                raise HttpError(500, "InternalError", f"the simulation stopped with an error: {last}")
            self._send_json(200, clock)
            return
        raise _not_found_path("/dsim/v1/" + "/".join(rest))

    def _resource(
        self,
        method: str,
        group: str,
        version: str,
        rest: list[str],
        q: dict[str, str],
        body: bytes,
        path: str,
    ) -> Served | None:
        ns: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        if len(rest) > 3:
            raise _not_found_path(path)
        served = discovery.BY_PATH.get((group, version, rest[0]))
        if served is None or (ns is not None and not served.namespaced):
            raise _not_found_path(path)
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in served.subresources:
            raise _not_found_path(path)
        if served.namespaced and ns is None and name is not None:
            raise _not_found_path(path)
        if q.get("dryRun") and method not in ("GET", "HEAD"):
            raise HttpError(400, "BadRequest", "dryRun is not supported by dsim serve; leave it out")
        if served.store_kind is None and method not in ("GET", "HEAD"):
            raise HttpError(405, "MethodNotAllowed", f"{served.plural} are read-only in dsim serve")
        if method in ("GET", "HEAD"):
            if name is None:
                if q.get("watch") in ("1", "true", "True"):
                    self._watch(served, ns, q)
                else:
                    self._list(served, ns, q)
            else:
                self._get(served, ns or "", name, sub)
        elif method == "POST" and name is None:
            self._create(served, ns, body)
        elif method == "PUT" and name is not None and sub != "log":
            self._update(served, ns or "", name, sub, body)
        elif method == "PATCH" and name is not None and sub != "log":
            self._patch(served, ns or "", name, sub, body, q)
        elif method == "DELETE" and name is not None and sub is None:
            self._delete(served, ns or "", name, body, q)
        else:
            raise HttpError(405, "MethodNotAllowed", f"{method} is not supported on {path!r}")
        return served

    # ------------------------------------------------------------------ reads

    def _wants_table(self) -> bool:
        return "as=Table" in self.headers.get("Accept", "")

    def _now_dt(self) -> Any:
        return self.app.driver.world.sim.wall_time()

    def _namespaces(self) -> list[dict[str, Any]]:
        api = self.app.driver.api
        names = set(_SYNTH_NAMESPACES)
        for table in api.store.objects.values():
            names.update(ns for ns, _ in table if ns)
        created = self.app.driver.world.sim.timestamp(0.0)
        return [
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": n,
                    "uid": f"namespace-{n}",
                    "resourceVersion": "1",
                    "creationTimestamp": created,
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
            for n in sorted(names)
        ]

    def _snapshot(self, served: Served, ns: str | None) -> tuple[list[dict[str, Any]], str]:
        driver = self.app.driver
        with driver.lock:
            rv = driver.api.resource_version
            if served.kind == "Namespace":
                return self._namespaces(), rv
            if served.store_kind is None:
                return [], rv
            objs = driver.api.all_objects(served.store_kind)
        if ns is not None:
            objs = [o for o in objs if o["metadata"].get("namespace") == ns]
        return objs, rv

    def _filter(self, objs: list[dict[str, Any]], q: dict[str, str]) -> list[dict[str, Any]]:
        from sim.apiserver.selectors import selector_matches

        label = q.get("labelSelector", "")
        if label:
            sel = parse_label_selector(label)
            objs = [o for o in objs if selector_matches(sel, o["metadata"].get("labels"))]
        field = q.get("fieldSelector", "")
        if field:
            reqs = parse_field_selector(field)
            objs = [o for o in objs if fields_match(reqs, o)]
        return objs

    def _list(self, served: Served, ns: str | None, q: dict[str, str]) -> None:
        limit = parse_int("limit", q.get("limit"))
        cont = q.get("continue", "")
        objs, rv = self._snapshot(served, ns)
        objs = self._filter(objs, q)
        meta: dict[str, Any] = {"resourceVersion": rv}
        if cont:
            _, start = decode_continue(cont)
            objs = objs[start:]
        else:
            start = 0
        if limit:
            if len(objs) > limit:
                meta["continue"] = encode_continue(rv, start + limit)
                meta["remainingItemCount"] = len(objs) - limit
            objs = objs[:limit]
        if self._wants_table():
            self._send_json(200, tables.table(served.kind, objs, self._now_dt(), meta))
            return
        self._send_json(
            200,
            {
                "kind": f"{served.kind}List",
                "apiVersion": served.group_version,
                "metadata": meta,
                "items": objs,
            },
        )

    def _lookup(self, served: Served, ns: str, name: str) -> dict[str, Any]:
        driver = self.app.driver
        with driver.lock:
            if served.kind == "Namespace":
                found = [o for o in self._namespaces() if o["metadata"]["name"] == name]
                obj = found[0] if found else None
            elif served.store_kind is None:
                obj = None
            else:
                obj = driver.api.peek(served.store_kind, ns, name)
        if obj is None:
            resource = f"{served.plural}.{served.group}" if served.group else served.plural
            raise HttpError(404, "NotFound", f'{resource} "{name}" not found')
        return obj

    def _get(self, served: Served, ns: str, name: str, sub: str | None) -> None:
        driver = self.app.driver
        if sub == "scale":
            with driver.lock:
                scale = driver.api.get_scale(served.store_kind, ns, name, actor=self._actor())
            self._send_json(200, scale)
            return
        obj = self._lookup(served, ns, name)
        if sub == "log":
            self._send(200, self._pod_log(obj).encode(), "text/plain")
            return
        if self._wants_table():
            self._send_json(200, tables.table(served.kind, [obj], self._now_dt(), {}))
            return
        self._send_json(200, obj)

    def _pod_log(self, pod: dict[str, Any]) -> str:
        """The pod's simulated lifecycle as log lines: each recorded change of phase and conditions."""
        meta = pod["metadata"]
        driver = self.app.driver
        events = driver.hub.history("Pod", meta.get("namespace", ""), meta["name"])
        lines = [f"{meta.get('creationTimestamp')} created on the simulated cluster (uid {meta['uid']})"]
        last = ""
        for e in events:
            st = e.obj.get("status") or {}
            conds = ",".join(
                f"{c.get('type')}={c.get('status')}"
                for c in st.get("conditions") or []
                if isinstance(c, dict)
            )
            node = (e.obj.get("spec") or {}).get("nodeName") or "-"
            state = f"phase={st.get('phase', '?')} node={node} {conds}".strip()
            if e.type == "DELETED":
                state = "deleted"
            elif e.obj["metadata"].get("deletionTimestamp"):
                state += " terminating"
            if state != last:
                lines.append(f"{driver.world.sim.timestamp(e.t)} t={e.t:g}s {state}")
                last = state
        return "\n".join(lines) + "\n"

    def _actor(self) -> str:
        agent = self.headers.get("User-Agent", "") or "client"
        return "http:" + agent.split("/")[0].split(" ")[0][:40]

    # ------------------------------------------------------------------ watch

    def _watch(self, served: Served, ns: str | None, q: dict[str, str]) -> None:
        app = self.app
        hub = app.driver.hub
        timeout = parse_int("timeoutSeconds", q.get("timeoutSeconds"))
        rv_text = q.get("resourceVersion", "")
        as_table = self._wants_table()
        label = q.get("labelSelector", "")
        sel = parse_label_selector(label) if label else None
        field = q.get("fieldSelector", "")
        reqs = parse_field_selector(field) if field else None
        initial: list[dict[str, Any]] = []
        gone: str | None = None
        if rv_text in ("", "0"):
            with app.driver.lock:
                initial, _ = self._snapshot(served, ns)
                seq = hub.next_seq
            initial = self._filter(initial, q)
        else:
            rv = parse_int("resourceVersion", rv_text)
            assert rv is not None
            if hub.too_old(rv):
                gone = f"too old resource version: {rv} ({hub.dropped_before_rv + 1})"
            seq = hub.seq_after_rv(rv)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        first = [True]

        def emit(etype: str, obj: dict[str, Any]) -> None:
            if as_table and etype != "ERROR":
                obj = tables.table(served.kind, [obj], self._now_dt(), {}, with_columns=first[0])
                first[0] = False
            line = json.dumps({"type": etype, "object": obj}, separators=(",", ":")).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))

        from sim.apiserver.selectors import selector_matches

        try:
            if gone is not None:
                emit("ERROR", status(410, "Expired", gone))
            else:
                for obj in initial:
                    emit("ADDED", obj)
                self.wfile.flush()
                deadline = None if timeout is None else wallclock.monotonic() + timeout
                while not app.closing:
                    wait = 1.0 if deadline is None else min(1.0, deadline - wallclock.monotonic())
                    if wait <= 0:
                        break
                    events, seq = hub.read(seq, wait)
                    for e in events:
                        if e.kind != served.store_kind:
                            continue
                        meta = e.obj["metadata"]
                        if ns is not None and meta.get("namespace") != ns:
                            continue
                        if sel is not None and not selector_matches(sel, meta.get("labels")):
                            continue
                        if reqs is not None and not fields_match(reqs, e.obj):
                            continue
                        emit(e.type, e.obj)
                    if events:
                        self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    # ------------------------------------------------------------------ writes

    def _body_object(self, body: bytes, served: Served) -> dict[str, Any]:
        if not body:
            raise HttpError(400, "BadRequest", "the request needs a body (a JSON object)")
        ctype = self.headers.get("Content-Type", "application/json")
        obj = _parse_json_bytes(body, ctype)
        if not isinstance(obj, dict):
            raise HttpError(
                400, "BadRequest", f"the request body must be a JSON object, got {type(obj).__name__}"
            )
        kind = obj.setdefault("kind", served.kind)
        api_version = obj.setdefault("apiVersion", served.group_version)
        if kind != served.kind or api_version != served.group_version:
            raise HttpError(
                400,
                "BadRequest",
                f"the body is {api_version!r} {kind!r} but the URL is for {served.group_version} {served.kind}",
            )
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise HttpError(400, "BadRequest", "metadata must be a JSON object")
        return obj

    def _set_namespace(self, served: Served, obj: dict[str, Any], ns: str | None) -> None:
        meta = obj["metadata"]
        if not served.namespaced:
            return
        given = meta.get("namespace")
        if given not in (None, "") and given != ns:
            raise HttpError(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
            )
        meta["namespace"] = ns

    def _create(self, served: Served, ns: str | None, body: bytes) -> None:
        obj = self._body_object(body, served)
        if served.namespaced and ns is None:
            raise HttpError(
                405, "MethodNotAllowed", f"create {served.plural} in a namespace: /namespaces/NS/..."
            )
        self._set_namespace(served, obj, ns)
        driver = self.app.driver
        with driver.lock:
            created = driver.api.create(obj, actor=self._actor(), copy_result=False)
        self._send_json(201, created)

    def _update(self, served: Served, ns: str, name: str, sub: str | None, body: bytes) -> None:
        driver = self.app.driver
        if sub == "scale":
            scale = _parse_json_bytes(body, "json") if body else None
            if not isinstance(scale, dict) or not isinstance(scale.get("spec"), dict):
                raise HttpError(400, "BadRequest", "a Scale update needs a JSON object with spec.replicas")
            meta = scale.get("metadata") if isinstance(scale.get("metadata"), dict) else {}
            rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
            with driver.lock:
                out = driver.api.update_scale(
                    served.store_kind,
                    ns,
                    name,
                    scale["spec"].get("replicas"),
                    actor=self._actor(),
                    resource_version=rv if isinstance(rv, str) else None,
                )
            self._send_json(200, out)
            return
        obj = self._body_object(body, served)
        self._put(served, ns, name, sub, obj)

    def _put(self, served: Served, ns: str, name: str, sub: str | None, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if meta.get("name") not in (None, name):
            raise HttpError(
                400,
                "BadRequest",
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})",
            )
        meta["name"] = name
        self._set_namespace(served, obj, ns if served.namespaced else None)
        driver = self.app.driver
        with driver.lock:
            if sub == "status":
                out = driver.api.update_status(obj, actor=self._actor(), copy_result=False)
            else:
                out = driver.api.update(obj, actor=self._actor(), copy_result=False)
        self._send_json(200, out)

    def _patch(
        self, served: Served, ns: str, name: str, sub: str | None, body: bytes, q: dict[str, str]
    ) -> None:
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        driver = self.app.driver
        kind = served.store_kind
        assert kind is not None
        if ctype not in (
            "application/merge-patch+json",
            "application/json-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ):
            raise HttpError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format ({ctype or 'none'}); accepted: "
                "application/json-patch+json, application/merge-patch+json, "
                "application/strategic-merge-patch+json, application/apply-patch+yaml",
            )
        if not body:
            raise HttpError(400, "BadRequest", "a patch needs a body")
        patch = _parse_json_bytes(body, ctype)
        actor = self._actor()
        if ctype == "application/strategic-merge-patch+json" and served.group == "scaler.bud.studio":
            raise HttpError(
                415,
                "UnsupportedMediaType",
                "strategic merge patch is not supported for custom resources; "
                "use application/merge-patch+json",
            )
        if ctype == "application/json-patch+json":
            if not isinstance(patch, list):
                raise HttpError(400, "BadRequest", "a JSON patch must be a JSON array of operations")
        elif not isinstance(patch, dict):
            raise HttpError(400, "BadRequest", f"a {ctype} body must be a JSON object")
        if ctype == "application/apply-patch+yaml":
            self._apply(served, ns, name, sub, patch)
            return
        if ctype == "application/merge-patch+json":
            with driver.lock:
                out = driver.api.patch(kind, ns, name, patch, actor=actor, subresource=sub, copy_result=False)
            if sub == "scale":
                with driver.lock:
                    out = driver.api.get_scale(kind, ns, name, actor=actor)
            self._send_json(200, out)
            return
        with driver.lock:
            if sub == "scale":
                current = driver.api.get_scale(kind, ns, name, actor=actor)
            else:
                current = driver.api.get(kind, ns, name, actor=actor)
            if ctype == "application/json-patch+json":
                new = apply_json_patch(current, patch)
            else:
                new = apply_strategic_merge(current, patch)
            if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
                raise PatchError("the patched object is not an object with metadata")
            if sub == "scale":
                replicas = (
                    (new.get("spec") or {}).get("replicas") if isinstance(new.get("spec"), dict) else None
                )
                rv = new["metadata"].get("resourceVersion")
                out = driver.api.update_scale(
                    kind,
                    ns,
                    name,
                    replicas,
                    actor=actor,
                    resource_version=rv if isinstance(rv, str) else None,
                )
                self._send_json(200, out)
                return
            if new.get("kind") != served.kind or new.get("apiVersion") != served.group_version:
                raise PatchError("a patch may not change kind or apiVersion")
            self._put(served, ns, name, sub, new)

    def _apply(self, served: Served, ns: str, name: str, sub: str | None, applied: dict[str, Any]) -> None:
        """Server-side apply, approximated: create when absent, else a merge patch of the applied
        configuration (no managedFields, no field-ownership conflicts; docs/serve.md)."""
        driver = self.app.driver
        kind = served.store_kind
        assert kind is not None
        applied = dict(applied)
        applied.pop("status", None) if sub is None else None
        meta = applied.get("metadata") if isinstance(applied.get("metadata"), dict) else {}
        assert isinstance(meta, dict)
        meta = {k: v for k, v in meta.items() if k != "managedFields"}
        applied["metadata"] = meta
        with driver.lock:
            exists = driver.api.peek(kind, ns if served.namespaced else "", name) is not None
        if not exists and sub is None:
            obj = dict(applied)
            obj.setdefault("kind", served.kind)
            obj.setdefault("apiVersion", served.group_version)
            body = json.dumps(obj).encode()
            self.headers.replace_header(
                "Content-Type", "application/json"
            ) if "Content-Type" in self.headers else None
            self._create(served, ns if served.namespaced else None, body)
            return
        with driver.lock:
            out = driver.api.patch(
                kind, ns, name, applied, actor=self._actor(), subresource=sub, copy_result=False
            )
        self._send_json(200, out)

    def _delete(self, served: Served, ns: str, name: str, body: bytes, q: dict[str, str]) -> None:
        opts: dict[str, Any] = {}
        if body:
            parsed = _parse_json_bytes(body, self.headers.get("Content-Type", "json"))
            if parsed is not None and not isinstance(parsed, dict):
                raise HttpError(400, "BadRequest", "DeleteOptions must be a JSON object")
            opts = parsed or {}
        policy = opts.get("propagationPolicy") or q.get("propagationPolicy") or "Background"
        if policy not in ("Foreground", "Background", "Orphan"):
            raise HttpError(
                400,
                "BadRequest",
                f"propagationPolicy {policy!r} is not one of Foreground, Background, Orphan",
            )
        if opts.get("orphanDependents") is True or q.get("orphanDependents") == "true":
            policy = "Orphan"
        grace_raw = opts.get("gracePeriodSeconds", q.get("gracePeriodSeconds"))
        grace = parse_int("gracePeriodSeconds", None if grace_raw is None else str(grace_raw))
        pre = opts.get("preconditions") if isinstance(opts.get("preconditions"), dict) else {}
        assert isinstance(pre, dict)
        driver = self.app.driver
        kind = served.store_kind
        assert kind is not None
        with driver.lock:
            current = self._lookup(served, ns, name)
            if pre.get("uid") not in (None, current["metadata"]["uid"]):
                raise HttpError(
                    409,
                    "Conflict",
                    f"Precondition failed: UID in precondition: {pre.get('uid')}, "
                    f"UID in object meta: {current['metadata']['uid']}",
                )
            rv = pre.get("resourceVersion")
            driver.api.delete(
                kind,
                ns,
                name,
                actor=self._actor(),
                grace_period_seconds=grace,
                propagation_policy=policy,
                resource_version=rv if isinstance(rv, str) else None,
            )
            after = driver.api.peek(kind, ns if served.namespaced else "", name)
        if after is not None:
            self._send_json(200, after)
            return
        details = {"name": name, "kind": served.plural, "uid": current["metadata"]["uid"]}
        if served.group:
            details["group"] = served.group
        self._send_json(
            200,
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details},
        )


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: ServeServer


class ServeServer:
    """The HTTP server around a Driver. `start()` serves in a background thread; `shutdown()` stops
    every watch and the listener. Usable as a context manager (tests)."""

    def __init__(
        self,
        driver: Driver,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        self.driver = driver
        self.token = token
        self.max_body = max_body
        self.closing = False
        self.httpd = _HTTPServer((host, port), _Handler)
        self.httpd.app = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self.httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="dsim-serve-http", daemon=True)
        self._thread.start()
        self.driver.start()

    def shutdown(self) -> None:
        self.closing = True
        self.driver.stop()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ServeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
