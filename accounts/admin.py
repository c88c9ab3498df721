"""Admin for users: Django's UserAdmin plus the Better Auth link."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from accounts.models import User
from accounts.services import user_deactivate


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "name",
        "better_auth_id",
        "is_active",
        "is_staff",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "username", "better_auth_id", "name")
    ordering = ("-date_joined",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Better Auth", {"fields": ("better_auth_id", "name")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Profile", {"classes": ("wide",), "fields": ("email", "name")}),
    )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """Unticking "active" deactivates through the service: the user's secrets are
        revoked and their sockets closed, not just the flag saved."""
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_deactivate(user=obj)  # in the admin's transaction: sockets close on commit
