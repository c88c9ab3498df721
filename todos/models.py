"""The todo: one user's task."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class TodoQuerySet(models.QuerySet["Todo"]):
    def for_user(self, user: models.Model) -> TodoQuerySet:
        return self.filter(owner=user)


class Todo(models.Model):
    TITLE_MAX_LENGTH = 200
    # SPEC "Limits"; enforced by services.clean_description and the API serializer
    # (the column stays a TextField: no migration for a validation rule).
    DESCRIPTION_MAX_LENGTH = 10_000

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="todos"
    )
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(blank=True, default="")
    completed = models.BooleanField(default=False)
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.MEDIUM)
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TodoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="todo_owner_newest"),
            models.Index(fields=["owner", "completed", "-created_at"], name="todo_owner_open"),
        ]

    def __str__(self) -> str:
        return self.title
