"""The unsubscribe link of every message: a signed token naming the workspace and the contact.

It never expires: a link in a year-old e-mail must still work. Keys rotate as the panel tokens'
do (``EMBEDCRM_SECRET_KEYS``): links signed with a key still listed keep working.
"""

from __future__ import annotations

import uuid

from itsdangerous import BadSignature, URLSafeSerializer

from embedcrm.errors import NotFound

SALT = "embedcrm.unsubscribe"


class UnsubscribeTokens:
    def __init__(self, secret_keys: tuple[str, ...], public_url: str) -> None:
        self.serializer = URLSafeSerializer(list(secret_keys), salt=SALT)
        self.public_url = public_url.rstrip("/")

    def token(self, workspace_id: uuid.UUID, contact_id: uuid.UUID) -> str:
        return str(self.serializer.dumps([workspace_id.hex, contact_id.hex]))

    def url(self, workspace_id: uuid.UUID, contact_id: uuid.UUID) -> str:
        return f"{self.public_url}/unsubscribe/{self.token(workspace_id, contact_id)}"

    def read(self, token: str) -> tuple[uuid.UUID, uuid.UUID]:
        """The workspace and contact of a token; a forged or mangled one is not found."""
        try:
            workspace_hex, contact_hex = self.serializer.loads(token)
            return uuid.UUID(workspace_hex), uuid.UUID(contact_hex)
        except (BadSignature, ValueError, TypeError):
            raise NotFound("This unsubscribe link is not valid.", field="token") from None
