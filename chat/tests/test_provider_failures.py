"""A failing model provider, over the wire (the fake OpenAI endpoint, or a closed
port): a chat turn ends with a friendly `error` event (its message saved on the error
card, the user's message kept), and dictation answers a 502 / 503 JSON error, never
a 500 and never the provider's own words."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from http import HTTPStatus

import pytest

from chat import provider_errors as pe
from chat.models import ThreadItem
from chat.tests import chatkit_client as ck
from chat.tests.fake_openai import FakeOpenAI, as_configured_model
from chat.tests.test_views import post, stream
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_openai(settings) -> Iterator[FakeOpenAI]:
    with as_configured_model(settings, FakeOpenAI()) as fake:
        settings.CHATKIT = {**settings.CHATKIT, "MODEL_TIMEOUT_SECONDS": 0.5}
        yield fake


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


def _fail(fake: FakeOpenAI, settings, how: str) -> None:
    match how:
        case "500" | "503" | "429" | "401" | "400":
            fake.fail_status = int(how)
        case "slow":
            fake.mode = "hang"
        case "closed":
            url = f"http://127.0.0.1:{_closed_port()}/v1"
            # Refused at once, and once more on the client's retry (after its backoff).
            settings.CHATKIT = {**settings.CHATKIT, "OPENAI_BASE_URL": url,
                                "MODEL_TIMEOUT_SECONDS": 10}  # fmt: skip


CHAT_CASES = [
    ("500", pe.MSG_PROVIDER_ERROR),
    ("503", pe.MSG_PROVIDER_ERROR),
    ("429", pe.MSG_BUSY),
    ("401", pe.MSG_NOT_CONFIGURED),
    ("400", pe.MSG_REFUSED),
    ("slow", pe.MSG_TIMEOUT),
    ("closed", pe.MSG_UNREACHABLE),
]


@pytest.mark.parametrize(("how", "message"), CHAT_CASES)
async def test_a_failing_provider_is_a_friendly_error_in_the_stream(
    async_client, user, bearer, fake_openai, settings, how, message
):
    _fail(fake_openai, settings, how)

    events = await stream(async_client, ck.create_thread("add tea"), bearer(user))

    errors = [event for event in events if event.type == "error"]
    assert [(e.code, e.message) for e in errors] == [("custom", message)]
    raw = json.dumps([event.model_dump(mode="json") for event in events])
    assert "fake" not in raw and "Traceback" not in raw and "127.0.0.1" not in raw
    thread_id = events[0].thread.id
    types = [t async for t in ThreadItem.objects.filter(thread_id=thread_id).values_list(
        "type", flat=True)]  # fmt: skip
    assert types == ["user_message", "widget"]  # the message, and the error card
    assert not await Todo.objects.aexists()


def _transcribe() -> bytes:
    audio = base64.b64encode(b"webm bytes").decode()
    body = {
        "type": "input.transcribe",
        "params": {"audio_base64": audio, "mime_type": "audio/webm"},
    }
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("how", "status", "code"),
    [
        ("500", HTTPStatus.BAD_GATEWAY, "provider_error"),
        ("401", HTTPStatus.BAD_GATEWAY, "provider_error"),
        ("429", HTTPStatus.SERVICE_UNAVAILABLE, "provider_unavailable"),
        ("slow", HTTPStatus.SERVICE_UNAVAILABLE, "provider_unavailable"),
        ("closed", HTTPStatus.SERVICE_UNAVAILABLE, "provider_unavailable"),
    ],
)
async def test_dictation_with_a_failing_provider_is_a_502_or_503(
    async_client, user, bearer, fake_openai, settings, how, status, code
):
    _fail(fake_openai, settings, how)

    response = await post(async_client, _transcribe(), bearer(user))

    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"].startswith("Dictation failed: ")
    assert "fake" not in error["message"] and "127.0.0.1" not in error["message"]
    if how != "closed":
        assert fake_openai.requests[-1].path == "/v1/audio/transcriptions"
