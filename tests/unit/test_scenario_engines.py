"""The scenario `engines:` block at load time: one profile per role from `build_profile`, checked against
the role's `nvidia.com/gpu` request; bad blocks exit 2 with one `FILE:LINE: engines.<role>.<field>: message`
line; `engine: analytic` (or no block) keeps today's service models, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import cli
from sim.load.engine import EngineServer
from sim.scenario.load import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "scenarios" / "manifests" / "llm-prefill-decode.yaml"  # prefill/decode request 1 GPU

HEAD = """apiVersion: dsim/v1
kind: Scenario
name: engines-test
seed: 3
duration: 200
cluster:
  nodePools:
    - {name: gpu, count: 2, cpu: "64", memory: 512Gi, gpus: 8}
    - {name: cpu, count: 1, cpu: "16", memory: 64Gi}
manifests:
  - path: manifests/pd.yaml
"""
TAIL = """workload:
  synthetic: {shape: constant, rate: 2, inputTokens: 512, outputTokens: 32}
  startAt: 150
"""
GOOD = """engines:
  prefill: {model: meta-llama/Llama-2-70b-hf, gpu: H100-SXM-80GB, tp: 4}
  decode: {model: meta-llama/Llama-2-70b-hf, gpu: H100-SXM-80GB, tp: 4}
"""


def _write(tmp: Path, engines: str, manifest: str | None = None) -> Path:
    (tmp / "manifests").mkdir(exist_ok=True)
    if manifest is None:  # a 4-GPU variant of the shipped manifest: one Llama-2-70B replica at TP 4 per pod
        manifest = MANIFEST.read_text().replace('nvidia.com/gpu: "1"', 'nvidia.com/gpu: "4"')
    (tmp / "manifests" / "pd.yaml").write_text(manifest)
    path = tmp / "scenario.yaml"
    path.write_text(HEAD + engines + TAIL)
    return path


def _bad(path: Path, tmp: Path) -> str:
    result = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp / "out"), "--quiet"])
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert not (tmp / "out").exists()
    return message


def test_engines_resolve_to_profiles(tmp_path: Path) -> None:
    resolved = load_scenario(_write(tmp_path, GOOD))
    assert sorted(resolved.engines) == ["decode", "prefill"]
    assert resolved.engines["decode"].kv_blocks == 31_204


@pytest.mark.parametrize(
    ("engines", "line", "fragments"),
    [
        (
            "engines:\n  prefill: {model: meta-llama/Llama-2-70b-hf, gpu: H100-SXM-80GB, tp: 8}\n",
            13,
            ["engines.prefill.tp", "tp 8 must equal the role container's nvidia.com/gpu request (4)"],
        ),
        (
            "engines:\n  prefill: {model: meta-llama/Llama-2-70b-hf, gpu: H100-SXM-80GB, tp: 1}\n",
            13,
            ["engines.prefill.tp", "tp 1 must equal"],
        ),
        (
            "engines:\n  prefill: {model: meta-llama/Llama-2-70b, gpu: H100-SXM-80GB, tp: 4}\n",
            13,
            ["engines.prefill.model", "unknown model"],
        ),
        (
            "engines:\n  prefill: {model: meta-llama/Llama-2-70b-hf, gpu: H100-PCIe, tp: 4}\n",
            13,
            ["engines.prefill", "H100-PCIe"],
        ),
        (
            "engines:\n  router: {model: meta-llama/Llama-3.1-8B-Instruct, gpu: H100-SXM-80GB, tp: 1}\n",
            13,
            ["engines.router", "Router"],
        ),
        (
            "engines:\n  decode: {model: BAAI/bge-large-en-v1.5, gpu: H100-SXM-80GB, tp: 4}\n",
            13,
            ["engines.decode", "encoder"],
        ),
        (
            "engines:\n  decodr: {model: meta-llama/Llama-2-70b-hf, gpu: H100-SXM-80GB, tp: 4}\n",
            13,
            ["engines.decodr", "did you mean 'decode'"],
        ),
        (
            "engines:\n  prefill: {model: ../outside/config.json, gpu: H100-SXM-80GB, tp: 4}\n",
            13,
            ["engines.prefill.model", "escapes"],
        ),
    ],
)
def test_bad_engine_blocks_exit_2(
    tmp_path: Path, engines: str, line: int | None, fragments: list[str]
) -> None:
    message = _bad(_write(tmp_path, engines), tmp_path)
    for f in fragments:
        assert f in message, message
    if line is not None:
        assert f"scenario.yaml:{line}: " in message, message


def test_weights_that_do_not_fit(tmp_path: Path) -> None:
    manifest = MANIFEST.read_text()  # 1 GPU per pod
    engines = "engines:\n  prefill: {model: meta-llama/Llama-2-70b-hf, gpu: H100-SXM-80GB, tp: 1}\n"
    message = _bad(_write(tmp_path, engines, manifest), tmp_path)
    assert "scenario.yaml:13: engines.prefill.tp: " in message
    assert "128 GiB" in message and "1 × 80 GiB × 0.9 available" in message


def test_encoder_on_a_generating_role(tmp_path: Path) -> None:
    manifest = MANIFEST.read_text()  # 1 GPU per pod
    engines = "engines:\n  decode: {model: BAAI/bge-large-en-v1.5, gpu: H100-SXM-80GB, tp: 1}\n"
    message = _bad(_write(tmp_path, engines, manifest), tmp_path)
    assert "scenario.yaml:13: engines.decode.model: " in message and "encoder" in message


def test_analytic_engine_keeps_the_digest(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    plain = run_scenario(load_scenario(_write(a, "")), a / "out", render=False)
    analytic = "engines:\n  prefill: {model: meta-llama/Llama-2-70b-hf, gpu: H100-SXM-80GB, tp: 4, engine: analytic}\n"
    resolved = load_scenario(_write(b, analytic))
    assert resolved.engines == {}
    same = run_scenario(resolved, b / "out", render=False)
    assert plain.summary["digest"] == same.summary["digest"]


def test_engine_roles_run_engine_servers(tmp_path: Path) -> None:
    from sim.scenario.world import World

    world = World(load_scenario(_write(tmp_path, GOOD)))
    world.build()
    world.run()
    load = next(iter(world.loads.values()))
    servers = [s for role in ("prefill", "decode") for s in load.roles[role].servers.values()]
    assert servers and all(isinstance(s, EngineServer) for s in servers)
    assert load.stats().completed > 0
    # KV transfer: 327,680 B/token (Llama-2-70B, fp16) over 4 ranks x 50 GB/s
    assert load.kv.bytes_per_token == 327_680 and load.kv.bandwidth_bytes_per_s == 200e9
