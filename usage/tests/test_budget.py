"""Daily token budgets: refused at the limit with SPEC's 429, per user, reset at the
UTC day's boundary, and `GET /api/chatkit/usage` for the caller only."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest

from accounts.client_secrets import mint_client_secret
from chat.tests import chatkit_client as ck
from chat.tests.test_views import post, stream
from usage import quota
from usage.models import TurnUsage
from usage.services import turn_records_flush

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def budget(settings):
    def set_budget(tokens: int | None, *, reserve: int = 4000) -> None:
        settings.USAGE = {**settings.USAGE, "DAILY_TOKENS": tokens, "TURN_RESERVE_TOKENS": reserve}

    return set_budget


async def test_a_turn_over_todays_budget_is_refused_before_the_stream(
    async_client, user, other_user, bearer, budget
):
    budget(1)  # the first turn starts under it (0 spent) and crosses it
    await stream(async_client, ck.create_thread("add tea"), bearer(user))
    await turn_records_flush()

    refused = await post(async_client, ck.create_thread("add more tea"), bearer(user))

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused["Content-Type"] == "application/json"
    error = refused.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "0 left" in error["message"] and "00:00 UTC" in error["message"]
    now = datetime.datetime.now(datetime.UTC)
    assert abs(int(refused["Retry-After"]) - quota.seconds_to_reset(now)) <= 2
    # Another user's budget is their own.
    await stream(async_client, ck.create_thread("add tea"), bearer(other_user))
    await turn_records_flush()
    refusals = [row async for row in TurnUsage.objects.filter(outcome="refused")]
    assert [(row.user_id, row.error_kind) for row in refusals] == [(user.pk, "quota")]


async def test_no_budget_means_no_refusal(async_client, user, bearer, budget):
    budget(None)
    for text in ("add a", "add b", "add c"):
        await stream(async_client, ck.create_thread(text), bearer(user))


async def test_the_budget_resets_at_the_utc_day_boundary(user, budget):
    budget(100, reserve=100)
    before_midnight = datetime.datetime(2031, 3, 4, 23, 59, 59, tzinfo=datetime.UTC)
    args = {"user_id": user.pk, "rate_key": f"rl:test-budget:{user.pk}", "rate_limit": 100}

    first = await quota.admit_turn(**args, window=60, now=before_midnight)
    assert first.verdict == "admitted"
    await quota.settle(quota.claim(first.reservation), 150)
    refused = await quota.admit_turn(**args, window=60, now=before_midnight)
    assert (refused.verdict, refused.retry_after, refused.spent) == ("quota", 1, 150)

    at_midnight = before_midnight + datetime.timedelta(seconds=1)
    assert (await quota.admit_turn(**args, window=60, now=at_midnight)).verdict == "admitted"


async def test_running_turns_hold_their_reserve(user, budget):
    """Turns that start together are counted at their reserve before any has ended."""
    budget(1000, reserve=300)
    now = datetime.datetime(2031, 3, 5, 12, tzinfo=datetime.UTC)
    args = {"user_id": user.pk, "rate_key": f"rl:test-reserve:{user.pk}", "rate_limit": 100}

    verdicts = [(await quota.admit_turn(**args, window=60, now=now)).verdict for _ in range(5)]

    assert verdicts == ["admitted"] * 4 + ["quota"]  # 4 x 300 reaches 1000


async def test_usage_today_is_the_callers_own(async_client, user, other_user, bearer, budget):
    budget(50_000)
    await stream(async_client, ck.create_thread("add tea"), bearer(user))
    await stream(async_client, ck.create_thread("add milk"), bearer(user))
    await stream(async_client, ck.create_thread("add other"), bearer(other_user))
    await turn_records_flush()
    rows = [row async for row in TurnUsage.objects.filter(user=user)]
    spent_in, spent_out = sum(r.input_tokens for r in rows), sum(r.output_tokens for r in rows)

    secret, _ = await mint_client_secret_async(user)
    for headers in (bearer(user), {"Authorization": f"Bearer {secret}"}):
        response = await async_client.get("/api/chatkit/usage", headers=headers)
        assert response.status_code == HTTPStatus.OK
        body = response.json()
        today = datetime.datetime.now(datetime.UTC).date()
        assert body == {
            "date": today.isoformat(),
            "turns": 2,
            "input_tokens": spent_in,
            "output_tokens": spent_out,
            "budget_tokens": 50_000,
            "remaining_tokens": 50_000 - spent_in - spent_out,
            "resets_at": f"{today + datetime.timedelta(days=1)}T00:00:00Z",
        }

    await async_client.aforce_login(other_user)
    page = (await async_client.get("/api/chatkit/usage")).json()
    assert page["turns"] == 1
    assert (
        await async_client.get("/api/chatkit/usage", headers={"Authorization": "Bearer x"})
    ).status_code == HTTPStatus.UNAUTHORIZED


async def test_usage_without_credentials_is_401(async_client):
    response = await async_client.get("/api/chatkit/usage")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "auth_error"


async def mint_client_secret_async(user):
    from asgiref.sync import sync_to_async

    return await sync_to_async(mint_client_secret)(user=user)
