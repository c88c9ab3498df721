"""The daily budget across two real server processes sharing Redis: exact under
concurrency (never more than one turn over), as the rate limit is one budget."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest

from config.tests.servers import post_chatkit, user_input
from usage.models import TurnUsage, UsageDay

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/0"
TEXT = "add tea"


def wait_for_rows(user, count: int, timeout: float = 30.0) -> list[TurnUsage]:
    deadline = time.monotonic() + timeout
    while True:
        rows = list(TurnUsage.objects.filter(user=user, outcome="answered"))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)  # polling what the server processes write, bounded


def test_twenty_concurrent_turns_on_two_workers_end_at_most_one_turn_over(
    run_server, user, other_user, token_for
):
    token = token_for(user)
    payload = {"type": "threads.create", "params": {"input": user_input(TEXT)}}
    # One turn's size as the servers count it, on a server of its own (own Redis keys).
    warm = run_server(env={"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": uuid.uuid4().hex})
    assert post_chatkit(warm, token, payload).status_code == HTTPStatus.OK
    size = wait_for_rows(user, 1)[0].tokens
    warm.stop()
    TurnUsage.objects.all().delete()
    UsageDay.objects.all().delete()
    reserve = size + 20  # a turn's reserve covers it (todo ids vary by a digit or two)
    budget = 5 * reserve + reserve // 2  # room for five and a half turns
    prefix = f"test-budget-{uuid.uuid4().hex[:12]}"
    env = {
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": prefix,
        "CHANNELS_PREFIX": prefix,
        "CHATKIT_USER_DAILY_TOKENS": str(budget),
        "CHATKIT_TURN_RESERVE_TOKENS": str(reserve),
    }
    workers = [run_server(env=env, server="uvicorn") for _ in range(2)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(lambda n: post_chatkit(workers[n % 2], token, payload), range(20))
        )

    statuses = [response.status_code for response in responses]
    admitted = statuses.count(HTTPStatus.OK)
    refused = [r for r in responses if r.status_code == HTTPStatus.TOO_MANY_REQUESTS]
    assert admitted + len(refused) == 20, statuses
    assert {r.json()["error"]["code"] for r in refused} == {"quota_exceeded"}
    assert admitted >= budget // reserve  # the budget's room was used, not refused early
    rows = wait_for_rows(user, admitted)
    assert len(rows) == admitted
    spent, biggest = sum(row.tokens for row in rows), max(row.tokens for row in rows)
    assert spent <= budget + biggest, (spent, budget, biggest)  # however many raced
    # Turns refused while others held their reserve may fit once those ended (and later
    # turns, adding a todo that exists, are smaller): spend what is left one turn at a
    # time, then every worker refuses.
    for _ in range(20):
        if post_chatkit(workers[0], token, payload).status_code != HTTPStatus.OK:
            break
        admitted += 1
        wait_for_rows(user, admitted)
    for worker in workers:
        assert post_chatkit(worker, token, payload).status_code == HTTPStatus.TOO_MANY_REQUESTS
    rows = wait_for_rows(user, admitted)
    spent = sum(row.tokens for row in rows)
    biggest = max(row.tokens for row in rows)
    assert budget <= spent <= budget + biggest, (spent, budget, biggest)  # all of it, no more
    # The dashboard's rollup added every racing turn up exactly.
    day = UsageDay.objects.get(user=user)
    assert (day.turns, day.input_tokens + day.output_tokens) == (admitted, spent)
    other = post_chatkit(workers[0], token_for(other_user), payload)
    assert other.status_code == HTTPStatus.OK
