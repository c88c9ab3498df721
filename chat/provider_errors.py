"""What a user is told when the model's provider (OpenAI or a compatible server) fails.

Every error of the OpenAI client maps to a friendly message, whether a retry may help,
and the status a JSON answer carries (dictation, `input.transcribe`): 503 when the
provider could not be reached or asked us to slow down (connection refused, timeout,
rate limit), 502 when it answered with an error. The real error is only logged.

Retries: the OpenAI client (chat/agent.py) already retries a dropped connection, a
timeout, 408/409/429 and 5xx once, with backoff, before any of this. The Agents SDK's
runner-managed retries (`ModelSettings.retry`) are not added on top: they would
replay a model call whose streamed answer the user may already be reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import openai

MSG_TIMEOUT = "The assistant took too long to answer."
MSG_BUSY = "The assistant is busy right now."
MSG_UNREACHABLE = "The assistant could not be reached."
MSG_PROVIDER_ERROR = "The assistant's service had a problem answering."
MSG_NOT_CONFIGURED = "The assistant is not set up correctly on this server."
MSG_REFUSED = "The assistant's service could not handle this request."


@dataclass(frozen=True)
class ProviderFailure:
    message: str
    allow_retry: bool
    status: HTTPStatus  # for a JSON answer: 502 the provider failed, 503 unavailable

    @property
    def code(self) -> str:
        unavailable = self.status == HTTPStatus.SERVICE_UNAVAILABLE
        return "provider_unavailable" if unavailable else "provider_error"


UNAVAILABLE, BAD_GATEWAY = HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.BAD_GATEWAY


def provider_failure(exc: BaseException) -> ProviderFailure | None:
    """The failure to report for a provider error; None when `exc` isn't one."""
    match exc:
        case TimeoutError() | openai.APITimeoutError():  # before APIConnectionError (a subclass)
            return ProviderFailure(MSG_TIMEOUT, True, UNAVAILABLE)
        case openai.APIConnectionError():
            return ProviderFailure(MSG_UNREACHABLE, True, UNAVAILABLE)
        case openai.RateLimitError():
            return ProviderFailure(MSG_BUSY, True, UNAVAILABLE)
        case openai.AuthenticationError() | openai.PermissionDeniedError() | openai.NotFoundError():
            # A wrong key, or a model this key can't use: retrying won't help.
            return ProviderFailure(MSG_NOT_CONFIGURED, False, BAD_GATEWAY)
        case openai.BadRequestError() | openai.UnprocessableEntityError():
            return ProviderFailure(MSG_REFUSED, False, BAD_GATEWAY)
        case openai.OpenAIError():  # 5xx, 409, other statuses, an unreadable answer
            return ProviderFailure(MSG_PROVIDER_ERROR, True, BAD_GATEWAY)
    return None
