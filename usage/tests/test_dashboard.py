"""/admin/usage/ for staff: charts, totals equal to the rows, top users and threads,
filters; refused to others; a thread's admin page shows its turns' usage."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils import timezone

from chat.tests.factories import ThreadFactory
from usage.models import UsageDay, UsageThreadDay
from usage.rollup import rebuild_days, rebuild_thread_days, turn_usage_create

pytestmark = pytest.mark.django_db

URL = "/admin/usage/"


def turn(user, *, days_ago=0, thread_id="thr_a", tokens=(100, 20), cost="0.01", **extra):
    """A turn's row, written as turns write it (with its user's day)."""
    return turn_usage_create(
        {
            "user_id": user.pk,
            "thread_id": thread_id,
            "model": "gpt-4.1-mini",
            "input_tokens": tokens[0],
            "output_tokens": tokens[1],
            "cost": Decimal(cost),
            "outcome": extra.pop("outcome", "answered"),
            "total_ms": extra.pop("total_ms", 900),
            "first_token_ms": extra.pop("first_token_ms", 300),
            "created_at": timezone.now() - datetime.timedelta(days=days_ago),
            **extra,
        }
    )


def total(html: str, name: str) -> str:
    match = re.search(rf'data-testid="total-{name}">([^<]*)<', html)
    assert match, name
    return match.group(1)


def test_staff_see_charts_and_totals_equal_to_the_rows(admin_client, user, other_user):
    turn(user, tokens=(1000, 200), cost="0.5")
    turn(user, days_ago=1, tokens=(10, 5), cost="0.25", outcome="failed")
    turn(other_user, thread_id="thr_b", tokens=(3, 2), cost="0.125")
    turn(other_user, days_ago=40, tokens=(7, 7), cost="9")  # outside the 30 days
    turn(other_user, outcome="refused", tokens=(0, 0), cost="0", first_token_ms=None)

    response = admin_client.get(URL)

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert html.count('<svg class="usage-chart"') == 5
    assert '<script src="http' not in html  # no CDN
    assert (total(html, "turns"), total(html, "tokens")) == ("3", str(1200 + 15 + 5))
    assert (total(html, "cost"), total(html, "errors")) == ("0.8750", "1")
    top_users = html[html.index("Top users") : html.index("Top threads")]
    assert top_users.index(user.email) < top_users.index(other_user.email)  # by cost
    assert "thr_a" in html and "thr_b" in html

    only_other = admin_client.get(URL, {"user": other_user.email}).content.decode()
    assert (total(only_other, "turns"), total(only_other, "cost")) == ("1", "0.1250")
    wider = admin_client.get(
        URL, {"start": (timezone.now() - datetime.timedelta(days=45)).date().isoformat()}
    ).content.decode()
    assert total(wider, "cost") == "9.8750"


def test_first_token_p95_per_day(admin_client, user):
    for ms in [*range(10, 1000, 10), 2500]:  # 95 % are within 1000 ms
        turn(user, first_token_ms=ms)

    html = admin_client.get(URL).content.decode()

    today = timezone.now().astimezone(datetime.UTC).strftime("%b %d")
    assert re.search(rf"<title>{today}: 1,000 ms</title>", html), html


def test_the_daily_rollup_equals_the_turn_rows(user, other_user):
    turn(user, tokens=(10, 1), cost="0.5", first_token_ms=90)
    turn(user, tokens=(20, 2), cost="0.25", outcome="failed", first_token_ms=2500)
    turn(other_user, days_ago=1, tokens=(5, 5), cost="1")
    kept = {
        (row.day, row.user_id): (row.turns, row.errors, row.input_tokens, row.cost)
        for row in UsageDay.objects.all()
    }

    threads_kept = {
        (row.day, row.thread_id): (row.turns, row.input_tokens, row.cost)
        for row in UsageThreadDay.objects.all()
    }
    assert rebuild_days() == 2
    assert rebuild_thread_days() == 2
    assert {
        (row.day, row.thread_id): (row.turns, row.input_tokens, row.cost)
        for row in UsageThreadDay.objects.all()
    } == threads_kept
    rebuilt = {
        (row.day, row.user_id): (row.turns, row.errors, row.input_tokens, row.cost)
        for row in UsageDay.objects.all()
    }
    assert rebuilt == kept
    today = UsageDay.objects.get(user=user)
    assert (today.turns, today.errors, today.input_tokens, today.cost) == (
        2,
        1,
        30,
        Decimal("0.75"),
    )
    assert (today.first_token_0, today.first_token_8) == (1, 1)  # <= 100 ms, <= 3000 ms


def test_a_bad_filter_is_an_error_not_a_crash(admin_client):
    response = admin_client.get(URL, {"start": "2030-01-02", "end": "2030-01-01", "user": "x@y"})
    assert response.status_code == HTTPStatus.OK
    assert "errorlist" in response.content.decode()


def test_non_staff_are_refused(client, user):
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in response["Location"]


def test_a_threads_admin_page_shows_its_turns_usage(admin_client, user):
    thread = ThreadFactory(owner=user)
    turn(user, thread_id=thread.pk, tokens=(1234, 56))

    response = admin_client.get(reverse("admin:chat_thread_change", args=[quote(thread.pk)]))

    html = response.content.decode()
    assert 'data-testid="thread-usage"' in html
    assert "1,234 / 56" in html


@pytest.mark.parametrize("who", ["\u00b2", "\u0661\u0662", "9" * 30, "x\x00y"])
def test_an_odd_user_filter_is_an_error_not_a_crash(admin_client, who):
    """Digits that are not ASCII ("²" is a digit to str.isdigit, not to int) were a 500."""
    response = admin_client.get(URL, {"user": who})
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors


def test_top_threads_link_to_their_admin_page_whatever_their_id(admin_client, user):
    # The admin reads "_26" in a path as "&": an id like this one, unquoted, was a link
    # to "not found" (about one thread in twelve: new ids are "thr_" and random hex).
    thread = ThreadFactory(owner=user, id="thr_2652f9b93b324e0f9b52de9a8086b3b8")
    turn(user, thread_id=thread.pk)

    html = admin_client.get(URL).content.decode()

    link = reverse("admin:chat_thread_change", args=[quote(thread.pk)])
    assert f'href="{link}"' in html
    page = admin_client.get(link)
    assert page.status_code == HTTPStatus.OK
    assert thread.title in page.content.decode()
