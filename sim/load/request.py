"""One request flowing through a pipeline: what arrived, and when it entered, started and left each role.

A plain slotted class rather than a pydantic model: tens of thousands are created per simulated hour and
only their aggregates outlive them (memory must not grow with trace length)."""

from __future__ import annotations

import math
from enum import StrEnum


class DropReason(StrEnum):
    """Why a request left the pipeline without completing; every drop carries one."""

    BUFFER_TIMEOUT = "BufferTimeout"
    """It waited in the buffer in front of a role with no Ready pod for longer than the timeout."""
    BUFFER_FULL = "BufferFull"
    """The buffer in front of a role with no Ready pod was full when it arrived."""
    EXCEEDS_KV_CAPACITY = "ExceedsKVCapacity"
    """Its prompt plus output needs more KV-cache tokens than one decode pod has: it can never be admitted."""
    POD_TERMINATED = "PodTerminated"
    """The pod holding it was deleted and its grace period (terminationGracePeriodSeconds) ended first."""


class Request:
    """A request record. `stamps[role] = [entered, started, left]` (simulated seconds, -1.0 = not yet)."""

    __slots__ = (
        "arrival",
        "attempt",
        "attempt_at",
        "completed_at",
        "deadline",
        "dropped",
        "first_token_at",
        "id",
        "input_tokens",
        "klass",
        "output_tokens",
        "pod",
        "service_time",
        "stage",
        "stamps",
        "timed_out",
    )

    def __init__(
        self, rid: int, arrival: float, input_tokens: int, output_tokens: int, klass: str = ""
    ) -> None:
        self.id = rid
        self.arrival = arrival
        """When the client first sent it (end-to-end latency counts from here, across retries)."""
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.klass = klass
        """Request class name (`workload.classes`), "" when the workload has none."""
        self.attempt = 0
        """0 = first try; a retry is the same request with `attempt` + 1 (never a new arrival)."""
        self.attempt_at = arrival
        """When the current attempt entered the pipeline."""
        self.deadline = math.inf
        """Absolute simulated time at which the client gives up on the current attempt (inf: never)."""
        self.timed_out = False
        """True once the client gave up for good (counted once as `timed_out`)."""
        self.pod: object | None = None
        """The pod server holding it (queued or in service), None elsewhere: what a cancel aborts."""
        self.stage = 0
        self.stamps: dict[str, list[float]] = {}
        self.service_time: dict[str, float] = {}
        """Service time attributed to this request per role (its share of a batch for batching roles)."""
        self.first_token_at = -1.0
        self.completed_at = -1.0
        self.dropped: DropReason | None = None

    def __repr__(self) -> str:
        return (
            f"Request(id={self.id}, arrival={self.arrival}, in={self.input_tokens}, "
            f"out={self.output_tokens}, stamps={self.stamps})"
        )
