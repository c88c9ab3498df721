"""Print a dev-issuer Better-Auth-shaped JWT for EMAIL (only without BETTER_AUTH_URL)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import dev_issuer


class Command(BaseCommand):
    help = "Print a Better-Auth-shaped EdDSA JWT for EMAIL, signed by the local dev issuer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default=None, help="the token's `name` claim")
        parser.add_argument("--ttl", type=int, default=900, help="lifetime in seconds (900)")

    def handle(self, *args: Any, email: str, name: str | None, ttl: int, **options: Any) -> None:
        # The verifier only trusts the dev key when no Better Auth JWKS is configured.
        if settings.BETTER_AUTH["URL"] or settings.BETTER_AUTH["JWKS_URL"]:
            raise CommandError(
                "BETTER_AUTH_URL (or BETTER_AUTH_JWKS_URL) is set: tokens come from your "
                "Better Auth server "
                "(GET /api/auth/token), not from the dev issuer."
            )
        if "@" not in email:
            raise CommandError("EMAIL must be an email address.")
        if ttl <= 0:
            raise CommandError("--ttl must be a positive number of seconds.")
        self.stdout.write(dev_issuer.issue_token(email, name=name, ttl=ttl))
