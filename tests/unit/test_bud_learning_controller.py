"""Prediction and learning run by the BudAIScaler controller (issue 16): the controller restart
(what upstream's storage keeps and what it loses), the three learning quirks, and what the decision
events and status carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from model.quirks import Quirk, QuirkSet
from sim.apiserver import APIServer
from sim.apiserver.admission import model_admission
from sim.apiserver.faults import FaultWindow
from sim.clock import Simulation
from sim.controllers.bud_learning import PredictionRuntime
from sim.controllers.budaiscaler import BudAIScalerReconciler, start_budaiscaler_controller
from sim.decisions.bud_learning.storage import config_map_name, load
from sim.decisions.bud_learning.system import LearningSystem
from sim.runtime import InformerFactory

NS = "default"


class RampMetrics:
    """Per-pod `load` rising by `slope` per minute from `base` (one value per deployment label)."""

    def __init__(self, per_app: dict[str, tuple[float, float]]) -> None:
        self.per_app = per_app

    def pod_metric(self, namespace: str, pod: str, metric: str, now: float) -> float | None:
        if metric != "load":
            return None
        app = pod.rsplit("-", 1)[0]
        base, slope = self.per_app[app]
        return base + slope * now / 60.0


def scaler(name: str, target: str, **pred: Any) -> dict[str, Any]:
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": 1,
            "maxReplicas": 20,
            "scalingStrategy": "BudScaler",
            "metricsSources": [{"metricSourceType": "pod", "targetMetric": "load", "targetValue": "10"}],
            "predictionConfig": {"enabled": True, "lookAheadMinutes": 15, "enableLearning": True, **pred},
        },
    }


class World:
    def __init__(self, profile: str, per_app: dict[str, tuple[float, float]]) -> None:
        self.sim = Simulation(seed=3)
        self.api = APIServer(self.sim, admission=model_admission)  # as in a scenario run
        self.informers = InformerFactory(self.sim, self.api)
        self.events: list[dict[str, Any]] = []
        self.rec: BudAIScalerReconciler = start_budaiscaler_controller(
            self.sim,
            self.api,
            self.informers,
            RampMetrics(per_app),
            QuirkSet(profile),
            events=self.events.append,
        )

    def deployment(self, name: str, replicas: int) -> None:
        labels = {"app": name}
        self.api.create(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "c", "image": "x"}]},
                    },
                },
            }
        )
        dep = self.api.get("Deployment", NS, name)
        dep["status"] = {"replicas": replicas, "readyReplicas": replicas}
        self.api.update_status(dep)  # no Deployment controller here: the pods stay as created
        for i in range(replicas):
            self.api.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": f"{name}-{i}", "namespace": NS, "labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                }
            )
            pod = self.api.get("Pod", NS, f"{name}-{i}")
            pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
            self.api.update_status(pod)

    def decisions(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == "decision" and e["scaler"] == f"{NS}/{name}"]

    def config_map(self, name: str) -> dict[str, Any] | None:
        for obj in self.api.all_objects("ConfigMap"):
            if obj["metadata"]["name"] == config_map_name(name):
                return obj
        return None


def _system(w: World, name: str) -> LearningSystem:
    return w.rec.prediction.systems[(NS, name)]


@pytest.mark.parametrize("profile", ["upstream", "corrected"])
def test_restart_keeps_exactly_what_the_config_map_holds(profile: str) -> None:
    w = World(profile, {"web": (10.0, 0.0)})
    w.deployment("web", 2)
    w.api.create(scaler("s", "web"))
    w.sim.run(until=1800.0)  # 30 min of 10 s reconciles: verifications after 15 min, saves every 5 min
    before = _system(w, "s")
    assert before.observations > 150 and before.tracker.total_predictions > 0
    assert w.rec.prediction.book.size(("load",) if profile == "upstream" else (NS, "s", "load")) > 150
    status_before = w.api.get("BudAIScaler", NS, "s")["status"]["learningStatus"]
    assert status_before["configMapName"] == "s-learning-data"
    cm = w.config_map("s")
    if profile == "upstream":
        # autoscaler.go PersistLearningData is never called: no ConfigMap, ever
        assert cm is None
    else:
        assert cm is not None and cm["metadata"]["ownerReferences"][0]["kind"] == "BudAIScaler"
        saved = load(cm)
        assert saved is not None

    w.rec.restart()
    after = w.rec.prediction
    assert after.book.keys() == []  # the predictor's time series is never stored: lost
    w.sim.run(until=1810.0)  # one reconcile after the restart
    ls = _system(w, "s")
    assert ls.calibrator.calibration_count == 0 and ls.history == []  # never stored: lost
    assert len(ls.feedback) == 1  # pending verifications are gone; only the new decision's
    if profile == "upstream":
        assert not ls.loaded_from_storage
        assert ls.tracker.total_predictions == 0  # everything learned is gone
        profile_obs = sum(b.observations for b in ls.seasonal.profiles["load"].buckets)
        assert profile_obs == 1
    else:
        assert cm is not None and saved is not None
        assert ls.loaded_from_storage
        # kept: the accuracy tracker and seasonal profiles as of the last save (plus this reconcile)
        assert ls.tracker.total_predictions >= saved.accuracy_tracker.total_predictions > 0
        saved_obs = sum(b.observations for b in saved.seasonal_profiles.profiles["load"].buckets)
        now_obs = sum(b.observations for b in ls.seasonal.profiles["load"].buckets)
        assert now_obs == saved_obs + 1
        # lost even so: what happened after the last save (saves are at most every 5 min)
        assert saved_obs < before.observations
    # the status in the API server survives either way (it is part of the BudAIScaler)
    assert w.api.get("BudAIScaler", NS, "s")["status"]["learningStatus"]["configMapName"] == "s-learning-data"


def test_learning_never_persisted_only_switches_the_save() -> None:
    w = World("corrected", {"web": (10.0, 0.0)})
    w.rec.quirks = QuirkSet("corrected", {Quirk.LEARNING_NEVER_PERSISTED.value: True})
    w.rec.prediction.quirks = w.rec.quirks
    w.deployment("web", 2)
    w.api.create(scaler("s", "web"))
    w.sim.run(until=700.0)
    assert w.config_map("s") is None
    assert not any("persist" in (e.get("learning") or {}) for e in w.decisions("s"))


def test_persist_conflict_is_reported_and_retried_later() -> None:
    w = World("corrected", {"web": (10.0, 0.0)})
    w.deployment("web", 2)
    w.api.create(scaler("s", "web"))
    w.sim.run(until=30.0)
    first = w.config_map("s")
    assert first is not None  # the first save happens at the first decision (never saved = due)
    # the API server refuses ConfigMap updates with Conflict for 20 s, as it does for a stale resourceVersion
    w.api.faults.add(FaultWindow(start=300.0, end=320.0, kind="conflict", kinds=("ConfigMap",)))
    w.sim.run(until=700.0)
    persists = [
        (e["t"], e["learning"].get("persist")) for e in w.decisions("s") if "persist" in e["learning"]
    ]
    assert ("Conflict" in [p for _, p in persists]) and persists[-1][1] == "ok"
    failed = [e for e in w.events if e["event"] == "learning-persist-failed"]
    assert failed and failed[0]["error"] == "Conflict"


def test_predictor_history_shared_across_scalers() -> None:
    """Two scalers read `load` from different deployments (10 and 40 per pod, both steady)."""
    per_app = {"web": (10.0, 0.0), "api": (40.0, 0.0)}
    seen: dict[str, dict[str, Any]] = {}
    for profile, keys in (
        ("upstream", [("load",)]),
        ("corrected", [(NS, "a", "load"), (NS, "b", "load")]),
    ):
        w = World(profile, per_app)
        w.deployment("web", 1)
        w.deployment("api", 4)
        w.api.create(scaler("a", "web"))
        w.api.create(scaler("b", "api"))
        w.sim.run(until=600.0)
        assert w.rec.prediction.book.keys() == keys
        seen[profile] = w.decisions("a")[-1]["prediction"]
    up, co = seen["upstream"], seen["corrected"]
    # upstream: web's 10s and api's 40s are one series: a level of ~25 and CV 0.6, so the
    # confidence stays below the 0.7 gate and web's own steady signal is never used
    assert 20.0 < up["predictedValue"] < 30.0 and up["confidence"] < 0.7 and not up["used"]
    # corrected: each scaler's own series: exactly 10, confidence = the count factor (6/7 after 60 samples)
    assert co["predictedValue"] == pytest.approx(10.0) and co["confidence"] > 0.8 and co["used"]


def test_prediction_used_and_learning_status_written() -> None:
    w = World("corrected", {"web": (8.0, 0.2)})  # rising 0.2 per pod per minute
    w.deployment("web", 3)
    w.api.create(scaler("s", "web", lookAheadMinutes=30))
    w.sim.run(until=1200.0)
    ds = w.decisions("s")
    assert sum(e["prediction"]["used"] for e in ds) > 0
    last = ds[-1]["prediction"]
    assert last["metric"] == "load" and last["historySize"] == len(ds)
    status = w.api.get("BudAIScaler", NS, "s")["status"]["learningStatus"]
    assert set(status) >= {"dataPointsCollected", "overallAccuracy", "recentMAPE", "configMapName"}
    assert status["dataPointsCollected"] == len(ds)


def _filled_system() -> tuple[LearningSystem, datetime]:
    ls = LearningSystem("s", NS, "s-learning-data")
    at = datetime(2026, 1, 5, 9, 50, tzinfo=UTC)  # Monday 09:50
    for i in range(400):
        ls.seasonal.update("load", at.replace(minute=0) + timedelta(seconds=i), 10.0)
        ls.seasonal.update("load", at.replace(hour=10, minute=0) + timedelta(seconds=i), 20.0)
    return ls, at


@pytest.mark.parametrize("profile", ["upstream", "corrected"])
def test_learning_unused_by_prediction(profile: str) -> None:
    ls, at = _filled_system()
    epoch = at - timedelta(seconds=600)
    rt = PredictionRuntime(None, None, QuirkSet(profile), lambda now: epoch + timedelta(seconds=now))
    rt.systems[(NS, "s")] = ls
    obj = scaler("s", "web")
    obj["status"] = {"actualScale": 2}
    for k in range(30):
        out = rt.predict(obj, {"load": 10.0}, 300.0 + 10.0 * k)
    assert out.series is not None
    if profile == "upstream":
        assert out.series.seasonal_ratio is None
        assert out.series.predicted_value == pytest.approx(10.0)
        alt = out.without[Quirk.LEARNING_UNUSED_BY_PREDICTION]
        assert alt is not None and alt.predicted_replicas == 4  # 2 x 20/10
    else:
        # 09:55 + 15 min falls in the 10:00 bucket: twice the 09:00 bucket's mean
        assert out.series.seasonal_ratio == pytest.approx(2.0)
        assert out.series.predicted_value == pytest.approx(20.0)
        assert out.data is not None and out.data.predicted_replicas == 4
