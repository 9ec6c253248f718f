"""Errors for bad user input and per-field admission issues.

Every message a user sees points at the place to fix: file, line, YAML path, the bad value and
what is allowed. The CLI prints `str(error)` and exits 2; it never shows a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


class InputError(Exception):
    """Bad user input (a file, a manifest, a scenario), formatted `FILE:LINE: PATH: message`."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        path: str = "",
        value: object = None,
        allowed: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.value = value
        self.allowed = allowed

    def location(self) -> str:
        """`FILE:LINE` (or `FILE`, or empty) for the start of a message."""
        if self.file is None:
            return "" if self.line is None else f"line {self.line}"
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def __str__(self) -> str:
        parts = [p for p in (self.location(), self.path) if p]
        text = self.message
        if self.allowed and self.allowed not in text:
            text = f"{text} (allowed: {self.allowed})"
        return ": ".join([*parts, text])


class YAMLInputError(InputError):
    """The file is not loadable YAML (syntax, encoding, size, alias or depth limits)."""


class ValidationFailed(InputError):
    """An object failed admission; `issues` holds every field error (the message shows the first)."""

    def __init__(self, issues: list[FieldIssue], *, file: str | None = None) -> None:
        first = issues[0]
        super().__init__(first.message, file=file, line=first.line, path=first.path, value=first.value)
        self.issues = issues

    def __str__(self) -> str:
        return "\n".join(issue.format(self.file) for issue in self.issues)


@dataclass(frozen=True)
class FieldIssue:
    """One problem at one YAML path of one object; `severity="warning"` for lints."""

    path: str
    message: str
    severity: Severity = "error"
    line: int | None = None
    value: object = None

    def format(self, file: str | None = None) -> str:
        """`FILE:LINE: PATH: message` (parts that are unknown are left out)."""
        loc = ""
        if file is not None:
            loc = file if self.line is None else f"{file}:{self.line}"
        elif self.line is not None:
            loc = f"line {self.line}"
        return ": ".join(p for p in (loc, self.path, self.message) if p)

    def with_line(self, line: int | None) -> FieldIssue:
        return FieldIssue(self.path, self.message, self.severity, line, self.value)
