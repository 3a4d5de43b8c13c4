"""Secrets of third parties kept at rest: a payment provider's password the CRM must read back in
the clear to check a callback, so it cannot be hashed, and is encrypted instead.

The key comes from EMBEDCRM_SECRET_KEYS, never from the database: a copy of the database alone
(a backup, a replica, a dump sent for support) holds no usable secret. Each signing key yields
its own encryption key (HKDF, for this purpose only); as with signing, the newest key (the last)
encrypts and every key decrypts, so a new key can be added before an old one is retired.
Sealed values start with ``SEALED_PREFIX``, so a plaintext left by an older version is told
apart from a value sealed with a key since removed.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from embedcrm.errors import ConfigurationError

SEALED_PREFIX = "sealed1:"
_PURPOSE = b"embedcrm: third-party secrets at rest"


def _fernet_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived)


class SecretBox:
    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise ConfigurationError("EMBEDCRM_SECRET_KEYS holds no key to encrypt secrets with.")
        # MultiFernet encrypts with its first key: the newest, which the list names last.
        self._fernet = MultiFernet([Fernet(_fernet_key(key)) for key in reversed(secret_keys)])

    def seal(self, plain: str) -> str:
        return SEALED_PREFIX + self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        if not is_sealed(stored):
            raise ConfigurationError(
                "A secret is stored unencrypted: run `embedcrm migrate` to encrypt it."
            )
        try:
            return self._fernet.decrypt(stored.removeprefix(SEALED_PREFIX)).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                "A secret was encrypted with a key EMBEDCRM_SECRET_KEYS no longer holds; "
                "add that key back, or set the secret again."
            ) from exc


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)
