"""Scenario loading/resolution (`load.py`), the runner that wires every layer (`runner.py`) and
expectation checks (`expectations.py`)."""
