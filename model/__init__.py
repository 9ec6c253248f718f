"""Pydantic v2 models of the Kubernetes objects and the two custom resources, validation and YAML I/O.

This package never imports `sim` or simpy (enforced by import-linter)."""
