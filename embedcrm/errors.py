"""One error tree. Each class has a stable ``code``; only app.py turns codes into HTTP statuses."""

from __future__ import annotations

from collections.abc import Mapping


class EmbedCRMError(Exception):
    """An expected error: shown to the caller as data, never as a traceback."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.fields: dict[str, str] = dict(fields or {})
        if field and field not in self.fields:
            self.fields[field] = message

    @property
    def extensions(self) -> dict[str, object]:
        """What GraphQL shows of the error beside its message."""
        return {"code": self.code, "fields": self.fields} if self.fields else {"code": self.code}


class ConfigurationError(EmbedCRMError):
    code = "configuration_error"


class BadRequest(EmbedCRMError):
    code = "bad_request"


class ValidationFailed(EmbedCRMError):
    code = "invalid"


class Unauthenticated(EmbedCRMError):
    code = "unauthenticated"


class Forbidden(EmbedCRMError):
    code = "forbidden"


class OriginNotAllowed(Forbidden):
    code = "origin_not_allowed"


class NotFound(EmbedCRMError):
    code = "not_found"


class Conflict(EmbedCRMError):
    code = "conflict"


class PayloadTooLarge(EmbedCRMError):
    code = "payload_too_large"


class UnsupportedMediaType(EmbedCRMError):
    code = "unsupported_media_type"


class RetryLater(EmbedCRMError):
    """The caller should try again after ``retry_after`` seconds."""

    code = "retry_later"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(RetryLater):
    code = "rate_limited"


class ServiceUnavailable(RetryLater):
    code = "unavailable"
