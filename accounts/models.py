"""The custom user: a Django user that may be linked to a Better Auth user id."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    # Better Auth's user id (the JWT `sub`). Null for users created in Django
    # only (the demo user, staff accounts).
    better_auth_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    name = models.CharField(max_length=255, blank=True)
    # Carried in every ChatKit client secret; bumping it revokes them all
    # (accounts.services.user_deactivate).
    secret_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email or self.username

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.email or self.username


class RevokedSession(models.Model):
    """A signed-out page session: client secrets minted from it answer 401."""

    sid = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="revoked_sessions"
    )
    revoked_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-revoked_at"]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.sid[:8]}…"
