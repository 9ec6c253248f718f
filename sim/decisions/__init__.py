"""Pure decision functions: inputs and `now` in, decision out. No simpy, no API server, no clock.

Everything under this package is a re-expression of upstream Go logic (cited per function) or of
the harness's own corrected behaviour, switched by `model.quirks` flags passed in as arguments."""
