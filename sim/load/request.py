"""One request flowing through a pipeline: what arrived, and when it entered, started and left each role.

A plain slotted class rather than a pydantic model: tens of thousands are created per simulated hour and
only their aggregates outlive them (memory must not grow with trace length)."""

from __future__ import annotations

from enum import StrEnum


class DropReason(StrEnum):
    """Why a request left the pipeline without completing; every drop carries one."""

    BUFFER_TIMEOUT = "BufferTimeout"
    """It waited in the buffer in front of a role with no Ready pod for longer than the timeout."""
    BUFFER_FULL = "BufferFull"
    """The buffer in front of a role with no Ready pod was full when it arrived."""
    EXCEEDS_KV_CAPACITY = "ExceedsKVCapacity"
    """Its prompt plus output needs more KV-cache tokens than one decode pod has: it can never be admitted."""


class Request:
    """A request record. `stamps[role] = [entered, started, left]` (simulated seconds, -1.0 = not yet)."""

    __slots__ = (
        "arrival",
        "completed_at",
        "dropped",
        "first_token_at",
        "id",
        "input_tokens",
        "output_tokens",
        "service_time",
        "stage",
        "stamps",
    )

    def __init__(self, rid: int, arrival: float, input_tokens: int, output_tokens: int) -> None:
        self.id = rid
        self.arrival = arrival
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
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
