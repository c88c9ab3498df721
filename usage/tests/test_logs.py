"""JSON logs tied to requests, and the Agents SDK's traces tied to threads."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from agents.tracing import TracingProcessor, set_trace_processors
from agents.tracing.processors import default_processor

from chat.context import RequestContext
from chat.server import get_server
from chat.tests import chatkit_client as ck
from config.logcontext import JsonFormatter
from config.tests.servers import user_input
from usage.services import turn_records_flush

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]


@pytest.mark.slow
def test_json_logs_carry_the_request_id_through_a_turn_and_no_secret(
    run_server, user, token_for, settings
):
    server = run_server(env={"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}, server="uvicorn")
    token = token_for(user)
    secret = "cks_" + "s3cretvalue" * 3
    with httpx.Client(base_url=server.url, timeout=30) as client:
        turn = client.post(
            "/chatkit",
            json={"type": "threads.create", "params": {"input": user_input("add oat milk")}},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-usage-42"},
        )
        assert turn.status_code == 200
        assert turn.headers["X-Request-ID"] == "req-usage-42"
        refused = client.post("/chatkit", json={}, headers={"Authorization": f"Bearer {secret}"})
        assert refused.status_code == 401
        made_up = refused.headers["X-Request-ID"]
        assert made_up and made_up != "req-usage-42"
        hostile = client.get("/healthz", headers={"X-Request-ID": "x" * 500})
        assert len(hostile.headers["X-Request-ID"]) == 32  # not the client's
        thread_id = next(
            json.loads(line[6:])["thread"]["id"]
            for line in turn.text.splitlines()
            if line.startswith("data: ") and '"thread.created"' in line
        )

    server.stop()
    text = server.log()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line
    ours = [line for line in lines if line.get("request_id") == "req-usage-42"]
    ended = [line for line in ours if line["message"].startswith("Turn answered")]
    assert len(ended) == 1, ours
    assert ended[0]["user_id"] == user.pk
    assert ended[0]["thread_id"] == thread_id
    assert ended[0]["outcome"] == "answered"
    for leaked in (token, secret, "s3cretvalue", settings.SECRET_KEY, "oat milk"):
        assert leaked not in text


def test_the_json_formatter_redacts_credentials_in_messages_and_tracebacks():
    try:
        raise ValueError("sent Authorization: Bearer eyJhbGciOi.payload.sig with cks_abc123")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token=%s", ("cks_zz",), True)
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert "cks_" not in json.dumps(line)
    assert "eyJhbGciOi" not in json.dumps(line)
    assert line["level"] == "ERROR"


async def test_message_text_is_logged_only_when_asked(user, settings, caplog):
    caplog.set_level(logging.INFO)
    await _turn(user, "add secret plan")
    assert "secret plan" not in caplog.text
    assert not any(hasattr(record, "message_text") for record in caplog.records)

    settings.LOG_MESSAGE_TEXT = True
    await _turn(user, "add open plan")
    assert [r.message_text for r in caplog.records if hasattr(r, "message_text")] == [
        "add open plan"
    ]


class Collected(TracingProcessor):
    def __init__(self) -> None:
        self.traces: list[Any] = []
        self.spans: list[Any] = []

    def on_trace_start(self, trace: Any) -> None:
        self.traces.append(trace)

    def on_trace_end(self, trace: Any) -> None:
        pass

    def on_span_start(self, span: Any) -> None:
        pass

    def on_span_end(self, span: Any) -> None:
        self.spans.append(span)

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


@pytest.fixture
def collected():
    processor = Collected()
    set_trace_processors([processor])
    yield processor
    set_trace_processors([default_processor()])


async def test_traces_group_a_threads_runs_without_sensitive_data(user, settings, collected):
    settings.CHATKIT = {**settings.CHATKIT, "TRACING": True}
    events = await _turn(user, "add tea")

    thread_id = events[0].thread.id
    assert [trace.export()["group_id"] for trace in collected.traces] == [thread_id]
    assert collected.traces[0].export()["metadata"] == {"user_id": str(user.pk)}
    # The tool call's span, without its arguments or result (sensitive data off).
    calls = [s.export()["span_data"] for s in collected.spans]
    calls = [data for data in calls if data["type"] == "function"]
    assert calls and all(data["input"] is None and data["output"] is None for data in calls)
    assert "tea" not in json.dumps([s.export() for s in collected.spans], default=str)


async def test_tracing_off_sends_nothing(user, settings, collected):
    settings.CHATKIT = {**settings.CHATKIT, "TRACING": False}
    await _turn(user, "add tea")
    assert collected.traces == []


async def _turn(user, text: str) -> list[Any]:
    result = await get_server().process(ck.create_thread(text), RequestContext(user=user))
    events = ck.parse_sse(b"".join([chunk async for chunk in result]))
    await turn_records_flush()
    return events
