"""The feedback link in a message: a signed token naming the workspace, contact, lead and kind.

It does not expire (a client may answer a week later) and answers one question: answering again
through the same link changes the answer rather than adding one.
"""

from __future__ import annotations

import uuid

from itsdangerous import BadSignature, URLSafeSerializer

from embedcrm.errors import NotFound
from embedcrm.feedback.models import FeedbackKind

SALT = "embedcrm.feedback"
# The widget looks for this key in the fragment of the page it runs on (widgets/embedcrm.js).
FRAGMENT_KEY = "embedcrm-feedback"


class FeedbackLink:
    def __init__(
        self,
        workspace_id: uuid.UUID,
        contact_id: uuid.UUID,
        lead_id: uuid.UUID | None,
        kind: FeedbackKind,
    ) -> None:
        self.workspace_id = workspace_id
        self.contact_id = contact_id
        self.lead_id = lead_id
        self.kind = kind

    @property
    def request_key(self) -> str:
        """One answer per kind and lead (or contact, for a question about no lead)."""
        about = self.lead_id or self.contact_id
        return f"{self.kind.value}:{about.hex}"


class FeedbackLinks:
    def __init__(self, secret_keys: tuple[str, ...], public_url: str) -> None:
        self.serializer = URLSafeSerializer(list(secret_keys), salt=SALT)
        self.public_url = public_url.rstrip("/")

    def url(
        self,
        workspace_id: uuid.UUID,
        contact_id: uuid.UUID,
        lead_id: uuid.UUID | None,
        kind: str,
        site: str | None = None,
    ) -> str:
        """The hosted page's address; or, given the address of the shop's site, that site with
        the token in the fragment, where the widget draws the question. A fragment never
        reaches the shop's server, its logs or a Referer header."""
        token = self.serializer.dumps(
            [workspace_id.hex, contact_id.hex, lead_id.hex if lead_id else None, kind]
        )
        if site:
            return f"{site}#{FRAGMENT_KEY}={token}"
        return f"{self.public_url}/feedback/{token}"

    def read(self, token: str) -> FeedbackLink:
        try:
            workspace, contact, lead, kind = self.serializer.loads(token)
            return FeedbackLink(
                uuid.UUID(workspace),
                uuid.UUID(contact),
                uuid.UUID(lead) if lead else None,
                FeedbackKind(kind),
            )
        except (BadSignature, ValueError, TypeError):
            raise NotFound("This feedback link is not valid.", field="token") from None
