"""The widget as served: its bytes, a content hash for the versioned path, and its SRI digest."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class StaticAsset:
    body: bytes
    media_type: str

    @property
    def integrity(self) -> str:
        """The Subresource Integrity value a host puts in ``integrity=""``."""
        return "sha384-" + base64.b64encode(hashlib.sha384(self.body).digest()).decode()

    @property
    def version(self) -> str:
        """A short content hash: the versioned path changes whenever the bytes do."""
        return hashlib.sha256(self.body).hexdigest()[:12]


def load_asset(name: str, media_type: str) -> StaticAsset:
    body = resources.files("embedcrm").joinpath("static", name).read_bytes()
    return StaticAsset(body=body, media_type=media_type)
