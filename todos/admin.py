"""Admin for todos. Writes go through todos.services so live clients hear about them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.validators import MaxLengthValidator
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from todos import services
from todos.models import Todo

_EDITABLE = ("title", "description", "completed", "priority", "due_date")


@admin.register(Todo)
class TodoAdmin(admin.ModelAdmin):
    list_display = ("owner", "title", "completed", "priority", "due_date", "created_at")
    list_display_links = ("title",)
    list_filter = ("completed", "priority", "due_date")
    search_fields = ("title", "description", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")
    fields = ("owner", *_EDITABLE, "created_at", "updated_at")
    actions = ("mark_completed", "reopen")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "description" and field is not None:
            # SPEC "Limits": a form error here, not the service's TodoInvalid later.
            field.max_length = Todo.DESCRIPTION_MAX_LENGTH
            field.validators.append(MaxLengthValidator(Todo.DESCRIPTION_MAX_LENGTH))
            field.widget.attrs["maxlength"] = str(Todo.DESCRIPTION_MAX_LENGTH)
        return field

    def get_readonly_fields(self, request: HttpRequest, obj: Todo | None = None) -> Any:
        # Moving a todo to another user is not a service operation (and would need
        # two users' live clients told); delete and recreate instead.
        if obj is not None:
            return ("owner", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Todo, form: ModelForm, change: bool) -> None:
        values = {name: getattr(obj, name) for name in _EDITABLE}
        if change:
            changed = {name: values[name] for name in form.changed_data if name in values}
            saved = services.todo_update(user=obj.owner, todo_id=obj.pk, **changed)
        else:
            saved = services.todo_create(user=obj.owner, **values)
        # The admin reads the instance afterwards (redirects, log entries).
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at
        obj.title = saved.title

    def delete_model(self, request: HttpRequest, obj: Todo) -> None:
        services.todo_delete(user=obj.owner, todo_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Todo]) -> None:
        for todo in queryset.select_related("owner"):
            services.todo_delete(user=todo.owner, todo_id=todo.pk)

    def _set_completed(self, request: HttpRequest, queryset: QuerySet[Todo], done: bool) -> int:
        changed = 0
        for todo in queryset.select_related("owner").filter(completed=not done):
            services.todo_set_completed(user=todo.owner, todo_id=todo.pk, completed=done)
            changed += 1
        return changed

    @admin.action(description="Mark completed")
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Todo]) -> None:
        count = self._set_completed(request, queryset, done=True)
        self.message_user(request, f"Marked {count} todo(s) completed.", messages.SUCCESS)

    @admin.action(description="Reopen")
    def reopen(self, request: HttpRequest, queryset: QuerySet[Todo]) -> None:
        count = self._set_completed(request, queryset, done=False)
        self.message_user(request, f"Reopened {count} todo(s).", messages.SUCCESS)
