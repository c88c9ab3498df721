"""Settings for the test suite: the Quickstart's environment (dev issuer, offline
model, no keys) unless the caller set otherwise, then the real settings."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
# In-process tests keep the ORM store: chat/pgstore.py's pool belongs to one event loop,
# and each test has its own. chat/tests/test_pgstore.py and every test that starts a
# server process (config/tests/servers.py) run the async store.
os.environ.setdefault("CHATKIT_ASYNC_DATABASE", "0")
# No traces from tests (the fake OpenAI key would have them exported to OpenAI).
os.environ.setdefault("CHATKIT_TRACING", "0")
for _name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BETTER_AUTH_URL", "BETTER_AUTH_JWKS_URL"):
    os.environ.pop(_name, None)

from config.settings import *  # noqa: E402, F403

# Fast hashing for test users; PBKDF2 stays available for users that a server
# process (running the real settings) must log in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
