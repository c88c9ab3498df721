"""Reads: a user's usage today (GET /api/chatkit/usage) and the staff dashboard's
aggregates (/admin/usage/), each one grouped query over the date range's index."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum

from accounts.models import User
from usage import quota
from usage.models import (
    FIRST_TOKEN_BOUNDS_MS,
    FIRST_TOKEN_COLUMNS,
    Outcome,
    TurnUsage,
    UsageDay,
    UsageThreadDay,
)


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


def _days(start: datetime.date, end: datetime.date, user_id: int | None) -> QuerySet[UsageDay]:
    days = UsageDay.objects.filter(day__gte=start, day__lte=end)
    return days.filter(user_id=user_id) if user_id is not None else days


def usage_by_day(
    *, start: datetime.date, end: datetime.date, user_id: int | None = None
) -> list[Day]:
    """Turns, tokens, cost, errors and first-token p95 for every day of the range (zeros
    for days without turns), from the daily rollup: one grouped query over one row per
    user and day. The p95 is the upper bound of the first-token bucket it falls in."""
    totals = {
        row["day"]: row
        for row in _days(start, end, user_id)
        .values("day")
        .annotate(
            turns_sum=Sum("turns"),
            tokens=Sum(F("input_tokens") + F("output_tokens")),
            cost_sum=Sum("cost"),
            errors_sum=Sum("errors"),
            **{f"{name}_sum": Sum(name) for name in FIRST_TOKEN_COLUMNS},
        )
        .order_by()
    }
    days = []
    for offset in range((end - start).days + 1):
        day = start + datetime.timedelta(days=offset)
        row = totals.get(day, {})
        counts = [row.get(f"{name}_sum") or 0 for name in FIRST_TOKEN_COLUMNS]
        days.append(
            Day(
                day=day,
                turns=row.get("turns_sum") or 0,
                tokens=row.get("tokens") or 0,
                cost=row.get("cost_sum") or Decimal(0),
                errors=row.get("errors_sum") or 0,
                p95_first_token_ms=_bucket_p95(counts),
            )
        )
    return days


def _bucket_p95(counts: list[int]) -> float | None:
    """The bound of the bucket holding the 95th percentile; past the last bound, the
    last bound (the open bucket has none)."""
    total = sum(counts)
    if not total:
        return None
    rank, seen = math.ceil(0.95 * total), 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return float(FIRST_TOKEN_BOUNDS_MS[min(index, len(FIRST_TOKEN_BOUNDS_MS) - 1)])
    return float(FIRST_TOKEN_BOUNDS_MS[-1])


def top_users(
    *, start: datetime.date, end: datetime.date, user_id: int | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """The users who cost most in the range: id, email, turns, tokens, cost (from the
    daily rollup; the emails of the few on top are read after)."""
    rows = list(
        _days(start, end, user_id)
        .exclude(user_id=None)
        .values("user_id")
        .annotate(
            turns=Sum("turns"),
            tokens=Sum(F("input_tokens") + F("output_tokens")),
            cost=Sum("cost"),
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
    """The threads that cost most in the range: id, turns, tokens, cost (from the
    per-thread daily rollup)."""
    days = UsageThreadDay.objects.filter(day__gte=start, day__lte=end)
    if user_id is not None:
        days = days.filter(user_id=user_id)
    return list(
        days.values("thread_id")
        .annotate(
            turns=Sum("turns"),
            tokens=Sum(F("input_tokens") + F("output_tokens")),
            cost=Sum("cost"),
        )
        .order_by("-cost", "-tokens")[:limit]
    )


def thread_turns(*, thread_id: str, limit: int = 100) -> list[TurnUsage]:
    """A thread's turns' usage, newest first (its admin page)."""
    return list(TurnUsage.objects.filter(thread_id=thread_id).order_by("-created_at")[:limit])
