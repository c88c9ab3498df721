"""Print a dev-issuer Better-Auth-shaped JWT (only without BETTER_AUTH_URL): for EMAIL
(its own user, made at first use) or, with `--user USERNAME`, for an existing user such
as the Quickstart's `demo`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import dev_issuer
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Print a Better-Auth-shaped EdDSA JWT signed by the local dev issuer: for EMAIL, "
        "or with --user USERNAME for that existing user (e.g. --user demo)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", nargs="?", default=None)
        parser.add_argument(
            "--user", default=None, metavar="USERNAME", help="an existing user, e.g. demo"
        )
        parser.add_argument("--name", default=None, help="the token's `name` claim")
        parser.add_argument("--ttl", type=int, default=900, help="lifetime in seconds (900)")

    def handle(
        self,
        *args: Any,
        email: str | None,
        user: str | None,
        name: str | None,
        ttl: int,
        **options: Any,
    ) -> None:
        # The verifier only trusts the dev key when no Better Auth JWKS is configured.
        if settings.BETTER_AUTH["URL"] or settings.BETTER_AUTH["JWKS_URL"]:
            raise CommandError(
                "BETTER_AUTH_URL (or BETTER_AUTH_JWKS_URL) is set: tokens come from your "
                "Better Auth server "
                "(GET /api/auth/token), not from the dev issuer."
            )
        if ttl <= 0:
            raise CommandError("--ttl must be a positive number of seconds.")
        if (email is None) == (user is None):
            raise CommandError("Give either EMAIL or --user USERNAME (e.g. --user demo).")
        if user is not None:
            self.stdout.write(self._token_for_user(user, name=name, ttl=ttl))
            return
        if "@" not in email:
            raise CommandError("EMAIL must be an email address.")
        self.stdout.write(dev_issuer.issue_token(email, name=name, ttl=ttl))

    def _token_for_user(self, username: str, *, name: str | None, ttl: int) -> str:
        """A token whose `sub` is that user's: a user made in Django (no Better Auth id
        yet, like the demo) is given a dev one now, so the token signs in as them."""
        with transaction.atomic():
            found = User.objects.select_for_update().filter(username=username).first()
            if found is None:
                raise CommandError(f"No user named {username!r} (seed_demo makes 'demo').")
            if not found.is_active:
                raise CommandError(f"User {username!r} is deactivated.")
            if not found.better_auth_id:
                found.better_auth_id = f"dev_user_{found.pk}"
                found.save(update_fields=["better_auth_id"])
        # The user's own email and name, so signing in leaves them as they are.
        return dev_issuer.issue_token(
            found.email,
            name=name or found.name or found.username,
            ttl=ttl,
            sub=found.better_auth_id,
        )
