"""embedcrm: the CRM a website-builder platform embeds.

The public API is what ``__all__`` names: the app and its settings, the panel-token helper,
the principals it reads tokens into and their roles, and the error tree. Everything else is internal and may
move; reach for ``embedcrm.<domain>`` only from inside the package.
"""

from embedcrm.app import create_app
from embedcrm.auth import PanelTokens, PanelUser, Platform, Principal
from embedcrm.config import Settings
from embedcrm.errors import (
    BadRequest,
    ConfigurationError,
    Conflict,
    EmbedCRMError,
    Forbidden,
    NotFound,
    OriginNotAllowed,
    PayloadTooLarge,
    RateLimited,
    RetryLater,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from embedcrm.workspaces.models import Role

__all__ = [
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "EmbedCRMError",
    "Forbidden",
    "NotFound",
    "OriginNotAllowed",
    "PanelTokens",
    "PanelUser",
    "PayloadTooLarge",
    "Platform",
    "Principal",
    "RateLimited",
    "RetryLater",
    "Role",
    "ServiceUnavailable",
    "Settings",
    "Unauthenticated",
    "UnsupportedMediaType",
    "ValidationFailed",
    "create_app",
]
