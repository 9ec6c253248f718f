"""Which BudAIScalers may act on their target, and which must report ConflictDetected.

Two rules, chosen by quirk flags (passed in, never read from globals):

* The *relation* (who conflicts with whom). The pull request's rule: same namespace, same target
  kind and name, and (same roleName, or either has none). With
  `Quirk.CONFLICT_BLIND_TO_GENERATED_DEPLOYMENT` off, two scalers also conflict when their
  *effective* targets share a Deployment: a DisaggregatedService role `r` of `ds` is the Deployment
  `ds-r` the DS controller generates, so a scaler on that role and one on the Deployment drive the
  same pods.
* The *resolution*. With `Quirk.SYMMETRIC_CONFLICT` on (upstream), every scaler that has any
  conflicting peer reports ConflictDetected and none of them scales. Off (corrected), scalers are
  ranked by (creationTimestamp, name); walking that order, a scaler wins unless it conflicts with an
  earlier winner. The result depends only on the set of scalers, never on list or reconcile order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DS_KIND = "DisaggregatedService"
DEPLOYMENT_KIND = "Deployment"


class ScalerRef(BaseModel):
    """What the conflict rule needs to know about one BudAIScaler."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    namespace: str
    name: str
    creation_timestamp: str = Field(default="", alias="creationTimestamp")
    """RFC 3339 with second precision; strings of this form order like the times they name."""
    target_kind: str = Field(alias="targetKind")
    target_name: str = Field(alias="targetName")
    role_name: str | None = Field(default=None, alias="roleName")

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def rank(self) -> tuple[str, str]:
        """Oldest first, then by name: the order-independent tie-break of the corrected profile."""
        return (self.creation_timestamp, self.name)

    def describe_target(self) -> str:
        base = f"{self.target_kind}/{self.target_name}"
        return f"{base} role {self.role_name}" if self.role_name else base

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> ScalerRef:
        """Build from a BudAIScaler in wire form (a dict as the API server stores it)."""
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        sub = spec.get("subTargetSelector") or {}
        role = sub.get("roleName") or None
        return cls(
            namespace=str(meta.get("namespace", "")),
            name=str(meta.get("name", "")),
            creation_timestamp=str(meta.get("creationTimestamp", "")),
            target_kind=str(ref.get("kind", "")),
            target_name=str(ref.get("name", "")),
            role_name=str(role) if role else None,
        )


class ConflictVerdict(BaseModel):
    """The outcome for one scaler: may it scale, and if not, the message its condition carries."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    conflicted: bool
    message: str = ""
    winner: str | None = None
    """Corrected profile: the scaler that controls the pods instead of this one."""
    peers: tuple[str, ...] = ()
    """Names of every scaler this one conflicts with under the active relation, sorted."""


def generated_deployment_name(ds_name: str, role: str) -> str:
    """The Deployment the DisaggregatedService controller creates for a role (PR controller.go)."""
    return f"{ds_name}-{role}"


def pr_rule_conflicts(a: ScalerRef, b: ScalerRef) -> bool:
    """The pull request's rule, as its description states it.

    # upstream: pkg/controller/budaiscaler/budaiscaler_controller.go checkConflicts (+ PR per-role change)
    """
    if a.key == b.key or a.namespace != b.namespace:
        return False
    if a.target_kind != b.target_kind or a.target_name != b.target_name:
        return False
    return a.role_name == b.role_name or a.role_name is None or b.role_name is None


def effective_deployments(
    scaler: ScalerRef, ds_roles: Mapping[tuple[str, str], Sequence[str]] | None = None
) -> frozenset[tuple[str, str]]:
    """The (namespace, Deployment name) pairs whose pods this scaler would drive.

    A whole-DS target covers every role's Deployment when the DS's roles are known (`ds_roles`
    maps (namespace, ds name) to role names); otherwise it covers none and only the PR rule applies.
    """
    ns = scaler.namespace
    if scaler.target_kind == DEPLOYMENT_KIND:
        return frozenset({(ns, scaler.target_name)})
    if scaler.target_kind == DS_KIND:
        if scaler.role_name:
            return frozenset({(ns, generated_deployment_name(scaler.target_name, scaler.role_name))})
        roles = (ds_roles or {}).get((ns, scaler.target_name), ())
        return frozenset((ns, generated_deployment_name(scaler.target_name, r)) for r in roles)
    return frozenset()


def scalers_conflict(
    a: ScalerRef,
    b: ScalerRef,
    *,
    blind_to_generated_deployment: bool,
    ds_roles: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> bool:
    """The active conflict relation (symmetric in a and b)."""
    if a.key == b.key or a.namespace != b.namespace:
        return False
    if pr_rule_conflicts(a, b):
        return True
    if blind_to_generated_deployment:
        return False
    return bool(effective_deployments(a, ds_roles) & effective_deployments(b, ds_roles))


def resolve_conflicts(
    scalers: Iterable[ScalerRef],
    *,
    symmetric: bool,
    blind_to_generated_deployment: bool,
    ds_roles: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> dict[tuple[str, str], ConflictVerdict]:
    """Verdict for every scaler, keyed by (namespace, name). Input order never matters."""
    ordered = sorted({s.key: s for s in scalers}.values(), key=lambda s: (s.namespace, s.rank))
    peers: dict[tuple[str, str], list[ScalerRef]] = {s.key: [] for s in ordered}
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if scalers_conflict(
                a, b, blind_to_generated_deployment=blind_to_generated_deployment, ds_roles=ds_roles
            ):
                peers[a.key].append(b)
                peers[b.key].append(a)

    verdicts: dict[tuple[str, str], ConflictVerdict] = {}
    if symmetric:
        for s in ordered:
            ps = sorted(peers[s.key], key=lambda p: p.name)
            if not ps:
                verdicts[s.key] = ConflictVerdict(conflicted=False)
                continue
            # Upstream walks the namespace's scalers (listed by name) and reports the first match.
            first = ps[0]
            verdicts[s.key] = ConflictVerdict(
                conflicted=True,
                message=f"conflict: BudAIScaler {first.name} is already targeting {s.describe_target()}",
                peers=tuple(p.name for p in ps),
            )
        return verdicts

    winners: set[tuple[str, str]] = set()
    for s in ordered:  # rank order within each namespace
        ps = sorted(peers[s.key], key=lambda p: p.rank)
        beaten_by = next((p for p in ps if p.key in winners), None)
        names = tuple(sorted(p.name for p in ps))
        if beaten_by is None:
            winners.add(s.key)
            verdicts[s.key] = ConflictVerdict(conflicted=False, peers=names)
            continue
        verdicts[s.key] = ConflictVerdict(
            conflicted=True,
            winner=beaten_by.name,
            peers=names,
            message=(
                f"conflict: BudAIScaler {beaten_by.name} (created {beaten_by.creation_timestamp or 'unknown'}) "
                f"already controls the pods of {s.describe_target()}; the oldest scaler wins, "
                f"{s.name} does not scale"
            ),
        )
    return verdicts


def check_conflict(
    scaler: ScalerRef,
    others: Iterable[ScalerRef],
    *,
    symmetric: bool,
    blind_to_generated_deployment: bool,
    ds_roles: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> ConflictVerdict:
    """The verdict for one scaler given every scaler the reconciler can see (itself may be included).

    # upstream: pkg/controller/budaiscaler/budaiscaler_controller.go checkConflicts
    """
    pool = [s for s in others if s.namespace == scaler.namespace and s.key != scaler.key]
    verdicts = resolve_conflicts(
        [scaler, *pool],
        symmetric=symmetric,
        blind_to_generated_deployment=blind_to_generated_deployment,
        ds_roles=ds_roles,
    )
    return verdicts[scaler.key]
