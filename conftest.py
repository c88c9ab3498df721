"""Shared fixture plugins (settings come from config.test_settings)."""

pytest_plugins = [
    "accounts.tests.fixtures",
    "config.tests.servers",
    "chat.tests.fixtures",
    "chat.tests.browser",
]
