"""config/env.py: typed environment readers with a clear error for every type."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_str, env_url


def test_unset_and_empty_give_the_default(monkeypatch):
    monkeypatch.delenv("X_TEST_VAR", raising=False)
    assert env_str("X_TEST_VAR", "d") == "d"
    monkeypatch.setenv("X_TEST_VAR", "")
    assert env_int("X_TEST_VAR", 7) == 7
    assert env_float("X_TEST_VAR", 1.5) == 1.5
    assert env_bool("X_TEST_VAR", True) is True
    assert env_list("X_TEST_VAR", "a,b") == ["a", "b"]
    assert env_url("X_TEST_VAR", "https://d.example") == "https://d.example"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("TRUE", True), ("yes", True), ("on", True), ("0", False), ("off", False)],
)
def test_booleans(monkeypatch, value, expected):
    monkeypatch.setenv("X_TEST_VAR", value)
    assert env_bool("X_TEST_VAR", not expected) is expected


def test_values_are_parsed(monkeypatch):
    monkeypatch.setenv("X_TEST_VAR", "42")
    assert env_int("X_TEST_VAR", 0) == 42
    assert env_float("X_TEST_VAR", 0.0) == 42.0
    monkeypatch.setenv("X_TEST_VAR", " a, ,b ,")
    assert env_list("X_TEST_VAR") == ["a", "b"]
    monkeypatch.setenv("X_TEST_VAR", "postgres://u@h:5432/db")
    assert env_url("X_TEST_VAR", schemes=("postgres",)) == "postgres://u@h:5432/db"
    monkeypatch.setenv("X_TEST_VAR", "sqlite:////tmp/x.sqlite3")
    assert env_url("X_TEST_VAR", schemes=("sqlite",)) == "sqlite:////tmp/x.sqlite3"


@pytest.mark.parametrize(
    ("reader", "value", "expected"),
    [
        (lambda: env_int("X_TEST_VAR", 1), "10m", "must be an integer, got '10m'"),
        (lambda: env_float("X_TEST_VAR", 1.0), "fast", "must be a number, got 'fast'"),
        (lambda: env_bool("X_TEST_VAR", False), "maybe", "must be 1 or 0"),
        (lambda: env_url("X_TEST_VAR"), "auth.example.com", "must be a URL starting with"),
        (lambda: env_url("X_TEST_VAR"), "ftp://auth.example.com", "must be a URL starting with"),
        (lambda: env_url("X_TEST_VAR"), "https://", "must be a URL starting with"),
    ],
)
def test_a_wrong_value_names_the_variable_and_what_it_expects(monkeypatch, reader, value, expected):
    monkeypatch.setenv("X_TEST_VAR", value)
    with pytest.raises(ImproperlyConfigured, match="X_TEST_VAR") as error:
        reader()
    assert expected in str(error.value)
