"""Shared test helpers (import-safe: no fixtures, no side effects at import)."""
