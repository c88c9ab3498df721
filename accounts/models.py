"""The custom user: a Django user that may be linked to a Better Auth user id."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    # Better Auth's user id (the JWT `sub`). Null for users created in Django
    # only (the demo user, staff accounts).
    better_auth_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    name = models.CharField(max_length=255, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email or self.username

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.email or self.username
