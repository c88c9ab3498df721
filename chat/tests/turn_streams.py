"""A turn streamed from a real server in a background thread, for tests that act
on it while it runs (stop it, re-attach to it, kill its worker)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx


def wait_for(predicate, timeout: float = 20.0):
    """Poll for what a server process does, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


class StreamedTurn:
    """POST a streaming ChatKit body and read its events in a thread."""

    def __init__(
        self,
        url: str,
        token: str | None,
        body: bytes | None,
        path: str = "/chatkit",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.events: list[dict[str, Any]] = []
        self.first_delta = threading.Event()
        self.ended = threading.Event()
        self.status: int | None = None
        self._args = (url, token, body, path, headers or {})
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        url, token, body, path, extra = self._args
        headers = {"Content-Type": "application/json", **extra}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            with (
                httpx.Client(timeout=30) as client,
                client.stream(
                    "GET" if body is None else "POST", f"{url}{path}", content=body, headers=headers
                ) as response,
            ):
                self.status = response.status_code
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        self.events.append(event)
                        if event.get("update", {}).get("delta"):
                            self.first_delta.set()
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    @property
    def thread_id(self) -> str:
        return next(e["thread"]["id"] for e in self.events if e["type"] == "thread.created")

    def started(self, timeout: float = 20.0) -> StreamedTurn:
        assert self.first_delta.wait(timeout), self.events
        return self

    def join(self, timeout: float = 30.0) -> None:
        assert self.ended.wait(timeout)


def answer_from_events(events: list[dict[str, Any]]) -> str:
    """The assistant text the events add up to (deltas, or a done item's whole text)."""
    texts: dict[str, str] = {}
    for event in events:
        if event["type"] == "thread.item.updated" and "delta" in event.get("update", {}):
            texts[event["item_id"]] = texts.get(event["item_id"], "") + event["update"]["delta"]
        elif event["type"] == "thread.item.done" and event["item"]["type"] == "assistant_message":
            item = event["item"]
            texts[item["id"]] = "".join(part["text"] for part in item["content"])
    return "".join(texts.values())


def delta_text(events: list[dict[str, Any]]) -> str:
    """The text deltas of the events, in order: the answer as it streamed."""
    return "".join(
        event["update"]["delta"]
        for event in events
        if event["type"] == "thread.item.updated" and "delta" in event.get("update", {})
    )
