"""Seasonal profiles per metric, and their JSON.

upstream: learning/seasonal.go SeasonalProfileManager (GetOrCreate, Update, GetSeasonalFactor,
GetAllProfiles, SetAlpha, MarshalJSON/UnmarshalJSON) and the SeasonalProfile helpers the system
and calibrator call (GetTotalObservations, IsComplete, ResetBucket, SetAlpha, PredictValue).
The profile itself is `sim.decisions.bud.learning.SeasonalProfile`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sim.decisions.bud.learning import (
    DEFAULT_ALPHA,
    NUM_BUCKETS,
    SeasonalBucket,
    SeasonalProfile,
)
from sim.decisions.bud_learning.timefmt import go_time, parse_go_time


def total_observations(p: SeasonalProfile) -> int:
    """upstream: SeasonalProfile.GetTotalObservations."""
    return sum(b.observations for b in p.buckets)


def is_complete(p: SeasonalProfile) -> bool:
    """upstream: SeasonalProfile.IsComplete (every bucket has MinObservations)."""
    return all(b.observations >= p.min_observations for b in p.buckets)


def reset_bucket(p: SeasonalProfile, hour: int, day_of_week: int) -> None:
    """upstream: SeasonalProfile.ResetBucket."""
    idx = day_of_week * 24 + hour
    if 0 <= idx < NUM_BUCKETS:
        p.buckets[idx] = SeasonalBucket(hour, day_of_week)


def set_alpha(p: SeasonalProfile, alpha: float) -> None:
    """upstream: SeasonalProfile.SetAlpha (ignored outside (0, 1])."""
    if 0 < alpha <= 1:
        p.alpha = alpha


def predict_value(p: SeasonalProfile, at: datetime) -> tuple[float, float]:
    """GlobalMean x the bucket's factor, with its confidence. upstream: SeasonalProfile.PredictValue."""
    factor, conf = p.seasonal_factor(at)
    return p.global_mean * factor, conf


def profile_to_json(p: SeasonalProfile) -> dict[str, Any]:
    return {
        "metricName": p.metric_name,
        "buckets": [
            {
                "hourOfDay": b.hour_of_day,
                "dayOfWeek": b.day_of_week,
                "mean": b.mean,
                "variance": b.variance,
                "observations": b.observations,
                "lastUpdated": go_time(b.last_updated),
            }
            for b in p.buckets
        ],
        "globalMean": p.global_mean,
        "globalVariance": p.global_variance,
        "globalCount": p.global_count,
        "alpha": p.alpha,
        "minObservations": p.min_observations,
    }


def profile_from_json(data: dict[str, Any]) -> SeasonalProfile:
    """Go unmarshals into a zero SeasonalProfile: absent fields stay zero (alpha 0, minObservations 0)."""
    p = SeasonalProfile(str(data.get("metricName", "")), DEFAULT_ALPHA)
    p.alpha = float(data.get("alpha", 0.0))
    p.min_observations = int(data.get("minObservations", 0))
    p.global_mean = float(data.get("globalMean", 0.0))
    p.global_variance = float(data.get("globalVariance", 0.0))
    p.global_count = int(data.get("globalCount", 0))
    raw = list(data.get("buckets") or [])
    buckets = []
    for i in range(NUM_BUCKETS):
        b = raw[i] if i < len(raw) and isinstance(raw[i], dict) else None
        if b is None:
            # a zero bucket: Go leaves HourOfDay/DayOfWeek at 0
            buckets.append(SeasonalBucket(0, 0))
            continue
        buckets.append(
            SeasonalBucket(
                int(b.get("hourOfDay", 0)),
                int(b.get("dayOfWeek", 0)),
                float(b.get("mean", 0.0)),
                float(b.get("variance", 0.0)),
                int(b.get("observations", 0)),
                parse_go_time(b.get("lastUpdated")),
            )
        )
    p.buckets = buckets
    return p


class SeasonalProfileManager:
    """upstream: seasonal.go SeasonalProfileManager. Profiles are visited in name order where Go
    ranges over its map (its order is random; with one alpha for all profiles nothing depends on it)."""

    def __init__(self, alpha: float = DEFAULT_ALPHA) -> None:
        if alpha <= 0 or alpha > 1:
            alpha = DEFAULT_ALPHA
        self.alpha = alpha
        self.profiles: dict[str, SeasonalProfile] = {}

    def get_or_create(self, metric: str) -> SeasonalProfile:
        p = self.profiles.get(metric)
        if p is None:
            p = self.profiles[metric] = SeasonalProfile(metric, self.alpha)
        return p

    def get(self, metric: str) -> SeasonalProfile | None:
        return self.profiles.get(metric)

    def update(self, metric: str, at: datetime, value: float) -> None:
        self.get_or_create(metric).update(at, value)

    def seasonal_factor(self, metric: str, at: datetime) -> tuple[float, float]:
        p = self.profiles.get(metric)
        return (1.0, 0.0) if p is None else p.seasonal_factor(at)

    def all_profiles(self) -> list[SeasonalProfile]:
        return [self.profiles[k] for k in sorted(self.profiles)]

    def set_alpha(self, alpha: float) -> None:
        """upstream: SetAlpha (the manager's alpha is set unchecked, each profile's only in (0, 1])."""
        self.alpha = alpha
        for p in self.all_profiles():
            set_alpha(p, alpha)

    def to_json(self) -> dict[str, Any]:
        return {
            "profiles": {k: profile_to_json(self.profiles[k]) for k in sorted(self.profiles)},
            "alpha": self.alpha,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeasonalProfileManager:
        m = cls()
        m.alpha = float(data.get("alpha", 0.0))
        profiles = data.get("profiles") or {}
        m.profiles = {
            str(k): profile_from_json(v) for k, v in sorted(profiles.items()) if isinstance(v, dict)
        }
        return m
