"""`GET /metrics`: behind METRICS_TOKEN, and its counters move with turns."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from prometheus_client.parser import text_string_to_metric_families

from chat.tests import chatkit_client as ck
from chat.tests.test_views import post, stream
from usage.services import turn_records_flush

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "metrics-test-token-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(client) -> dict:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


@pytest.fixture
def metrics_token(settings):
    settings.USAGE = {**settings.USAGE, "METRICS_TOKEN": TOKEN}


async def test_metrics_is_404_without_a_configured_token(async_client, settings):
    settings.USAGE = {**settings.USAGE, "METRICS_TOKEN": None}
    assert (await async_client.get("/metrics")).status_code == HTTPStatus.NOT_FOUND
    response = await async_client.get("/metrics", headers={"Authorization": "Bearer anything"})
    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer wrong-token",
        f"Basic {TOKEN}",
        "Bearer ",
        "Bearer m\u00e9trics",
        f"Bearer {TOKEN}\u00ff",
    ],
)
async def test_metrics_is_401_without_the_token(async_client, metrics_token, header):
    headers = {"Authorization": header} if header else {}
    response = await async_client.get("/metrics", headers=headers)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "auth_error"
    assert response["WWW-Authenticate"].startswith("Bearer")


async def test_counters_move_with_turns(async_client, metrics_token, user, bearer, settings):
    before = await scrape(async_client)
    await stream(async_client, ck.create_thread("add buy bread"), bearer(user))
    await turn_records_flush()
    settings.CHATKIT = {**settings.CHATKIT, "RATE_LIMIT": "1/minute"}  # the same window
    await post(async_client, ck.create_thread("add more"), bearer(user))  # over the limit
    after = await scrape(async_client)

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert moved("chatkit_turns_total", outcome="answered") == 1
    assert moved("chatkit_turns_total", outcome="refused") == 1
    assert moved("chatkit_refusals_total", reason="rate_limit") == 1
    assert moved("chatkit_first_token_seconds_count") == 1
    assert moved("chatkit_turn_duration_seconds_count") == 1
    assert moved("chatkit_model_tokens_total", kind="input") > 100
    assert moved("chatkit_model_tokens_total", kind="output") > 5
    assert after[("chatkit_active_streams", ())] == 0
    assert after[("chatkit_active_runs", ())] == 0
