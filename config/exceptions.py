"""Domain exceptions that map to SPEC's error codes (rendered by config.errors)."""

from __future__ import annotations

from http import HTTPStatus


class ApiError(Exception):
    """A failure that maps to one of SPEC's error codes."""

    status: HTTPStatus = HTTPStatus.BAD_REQUEST
    code = "bad_request"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ApiError):
    status, code = HTTPStatus.BAD_REQUEST, "bad_request"


class AuthError(ApiError):
    status, code = HTTPStatus.UNAUTHORIZED, "auth_error"

    def __init__(self, message: str = "Authentication required.") -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="api"'})


class NotFound(ApiError):
    status, code = HTTPStatus.NOT_FOUND, "not_found"


class PayloadTooLarge(ApiError):
    status, code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large"


class RateLimited(ApiError):
    status, code = HTTPStatus.TOO_MANY_REQUESTS, "rate_limit"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(
            message or f"Too many requests. Try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class QuotaExceeded(ApiError):
    """Over today's token budget (CHATKIT_USER_DAILY_TOKENS) until the next UTC day."""

    status, code = HTTPStatus.TOO_MANY_REQUESTS, "quota_exceeded"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after
