"""SPEC's todo JSON: one plain function builds it (events, tools and the API's answers);
the DRF serializer validates the API's input and answers through that function."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from todos.models import Priority, Todo


def todo_to_dict(todo: Todo) -> dict[str, Any]:
    """A todo as SPEC's JSON object."""
    return {
        "id": todo.id,
        "title": todo.title,
        "description": todo.description,
        "completed": todo.completed,
        "priority": todo.priority,
        "due_date": todo.due_date.isoformat() if todo.due_date else None,
        "created_at": serializers.DateTimeField().to_representation(todo.created_at),
        "updated_at": serializers.DateTimeField().to_representation(todo.updated_at),
    }


class TodoSerializer(serializers.ModelSerializer):
    """Validates API input (shape and types; the services own the business rules) and
    renders a todo as todo_to_dict does, so the API and the events share one shape."""

    # Trimming is the service's job too, but DRF's own trim keeps " " from
    # passing as a non-empty title.
    title = serializers.CharField(
        max_length=Todo.TITLE_MAX_LENGTH,
        trim_whitespace=True,
        error_messages={
            "blank": "Title must not be empty.",
            "required": "Title is required.",
            "max_length": f"Title must be at most {Todo.TITLE_MAX_LENGTH} characters.",
        },
    )
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        default="",
        max_length=Todo.DESCRIPTION_MAX_LENGTH,
        error_messages={
            "max_length": f"Description must be at most {Todo.DESCRIPTION_MAX_LENGTH} characters."
        },
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices,
        required=False,
        default=Priority.MEDIUM,
        error_messages={"invalid_choice": "Priority must be one of: low, medium, high."},
    )
    due_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        error_messages={"invalid": "Due date must be a date in YYYY-MM-DD format."},
    )
    completed = serializers.BooleanField(required=False, default=False)

    class Meta:
        model = Todo
        fields = [
            "id",
            "title",
            "description",
            "completed",
            "priority",
            "due_date",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def to_representation(self, instance: Todo) -> dict[str, Any]:
        return todo_to_dict(instance)
