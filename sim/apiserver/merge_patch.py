"""JSON merge patch (RFC 7386), the `application/merge-patch+json` patch type.

Strategic merge patch and JSON patch are not modelled; `APIServer.patch` only takes merge patches."""

from __future__ import annotations

from typing import Any

from sim.apiserver.jsondata import checked_copy


def apply_merge_patch(target: Any, patch: Any, fresh: bool = False) -> Any:
    """Return a new document: `target` with `patch` merged in. Neither input is mutated.

    null deletes a key; objects merge recursively; anything else (including lists) replaces.
    Subtrees the patch does not touch are *shared* with `target` (the server's stored objects are
    immutable, so sharing is safe there); the dicts along patched paths are new. `fresh=True`:
    the caller hands over freshly built JSON it never touches again, so values are not copied."""
    if type(patch) is not dict:
        return patch if fresh else checked_copy(patch)
    result: dict[str, Any] = dict(target) if type(target) is dict else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value, fresh)
    return result
