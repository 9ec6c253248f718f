"""Conformance: upstream test vectors evaluated through the production decision functions.

Each adapter module exports `HANDLERS: dict[str, Handler]` mapping a vector `kind` to a function
that evaluates one vector and says whether it matches. `sim.conformance.runner` collects them."""
