"""The kubeconfig `dsim serve` writes: one cluster, one user (bearer token if any), one context."""

from __future__ import annotations

from pathlib import Path

import yaml


def kubeconfig_text(server: str, token: str | None, name: str = "dsim") -> str:
    user: dict[str, str] = {"token": token} if token else {}
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}],
        "current-context": name,
        "preferences": {},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def write_kubeconfig(path: Path, server: str, token: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(kubeconfig_text(server, token), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
