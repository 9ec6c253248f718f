"""One required root seed per run, split into named numpy Generator streams.

Each stream's seed is derived from the root seed and the stream's *name* (not from the order in
which streams are requested), so adding a stream never shifts another."""

from __future__ import annotations

import hashlib

import numpy as np


def _name_key(name: str) -> int:
    # A stable 64-bit key from the name; never Python's salted hash().
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")


class Seeds:
    """Named, independent random streams derived from one root seed."""

    def __init__(self, root_seed: int) -> None:
        if not isinstance(root_seed, int) or isinstance(root_seed, bool) or root_seed < 0:
            raise ValueError(f"root seed must be a non-negative integer, got {root_seed!r}")
        self.root_seed = root_seed
        self._streams: dict[str, np.random.Generator] = {}

    def stream(self, name: str) -> np.random.Generator:
        """The generator for `name`; the same object on every call within one run."""
        gen = self._streams.get(name)
        if gen is None:
            seq = np.random.SeedSequence(entropy=self.root_seed, spawn_key=(_name_key(name),))
            gen = np.random.Generator(np.random.PCG64(seq))
            self._streams[name] = gen
        return gen
