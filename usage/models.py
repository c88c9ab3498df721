"""One row per model turn: who, which thread and model, tokens, timing, outcome, cost."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Outcome(models.TextChoices):
    ANSWERED = "answered", "answered"
    STOPPED = "stopped", "stopped"
    FAILED = "failed", "failed"
    REFUSED = "refused", "refused"
    INTERRUPTED = "interrupted", "interrupted"


class TurnUsageQuerySet(models.QuerySet["TurnUsage"]):
    def for_user(self, user: settings.AUTH_USER_MODEL) -> TurnUsageQuerySet:
        return self.filter(user=user)


class TurnUsage(models.Model):
    """A turn's usage, written once when it ends; its cost is priced then and kept."""

    # Kept when the user is deleted: what was spent stays spent.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="turn_usages",
    )
    # A ChatKit thread id (no foreign key: usage outlives a purged thread).
    thread_id = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100)
    requests = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveIntegerField(default=0)
    cached_input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    reasoning_tokens = models.PositiveIntegerField(default=0)
    # The offline model's tokens are estimates (characters / 4).
    estimated = models.BooleanField(default=False)
    tool_calls = models.PositiveIntegerField(default=0)
    first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    # For a failed turn, what failed (timeout, rate_limit, ...); for a refused one, which limit.
    error_kind = models.CharField(max_length=50, blank=True)
    # In US dollars, from the price table when the turn ended; null when its model has no price.
    cost = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TurnUsageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Covering (PostgreSQL): the dashboard's aggregates over a date range read
            # the index alone, not a million rows of the table.
            models.Index(
                fields=["created_at"],
                include=[
                    "user_id",
                    "thread_id",
                    "outcome",
                    "input_tokens",
                    "output_tokens",
                    "cost",
                    "first_token_ms",
                ],
                name="usage_turn_created_idx",
            ),
            models.Index(fields=["user", "created_at"], name="usage_turn_user_created_idx"),
            models.Index(fields=["thread_id", "created_at"], name="usage_turn_thread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model} turn ({self.outcome}) at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


# First-token histogram of a UsageDay: the upper bounds (ms) of its buckets, the last
# one open. A p95 read from it is the bound of the bucket it falls in.
FIRST_TOKEN_BOUNDS_MS = (100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 8000, 13000, 20000)


def first_token_bucket(ms: int) -> int:
    return next(
        (i for i, bound in enumerate(FIRST_TOKEN_BOUNDS_MS) if ms <= bound),
        len(FIRST_TOKEN_BOUNDS_MS),
    )


class UsageDay(models.Model):
    """One user's turns of one UTC day, added up as each turn's row is written: the
    dashboard reads these (one per user and day), not a million turns."""

    day = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="usage_days"
    )
    turns = models.PositiveIntegerField(default=0)  # refused ones not counted
    errors = models.PositiveIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=16, decimal_places=8, default=0)
    # Turns by first-token time: first_token_<i> counts those up to FIRST_TOKEN_BOUNDS_MS[i].
    for _index in range(len(FIRST_TOKEN_BOUNDS_MS) + 1):
        locals()[f"first_token_{_index}"] = models.PositiveIntegerField(default=0)
    del _index

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["day", "user"], name="usage_day_user_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}"


FIRST_TOKEN_COLUMNS = tuple(f"first_token_{i}" for i in range(len(FIRST_TOKEN_BOUNDS_MS) + 1))


class UsageThreadDay(models.Model):
    """One thread's turns of one UTC day, added up with each turn's row: top threads
    read these (a conversation lives on few days), not every turn."""

    day = models.DateField()
    thread_id = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="usage_thread_days",
    )
    turns = models.PositiveIntegerField(default=0)  # refused ones not counted
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=16, decimal_places=8, default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["day", "thread_id"], name="usage_thread_day_unique")
        ]
        indexes = [models.Index(fields=["user", "day"], name="usage_thread_day_user_idx")]

    def __str__(self) -> str:
        return f"{self.thread_id} on {self.day}"
