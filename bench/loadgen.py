"""Load generator: N concurrent users streaming ChatKit turns over real HTTP.

Runs in its own process (so its CPU never counts as the server's) and prints one JSON
document: per-turn timings and errors. Every user runs a closed loop: the first turn
creates a thread (`threads.create`), the next ones continue it
(`threads.add_user_message`). Loops are bounded by turn count and by a deadline.

`python -m bench.loadgen SPEC.json` where SPEC holds url, tokens (one per user), users,
turns, message, timeout_s, ramp_s.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import ssl
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

TEXT_DELTA = b"assistant_message.content_part.text_delta"


@dataclass
class Turn:
    user: int
    index: int
    ok: bool = False
    status: int = 0
    error: str = ""
    ttfb_ms: float | None = None
    first_text_ms: float | None = None
    total_ms: float | None = None
    bytes: int = 0


@dataclass
class Spec:
    url: str
    tokens: list[str]
    users: int
    turns: int
    message: str = "hello"
    timeout_s: float = 60.0
    ramp_s: float = 0.0
    deadline_s: float = 300.0
    # A CA file for https URLs (the nginx phase's self-signed certificate).
    verify: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def raise_open_file_limit(wanted: int = 65536) -> int:
    """500 streams need more than the usual 1024 descriptors on each side."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def user_input(text: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def turn_body(message: str, thread_id: str | None) -> dict[str, Any]:
    if thread_id is None:
        return {"type": "threads.create", "params": {"input": user_input(message)}}
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": user_input(message)},
    }


def _events(buffer: bytearray) -> list[bytes]:
    """Pop complete SSE events (`data: ...\\n\\n`) off the buffer."""
    events = []
    while True:
        end = buffer.find(b"\n\n")
        if end < 0:
            return events
        events.append(bytes(buffer[:end]))
        del buffer[: end + 2]


async def stream_turn(
    client: httpx.AsyncClient, spec: Spec, user: int, index: int, thread_id: str | None
) -> tuple[Turn, str | None]:
    """One streamed turn; returns its timings and the thread id it ran in."""
    turn = Turn(user=user, index=index)
    headers = {"Authorization": f"Bearer {spec.tokens[user]}"}
    body = json.dumps(turn_body(spec.message, thread_id)).encode()
    start = time.perf_counter()
    saw_done = False
    try:
        async with client.stream(
            "POST", f"{spec.url}/chatkit", content=body, headers=headers
        ) as response:
            turn.status = response.status_code
            if response.status_code != 200:
                await response.aread()
                turn.error = f"http {response.status_code}: {response.text[:200]}"
                return turn, thread_id
            buffer = bytearray()
            async for chunk in response.aiter_raw():
                now = time.perf_counter()
                if turn.ttfb_ms is None:
                    turn.ttfb_ms = (now - start) * 1000
                turn.bytes += len(chunk)
                if turn.first_text_ms is None and TEXT_DELTA in chunk:
                    turn.first_text_ms = (now - start) * 1000
                buffer.extend(chunk)
                for event in _events(buffer):
                    payload = event.removeprefix(b"data: ")
                    if b'"type":"error"' in payload:
                        turn.error = "error event: " + payload[:200].decode(errors="replace")
                    elif thread_id is None and payload.startswith(b'{"type":"thread.created"'):
                        thread_id = json.loads(payload)["thread"]["id"]
                    elif payload.startswith(b'{"type":"thread.item.done"') and (
                        b'"assistant_message"' in payload
                    ):
                        saw_done = True
        turn.total_ms = (time.perf_counter() - start) * 1000
    except (httpx.HTTPError, OSError) as exc:
        turn.error = f"{type(exc).__name__}: {exc}"[:200]
        return turn, thread_id
    if not turn.error and turn.first_text_ms is None:
        turn.error = "no assistant text"
    elif not turn.error and not saw_done:
        turn.error = "stream ended before the assistant message was done"
    turn.ok = not turn.error
    return turn, thread_id


async def run_user(
    client: httpx.AsyncClient, spec: Spec, user: int, results: list[Turn], stop_at: float
) -> None:
    if spec.ramp_s:
        # Spread arrivals: a real crowd does not press Enter in the same microsecond.
        await asyncio.sleep(random.uniform(0, spec.ramp_s))
    thread_id: str | None = None
    for index in range(spec.turns):
        if time.perf_counter() > stop_at:
            results.append(Turn(user=user, index=index, error="deadline"))
            return
        turn, thread_id = await stream_turn(client, spec, user, index, thread_id)
        results.append(turn)


async def run(spec: Spec) -> dict[str, Any]:
    raise_open_file_limit()
    # Idle keep-alive connections are dropped well before the servers' own idle timeout
    # (uvicorn: 5 s), so a request never races the server closing its connection.
    limits = httpx.Limits(
        max_connections=spec.users + 10, max_keepalive_connections=spec.users, keepalive_expiry=2.0
    )
    timeout = httpx.Timeout(spec.timeout_s, connect=spec.timeout_s)
    results: list[Turn] = []
    started = time.perf_counter()
    stop_at = started + spec.deadline_s
    verify: ssl.SSLContext | bool = True
    if spec.verify:
        verify = ssl.create_default_context(cafile=spec.verify)
    async with httpx.AsyncClient(limits=limits, timeout=timeout, verify=verify) as client:
        await asyncio.gather(
            *(run_user(client, spec, user, results, stop_at) for user in range(spec.users))
        )
    elapsed = time.perf_counter() - started
    return {"elapsed_s": elapsed, "turns": [asdict(turn) for turn in results]}


def main() -> None:
    with open(sys.argv[1]) as handle:
        spec = Spec(**json.load(handle))
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    result = asyncio.run(run(spec))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
