"""A local stand-in for OpenAI's Responses API (`POST /v1/responses`, stream=true).

It runs a real HTTP server on 127.0.0.1 in a thread, so the real OpenAI client,
Agents SDK model and ChatKit server are exercised over the wire. Its script: the
first call asks for the `add_todo` tool; once the input carries the tool's
output, it streams a short text answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)
from pydantic import BaseModel

from chat.responses_stream import response, stream_events, usage_of

# script: tool call, then the answer; rate_limit / hang: every call fails so;
# fail_after_tool: the tool call goes out, the call that carries its output gets a 429.
Mode = Literal["script", "rate_limit", "hang", "fail_after_tool"]


@contextmanager
def as_configured_model(settings: Any, fake: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """Start `fake` and make it the configured OpenAI model (pytest-django's `settings`)
    until the block ends."""
    fake.start()
    settings.CHATKIT = {
        **settings.CHATKIT,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake.base_url,
        "MODEL": "gpt-test-mini",
    }
    try:
        yield fake
    finally:
        fake.stop()


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeOpenAI:
    """Start with `start()`, point OPENAI_BASE_URL at `base_url`, `stop()` after."""

    todo_title: str = "Buy oat milk"
    # A longer script: the tool calls (name, arguments) made in turn, the k-th for a
    # request whose input holds k tool outputs, then the text answer. None: one add_todo.
    steps: list[tuple[str, dict[str, Any]]] | None = None
    answer_chunks: tuple[str, ...] = ("Added ", "oat milk ", "to your list.")
    mode: Mode = "script"
    # What a request that does not stream (the title model's call) is answered.
    title_text: str = "Oat milk for the week"
    # The title model's call fails with a 500 (the agent's calls do not).
    title_fails: bool = False
    # Every request (any path) answers this HTTP status with an OpenAI error body.
    fail_status: int | None = None
    # Seconds between text chunks after the first (the model's pace; the benchmark's 20 ms).
    chunk_delay_s: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    # The usage each answer reports: (input, cached input, output, reasoning) tokens.
    tool_call_usage: tuple[int, int, int, int] = (1234, 1024, 56, 32)
    answer_usage: tuple[int, int, int, int] = (1402, 1280, 19, 0)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    # Set on stop(), so a "hang" handler thread can finish.
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self, port: int = 0) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- request handling ------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:  # multipart (an audio upload)
            body = {"raw": raw}
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.requests.append(RecordedRequest(request.path, headers, body))
        if self.fail_status is not None:
            status = HTTPStatus(self.fail_status)
            error = {"message": f"fake {status.phrase}", "type": "server_error"}
            self._json(request, status, {"error": error}, headers={"retry-after-ms": "10"})
            return
        if self.mode == "hang":
            self._stopping.wait(timeout=30)
            return
        if request.path != "/v1/responses":
            self._json(request, HTTPStatus.NOT_FOUND, {"error": {"message": "not found"}})
            return
        if self.mode == "rate_limit" or (
            self.mode == "fail_after_tool" and self._has_tool_output(body)
        ):
            self._json(
                request,
                HTTPStatus.TOO_MANY_REQUESTS,
                {"error": {"message": "Rate limit reached", "type": "requests"}},
                headers={"retry-after-ms": "10"},
            )
            return
        if not body.get("stream"):  # the title model's call: one JSON response
            if self.title_fails:
                error = {"error": {"message": "fake title failure", "type": "server_error"}}
                self._json(request, HTTPStatus.INTERNAL_SERVER_ERROR, error)
                return
            self._json(request, HTTPStatus.OK, self._title_response(body))
            return
        request.send_response(HTTPStatus.OK)
        request.send_header("Content-Type", "text/event-stream")
        request.send_header("Cache-Control", "no-cache")
        request.end_headers()
        first_text = True
        for event in self.events_for(body):
            if event.type == "response.output_text.delta":  # type: ignore[attr-defined]
                if not first_text and self.chunk_delay_s:
                    time.sleep(self.chunk_delay_s)  # the model's pace, in this handler's thread
                first_text = False
            frame = f"event: {event.type}\ndata: {event.model_dump_json()}\n\n"  # type: ignore[attr-defined]
            request.wfile.write(frame.encode())
            request.wfile.flush()

    @staticmethod
    def _json(
        request: BaseHTTPRequestHandler,
        status: HTTPStatus,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    # --- the script ------------------------------------------------------------------

    def _title_response(self, body: dict[str, Any]) -> dict[str, Any]:
        part = ResponseOutputText(
            type="output_text", text=self.title_text, annotations=[], logprobs=[]
        )
        message = ResponseOutputMessage(
            id=f"msg_title_{len(self.requests)}", type="message", role="assistant",
            status="completed", content=[part],
        )  # fmt: skip
        done = response(f"resp_title_{len(self.requests)}", [message], "completed",
                        model=body.get("model", "fake"), created_at=time.time())  # fmt: skip
        return done.model_dump(mode="json")

    def agent_requests(self) -> list[RecordedRequest]:
        """The agent's model calls (they offer tools), not the title model's."""
        return [request for request in self.requests if request.body.get("tools")]

    def title_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.body.get("input") and not r.body.get("tools")]

    @staticmethod
    def _has_tool_output(body: dict[str, Any]) -> bool:
        """Whether the input ends with a tool's output (the model must answer it now)."""
        items = body.get("input") or []
        return (
            bool(items)
            and isinstance(items[-1], dict)
            and (items[-1].get("type") == "function_call_output")
        )

    def events_for(self, body: dict[str, Any]) -> list[BaseModel]:
        number = len(self.requests)
        if self.steps is not None:
            outputs = sum(
                1
                for item in body.get("input") or []
                if isinstance(item, dict) and item.get("type") == "function_call_output"
            )
            if outputs < len(self.steps):
                name, arguments = self.steps[outputs]
                return self._tool_call_events(
                    f"resp_fake_{number}", f"fc_fake_{number}", name, arguments
                )
            return self._text_events(f"resp_fake_{number}", f"msg_fake_{number}")
        if self._has_tool_output(body):
            return self._text_events(f"resp_fake_{number}", f"msg_fake_{number}")
        return self._tool_call_events(f"resp_fake_{number}", f"fc_fake_{number}")

    def _tool_call_events(
        self,
        response_id: str,
        item_id: str,
        name: str = "add_todo",
        arguments: dict[str, Any] | None = None,
    ) -> list[BaseModel]:
        if arguments is None:
            arguments = {"title": self.todo_title, "priority": "low"}
        call = ResponseFunctionToolCall(
            id=item_id,
            call_id=f"call_{item_id}",
            type="function_call",
            name=name,
            arguments=json.dumps(arguments),
            status="completed",
        )
        return list(
            stream_events(
                call,
                response_id=response_id,
                model="fake-model",
                usage=_usage(self.tool_call_usage),
            )
        )

    def _text_events(self, response_id: str, item_id: str) -> list[BaseModel]:
        text = "".join(self.answer_chunks)
        part = ResponseOutputText(type="output_text", text=text, annotations=[], logprobs=[])
        message = ResponseOutputMessage(
            id=item_id, type="message", role="assistant", status="completed", content=[part]
        )
        return list(
            stream_events(
                message,
                response_id=response_id,
                chunks=self.answer_chunks,
                model="fake-model",
                usage=_usage(self.answer_usage),
            )
        )


def _usage(numbers: tuple[int, int, int, int]) -> Any:
    input_tokens, cached, output_tokens, reasoning = numbers
    return usage_of(input_tokens, output_tokens, cached_tokens=cached, reasoning_tokens=reasoning)
