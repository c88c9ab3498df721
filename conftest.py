"""Test-wide set-up: environment before Django loads, shared fixture plugins."""

import os

# Tests run like the Quickstart (dev issuer, offline model) unless told otherwise.
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BETTER_AUTH_URL", "BETTER_AUTH_JWKS_URL"):
    os.environ.pop(name, None)

pytest_plugins = [
    "accounts.tests.fixtures",
]
