"""Reads: a user's usage today (GET /api/chatkit/usage)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Q, Sum

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
