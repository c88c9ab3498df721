"""Dictation (`input.transcribe`): OpenAI's transcription API, only with a key."""

from __future__ import annotations

import logging

import openai
from chatkit.types import AudioInput, TranscriptionResult
from django.conf import settings

from chat.provider_errors import ProviderFailure, provider_failure
from config.exceptions import ApiError, BadRequest

logger = logging.getLogger(__name__)

AUDIO_TYPES = {"audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "mp4", "audio/mpeg": "mp3"}
NEEDS_KEY = (
    "Dictation needs a real model: set OPENAI_API_KEY on the server to turn it on. "
    "Type your message instead."
)


async def transcribe_audio(audio: AudioInput) -> TranscriptionResult:
    """The text spoken in `audio`; BadRequest without a key or for a type we don't take."""
    if not settings.CHATKIT["OPENAI_API_KEY"]:
        raise BadRequest(NEEDS_KEY)
    extension = AUDIO_TYPES.get(audio.media_type.lower())
    if extension is None:
        raise BadRequest(f"Audio of type {audio.media_type} can't be transcribed.")
    if not audio.data:
        raise BadRequest("The recording is empty.")
    from chat.agent import get_openai_client  # the model's client: same key, base URL, timeout

    try:
        result = await get_openai_client().audio.transcriptions.create(
            model=settings.ATTACHMENTS["TRANSCRIBE_MODEL"],
            file=(f"dictation.{extension}", audio.data, audio.media_type),
        )
    except openai.BadRequestError as exc:  # audio the provider can't read
        raise BadRequest("That recording could not be transcribed. Please try again.") from exc
    except openai.OpenAIError as exc:  # the provider failed: 502, or 503 when unreachable
        failure = provider_failure(exc)
        assert failure is not None  # every OpenAIError maps to one
        logger.warning("Dictation failed: the provider: %s", type(exc).__name__)
        raise ProviderError(failure) from exc
    return TranscriptionResult(text=result.text)


class ProviderError(ApiError):
    """The model's provider failed (chat/provider_errors.py): 502 or 503, never 500."""

    def __init__(self, failure: ProviderFailure) -> None:
        super().__init__(f"Dictation failed: {failure.message}")
        self.status, self.code = failure.status, failure.code
