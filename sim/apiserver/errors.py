"""Typed API errors mirroring Kubernetes' metav1.StatusReason.

Controllers branch on these exactly as Go code branches on `apierrors.IsNotFound(err)` etc., so
the messages follow the API server's wording (`k8s.io/apimachinery/pkg/api/errors`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StatusReason(StrEnum):
    NOT_FOUND = "NotFound"
    ALREADY_EXISTS = "AlreadyExists"
    CONFLICT = "Conflict"
    INVALID = "Invalid"
    SERVER_TIMEOUT = "ServerTimeout"
    TOO_MANY_REQUESTS = "TooManyRequests"
    METHOD_NOT_ALLOWED = "MethodNotAllowed"
    INTERNAL_ERROR = "InternalError"


@dataclass(frozen=True, slots=True)
class StatusCause:
    """One field-level cause of an Invalid error (metav1.StatusCause)."""

    field: str
    message: str
    reason: str = "FieldValueInvalid"


class ApiError(Exception):
    """Base of every error the fake API server raises on purpose (an HTTP status >= 400)."""

    reason: StatusReason = StatusReason.INTERNAL_ERROR
    code: int = 500

    def __init__(
        self,
        message: str,
        *,
        kind: str = "",
        name: str = "",
        causes: tuple[StatusCause, ...] = (),
        retry_after_seconds: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.name = name
        self.causes = causes
        self.retry_after_seconds = retry_after_seconds

    @property
    def field_paths(self) -> list[str]:
        return [c.field for c in self.causes]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class NotFound(ApiError):
    reason = StatusReason.NOT_FOUND
    code = 404


class AlreadyExists(ApiError):
    reason = StatusReason.ALREADY_EXISTS
    code = 409


class Conflict(ApiError):
    reason = StatusReason.CONFLICT
    code = 409


class Invalid(ApiError):
    reason = StatusReason.INVALID
    code = 422


class ServerTimeout(ApiError):
    reason = StatusReason.SERVER_TIMEOUT
    code = 504


class TooManyRequests(ApiError):
    reason = StatusReason.TOO_MANY_REQUESTS
    code = 429


class MethodNotAllowed(ApiError):
    reason = StatusReason.METHOD_NOT_ALLOWED
    code = 405


class InternalError(ApiError):
    reason = StatusReason.INTERNAL_ERROR
    code = 500


class Unsupported(Exception):
    """A request the fake server does not model (unknown kind, unsupported option).

    Deliberately *not* an ApiError: controllers requeue ApiErrors, but an unsupported request is a
    bug in the caller or a gap in the simulator and must fail the run loudly."""


def conflict_message(resource: str, name: str) -> str:
    # upstream: k8s.io/apiserver/pkg/registry/generic/registry/store.go (OptimisticLockErrorMsg via NewConflict)
    return (
        f'Operation cannot be fulfilled on {resource} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def is_not_found(err: BaseException) -> bool:
    return isinstance(err, NotFound)


def is_conflict(err: BaseException) -> bool:
    return isinstance(err, Conflict)


def is_already_exists(err: BaseException) -> bool:
    return isinstance(err, AlreadyExists)
