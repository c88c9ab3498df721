"""Reads: a user's usage today (GET /api/chatkit/usage) and the staff dashboard's
aggregates (/admin/usage/), each one grouped query over the date range's index."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from accounts.models import User
from usage import quota
from usage.models import Outcome, TurnUsage


def usage_today(*, user: User, now: datetime.datetime) -> dict[str, Any]:
    """The user's turns and tokens since the last UTC midnight, and what is left."""
    day = quota.day_of(now)
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
    totals = TurnUsage.objects.filter(user=user, created_at__gte=start).aggregate(
        turns=Count("id", filter=~Q(outcome=Outcome.REFUSED)),
        input_tokens=Sum("input_tokens", default=0),
        output_tokens=Sum("output_tokens", default=0),
    )
    budget = quota.daily_budget()
    spent = totals["input_tokens"] + totals["output_tokens"]
    return {
        "date": day.isoformat(),
        **totals,
        "budget_tokens": budget,
        "remaining_tokens": None if budget is None else max(0, budget - spent),
        "resets_at": quota.next_reset(now).isoformat().replace("+00:00", "Z"),
    }


@dataclass(frozen=True)
class Day:
    day: datetime.date
    turns: int
    tokens: int
    cost: Decimal
    errors: int
    p95_first_token_ms: float | None


def _bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, ...]:
    """The UTC instants from `start`'s midnight to the one after `end`."""
    midnight = datetime.time(tzinfo=datetime.UTC)
    return (
        datetime.datetime.combine(start, midnight),
        datetime.datetime.combine(end + datetime.timedelta(days=1), midnight),
    )


def _range(start: datetime.date, end: datetime.date, user_id: int | None) -> QuerySet[TurnUsage]:
    """Rows from `start` through `end` (UTC days, both included), of one user if given."""
    since, until = _bounds(start, end)
    rows = TurnUsage.objects.filter(created_at__gte=since, created_at__lt=until)
    return rows.filter(user_id=user_id) if user_id is not None else rows


class Percentile95(Aggregate):
    """PostgreSQL's percentile_cont(0.95) over the group (NULLs ignored)."""

    function = "percentile_cont"
    template = "%(function)s(0.95) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def usage_by_day(
    *, start: datetime.date, end: datetime.date, user_id: int | None = None
) -> list[Day]:
    """Turns, tokens, cost, errors and first-token p95 for every day of the range (zeros
    for days without turns): one grouped query (on PostgreSQL, the p95s in it too)."""
    on_postgres = connection.vendor == "postgresql"
    totals = {
        row["day"]: row
        for row in _range(start, end, user_id)
        .annotate(day=TruncDate("created_at", tzinfo=datetime.UTC))
        .values("day")
        .annotate(
            turns=Count("id", filter=~Q(outcome=Outcome.REFUSED)),
            tokens=Sum(F("input_tokens") + F("output_tokens"), default=0),
            cost=Sum("cost", default=Decimal(0)),
            errors=Count("id", filter=Q(outcome=Outcome.FAILED)),
            **({"p95": Percentile95("first_token_ms")} if on_postgres else {}),
        )
        .order_by()
    }
    p95s = (
        {day: row["p95"] for day, row in totals.items()}
        if on_postgres
        else _first_token_p95_in_python(start, end, user_id)
    )
    days = []
    for offset in range((end - start).days + 1):
        day = start + datetime.timedelta(days=offset)
        row = totals.get(day, {})
        days.append(
            Day(
                day=day,
                turns=row.get("turns", 0),
                tokens=row.get("tokens", 0),
                cost=row.get("cost") or Decimal(0),
                errors=row.get("errors", 0),
                p95_first_token_ms=p95s.get(day),
            )
        )
    return days


def _first_token_p95_in_python(
    start: datetime.date, end: datetime.date, user_id: int | None
) -> dict[datetime.date, float]:
    """Elsewhere (SQLite, development): the nearest-rank p95 of each day."""
    rows = _range(start, end, user_id).filter(first_token_ms__isnull=False)
    by_day: dict[datetime.date, list[int]] = {}
    for created_at, ms in rows.values_list("created_at", "first_token_ms").order_by():
        by_day.setdefault(created_at.astimezone(datetime.UTC).date(), []).append(ms)
    return {day: _p95(values) for day, values in by_day.items()}


def _p95(values: list[int]) -> float:
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)])


def top_users(
    *, start: datetime.date, end: datetime.date, user_id: int | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """The users who cost most in the range: id, email, turns, tokens, cost (grouped by
    id alone; the emails of the few on top are read after)."""
    rows = list(
        _range(start, end, user_id)
        .exclude(user_id=None)
        .values("user_id")
        .annotate(
            turns=Count("id", filter=~Q(outcome=Outcome.REFUSED)),
            tokens=Sum(F("input_tokens") + F("output_tokens")),
            cost=Sum("cost", default=Decimal(0)),
        )
        .order_by("-cost", "-tokens")[:limit]
    )
    emails = dict(
        User.objects.filter(pk__in=[row["user_id"] for row in rows]).values_list("pk", "email")
    )
    return [{**row, "user__email": emails.get(row["user_id"], "")} for row in rows]


def top_threads(
    *, start: datetime.date, end: datetime.date, user_id: int | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """The threads that cost most in the range: id, turns, tokens, cost."""
    return list(
        _range(start, end, user_id)
        .exclude(thread_id="")
        .values("thread_id")
        .annotate(
            turns=Count("id", filter=~Q(outcome=Outcome.REFUSED)),
            tokens=Sum(F("input_tokens") + F("output_tokens")),
            cost=Sum("cost", default=Decimal(0)),
        )
        .order_by("-cost", "-tokens")[:limit]
    )


def thread_turns(*, thread_id: str, limit: int = 100) -> list[TurnUsage]:
    """A thread's turns' usage, newest first (its admin page)."""
    return list(TurnUsage.objects.filter(thread_id=thread_id).order_by("-created_at")[:limit])
