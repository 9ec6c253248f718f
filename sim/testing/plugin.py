"""pytest plugin registered through the `pytest11` entry point (`dsim`).

Fixtures and Hypothesis strategies for users' own property tests are added here (issue 9)."""
