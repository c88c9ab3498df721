"""The model sees attachments: images as image inputs, text files and PDFs as text,
over the wire to a fake Responses endpoint; dictation goes to the transcription API."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

import pytest

from attachments.tests import client as ac
from attachments.tests.samples import pdf_with_text
from chat.tests import chatkit_client as ck
from chat.tests.fake_openai import FakeOpenAI, RecordedRequest, as_configured_model

pytestmark = pytest.mark.django_db(transaction=True)


class FakeOpenAIWithAudio(FakeOpenAI):
    """The Responses fake, plus `POST /v1/audio/transcriptions` answering "buy milk"."""

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        if request.path != "/v1/audio/transcriptions":
            return super().handle(request)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.requests.append(RecordedRequest(request.path, headers, {"raw": raw}))
        self._json(request, HTTPStatus.OK, {"text": "buy milk"})


@pytest.fixture
def fake_openai(settings) -> Iterator[FakeOpenAIWithAudio]:
    with as_configured_model(settings, FakeOpenAIWithAudio()) as fake:
        yield fake


def _user_content(request: RecordedRequest) -> list[dict]:
    messages = [item for item in request.body["input"] if item.get("role") == "user"]
    return messages[-1]["content"]


async def test_the_model_receives_the_image_and_the_text_file(
    async_client, user, bearer, png, fake_openai
):
    headers = bearer(user)
    image = await ac.attach(async_client, headers, "list.png", png, "image/png")
    notes = await ac.attach(async_client, headers, "notes.csv", b"milk,2\neggs,12\n", "text/csv")

    events = await ac.turn(
        async_client,
        ac.create_thread_with("turn these into todos", [image["id"], notes["id"]]),
        headers,
    )

    assert any(event.type == "thread.item.done" for event in events)
    content = _user_content(fake_openai.requests[0])
    assert content[0] == {"type": "input_text", "text": "turn these into todos"}
    assert content[1] == {"type": "input_text", "text": "Attached image “list.png” (image/png)"}
    assert content[2]["type"] == "input_image"
    assert content[2]["image_url"] == "data:image/png;base64," + base64.b64encode(png).decode()
    assert content[3] == {
        "type": "input_text",
        "text": "Attached file “notes.csv” (text/csv):\nmilk,2\neggs,12\n",
    }

    # On the next turn the image is not sent again; the file's text is.
    thread_id = events[0].thread.id
    await ac.turn(async_client, ck.add_message(thread_id, "thanks"), headers)
    turn_two = fake_openai.agent_requests()[2].body  # (the title model's call is not one)
    later = [item for item in turn_two["input"] if item.get("role") == "user"]
    assert later[-1]["content"] == "thanks"  # no attachments: plain text
    earlier = later[0]["content"]
    assert [part["type"] for part in earlier] == ["input_text"] * 3
    assert earlier[1]["text"] == "Attached file “notes.csv” (text/csv):\nmilk,2\neggs,12\n"
    assert earlier[2]["text"] == (
        "Attached image “list.png” (image/png), shown to you when it was sent"
    )


async def test_text_is_bounded_and_pdfs_go_in_as_their_text(
    async_client, user, bearer, fake_openai, limits
):
    limits(MODEL_TEXT_CHARS=50)
    headers = bearer(user)
    long_text = await ac.attach(async_client, headers, "long.txt", b"a" * 500, "text/plain")
    pdf = await ac.attach(
        async_client, headers, "plan.pdf", pdf_with_text("Plan: paint the fence"), "application/pdf"
    )
    broken = await ac.attach(
        async_client, headers, "scan.pdf", b"%PDF-1.4 nothing else", "application/pdf"
    )

    await ac.turn(
        async_client,
        ac.create_thread_with("read", [long_text["id"], pdf["id"], broken["id"]]),
        headers,
    )

    content = _user_content(fake_openai.requests[0])
    assert content[1]["text"].startswith("Attached file “long.txt” (text/plain):\n" + "a" * 50)
    assert "cut" in content[1]["text"] and "a" * 51 not in content[1]["text"]
    assert content[2]["text"] == (
        "Attached file “plan.pdf” (application/pdf), its text:\nPlan: paint the fence"
    )
    assert "no text that can be read" in content[3]["text"]


async def test_dictation_goes_to_the_transcription_api(async_client, user, bearer, fake_openai):
    body = {
        "type": "input.transcribe",
        "params": {
            "audio_base64": base64.b64encode(b"webm bytes").decode(),
            "mime_type": "audio/webm;codecs=opus",
        },
    }
    response = await ac.chatkit(async_client, json.dumps(body).encode(), bearer(user))

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json() == {"text": "buy milk"}
    request = fake_openai.requests[-1]
    assert request.path == "/v1/audio/transcriptions"
    assert b"webm bytes" in request.body["raw"] and b"gpt-4o-mini-transcribe" in request.body["raw"]


async def test_dictation_without_a_key_is_a_clear_400(async_client, user, bearer):
    body = {
        "type": "input.transcribe",
        "params": {"audio_base64": "AAAA", "mime_type": "audio/webm"},
    }
    response = await ac.chatkit(async_client, json.dumps(body).encode(), bearer(user))
    assert ac.error(response) == (HTTPStatus.BAD_REQUEST, "bad_request")
    assert "OPENAI_API_KEY" in response.json()["error"]["message"]


async def test_a_file_named_twice_in_a_message_goes_to_the_model_once(
    async_client, user, bearer, png, fake_openai
):
    headers = bearer(user)
    image = await ac.attach(async_client, headers, "list.png", png, "image/png")
    notes = await ac.attach(async_client, headers, "notes.csv", b"milk,2\n", "text/csv")

    ids = [image["id"], notes["id"], image["id"], notes["id"], notes["id"]]
    await ac.turn(async_client, ac.create_thread_with("read", ids), headers)

    content = _user_content(fake_openai.requests[0])
    assert [part["type"] for part in content] == [
        "input_text",  # the typed text
        "input_text",  # the image's label
        "input_image",
        "input_text",  # the file's text
    ]
