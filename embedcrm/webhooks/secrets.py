"""Endpoint signing secrets: sealed at rest, opened once per endpoint for signing.

An endpoint's `whsec_` secret is stored sealed with EMBEDCRM_SECRET_KEYS (``embedcrm.kit.sealed``),
as payment providers' secrets are: a copy of the database alone signs nothing. The dispatcher
signs every delivery with it, so the opened secrets are kept per endpoint, beside the sealed
values they came from: a delivery costs no decryption, and a rotation (made by this process or
any other) changes the sealed value the claim reads, which opens the new one once.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict

from embedcrm.kit.sealed import SecretBox
from embedcrm.webhooks.signing import generate_secret

# Endpoints whose opened secrets one process keeps; far above the endpoints any dispatcher
# sends to at once, and a bound on what deleted endpoints leave behind.
MAX_CACHED_ENDPOINTS = 10_000


class EndpointSecrets:
    def __init__(self, box: SecretBox, *, max_cached: int = MAX_CACHED_ENDPOINTS) -> None:
        self.box = box
        self.max_cached = max_cached
        # endpoint key -> (the sealed values as stored, the same values opened)
        self._opened: OrderedDict[uuid.UUID, tuple[tuple[str, ...], tuple[str, ...]]] = (
            OrderedDict()
        )

    def new_sealed(self) -> str:
        """A new secret, sealed for storing; the host reads it back opened (``open``)."""
        return self.box.seal(generate_secret())

    def open(self, sealed: str) -> str:
        """One stored secret in the clear (for the host who manages the endpoint)."""
        return self.box.open(sealed)

    def for_signing(self, endpoint_key: uuid.UUID, sealed: tuple[str, ...]) -> tuple[str, ...]:
        """The secrets to sign with, opened the first time this endpoint's sealed values are
        seen and taken from memory while they stay the same."""
        cached = self._opened.get(endpoint_key)
        if cached is not None and cached[0] == sealed:
            self._opened.move_to_end(endpoint_key)
            return cached[1]
        opened = tuple(self.box.open(value) for value in sealed)
        self._opened[endpoint_key] = (sealed, opened)
        self._opened.move_to_end(endpoint_key)
        while len(self._opened) > self.max_cached:
            self._opened.popitem(last=False)
        return opened
