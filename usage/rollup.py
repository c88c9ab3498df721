"""The daily rollup (UsageDay): one row per user and UTC day, kept in step with the
turn rows as they are written, and rebuilt from them when needed (a migration, a bulk
load)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import TruncDate

from usage.models import (
    FIRST_TOKEN_BOUNDS_MS,
    FIRST_TOKEN_COLUMNS,
    TurnUsage,
    UsageDay,
    UsageThreadDay,
    first_token_bucket,
)

THREAD_DAY_COLUMNS = ("turns", "input_tokens", "output_tokens", "cost")


def day_delta(row: dict[str, Any]) -> dict[str, Any]:
    """What one turn row adds to its user's day."""
    answered = row["outcome"] != "refused"
    delta: dict[str, Any] = {
        "turns": int(answered),
        "errors": int(row["outcome"] == "failed"),
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "cost": row["cost"] or Decimal(0),
    }
    delta.update(dict.fromkeys(FIRST_TOKEN_COLUMNS, 0))
    if answered and row["first_token_ms"] is not None:
        delta[FIRST_TOKEN_COLUMNS[first_token_bucket(row["first_token_ms"])]] = 1
    return delta


def utc_day(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(datetime.UTC).date()


def turn_usage_create(row: dict[str, Any]) -> TurnUsage:
    """Write a turn's row and add it to its user's day (the ORM's path; PostgreSQL's
    hot path does both in one statement, usage/services.py)."""
    with transaction.atomic():
        turn = TurnUsage.objects.create(**row)
        if row["user_id"] is not None:
            delta = day_delta(row)
            day, _ = UsageDay.objects.get_or_create(
                day=utc_day(turn.created_at), user_id=row["user_id"]
            )
            UsageDay.objects.filter(pk=day.pk).update(
                **{name: F(name) + value for name, value in delta.items()}
            )
        if row["thread_id"]:
            thread_day, _ = UsageThreadDay.objects.get_or_create(
                day=utc_day(turn.created_at),
                thread_id=row["thread_id"],
                defaults={"user_id": row["user_id"]},
            )
            UsageThreadDay.objects.filter(pk=thread_day.pk).update(
                **{name: F(name) + delta[name] for name in THREAD_DAY_COLUMNS}
            )
    return turn


def rebuild_thread_days(turn_model: Any = TurnUsage, day_model: Any = UsageThreadDay) -> int:
    """Replace every UsageThreadDay with the sums of the turn rows; how many were written."""
    rows = (
        turn_model.objects.exclude(thread_id="")
        .annotate(day=TruncDate("created_at", tzinfo=datetime.UTC))
        .values("day", "thread_id")
        .annotate(
            user_id=Max("user_id"),
            turns=Count("id", filter=~Q(outcome="refused")),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            cost=Sum("cost", default=Decimal(0)),
        )
        .order_by()
    )
    with transaction.atomic():
        day_model.objects.all().delete()
        created = day_model.objects.bulk_create((day_model(**row) for row in rows), batch_size=5000)
    return len(created)


def rebuild_days(turn_model: Any = TurnUsage, day_model: Any = UsageDay) -> int:
    """Replace every UsageDay with the sums of the turn rows; the number of days written.
    (Takes the models, so a migration can pass its historical ones.)"""
    buckets: dict[str, Any] = {}
    lower = None
    for index, name in enumerate(FIRST_TOKEN_COLUMNS):
        upper = FIRST_TOKEN_BOUNDS_MS[index] if index < len(FIRST_TOKEN_BOUNDS_MS) else None
        condition = Q(first_token_ms__isnull=False) & ~Q(outcome="refused")
        if lower is not None:
            condition &= Q(first_token_ms__gt=lower)
        if upper is not None:
            condition &= Q(first_token_ms__lte=upper)
        buckets[name] = Count("id", filter=condition)
        lower = upper
    rows = (
        turn_model.objects.exclude(user_id=None)
        .annotate(day=TruncDate("created_at", tzinfo=datetime.UTC))
        .values("day", "user_id")
        .annotate(
            turns=Count("id", filter=~Q(outcome="refused")),
            errors=Count("id", filter=Q(outcome="failed")),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            cost=Sum("cost", default=Decimal(0)),
            **buckets,
        )
        .order_by()
    )
    with transaction.atomic():
        day_model.objects.all().delete()
        created = day_model.objects.bulk_create((day_model(**row) for row in rows), batch_size=5000)
    return len(created)
