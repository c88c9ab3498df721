"""The tests' fake Responses API (chat/tests/fake_openai.py) as its own process, paced
like the offline model, so the benchmark can run the real OpenAI client path.

`python -m bench.fake_openai_server --port 8200 --delay-ms 20`: every conversation asks
for the `add_todo` tool once, then streams the offline model's help text in the same
13 chunks with `--delay-ms` between them.
"""

from __future__ import annotations

import argparse
import signal
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from pydantic import BaseModel

from chat.offline_model import HELP_TEXT, _chunks
from chat.tests.fake_openai import FakeOpenAI


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=int, default=20)
    args = parser.parse_args()
    fake = BenchOpenAI(answer_chunks=tuple(_chunks(HELP_TEXT)), chunk_delay_s=args.delay_ms / 1000)
    # Keep no per-request history (a benchmark sends thousands), only the count.
    fake.requests = _Counted()
    ThreadingHTTPServer.request_queue_size = 1024  # the listen backlog
    fake.start(args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"fake OpenAI on {fake.base_url}", flush=True)
    stop.wait()
    fake.stop()


class BenchOpenAI(FakeOpenAI):
    """Each conversation adds a todo of its own: one whose title is already open would
    be a question to the user (chat/tools.py), which ends the turn without an answer."""

    def _tool_call_events(
        self,
        response_id: str,
        item_id: str,
        name: str = "add_todo",
        arguments: dict[str, Any] | None = None,
    ) -> list[BaseModel]:
        if arguments is None:
            arguments = {"title": f"{self.todo_title} ({item_id})", "priority": "low"}
        return super()._tool_call_events(response_id, item_id, name, arguments)


class _Counted(list):
    """A list that forgets its items but not how many were appended (ids stay unique)."""

    count = 0

    def append(self, item: object) -> None:
        self.count += 1

    def __len__(self) -> int:
        return self.count


if __name__ == "__main__":
    main()
