"""docs/configuration.md lists every environment variable the code reads, and only those.

The variables are found in the source (every call of a config/env.py reader or of
os.environ/os.getenv with a literal name), so a setting added without its line in
the page, or a line left behind by a removed setting, fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
DOC = BASE_DIR / "docs" / "configuration.md"
READERS = {"env_str", "env_bool", "env_int", "env_float", "env_list", "env_url", "getenv"}
# Not configuration: how the process finds its settings, and the test suite's own switches.
IGNORED = {"DJANGO_SETTINGS_MODULE", "CI", "UPDATE_SCREENSHOTS", "CHROMIUM_PATH"}
SKIPPED_DIRS = {".venv", "var", "node_modules", "bench", "tests", "migrations", ".git"}


def source_files() -> list[Path]:
    return [
        path
        for path in BASE_DIR.rglob("*.py")
        if not SKIPPED_DIRS.intersection(path.relative_to(BASE_DIR).parts[:-1])
        and path.name != "test_settings.py"
    ]


def literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def names_read(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            environ_get = isinstance(func, ast.Attribute) and called == "get"
            if called in READERS or (environ_get and is_environ(func.value)):
                names.add(literal(node.args[0]) or "")
        elif isinstance(node, ast.Subscript) and is_environ(node.value):
            names.add(literal(node.slice) or "")
    return names - {""}


def variables_read() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in source_files():
        for name in names_read(ast.parse(path.read_text(), filename=str(path))):
            found.setdefault(name, path.relative_to(BASE_DIR))
    return {name: path for name, path in found.items() if name not in IGNORED}


def variables_documented() -> set[str]:
    """The names in the first cell of each table row (one, or several as `A` / `B`)."""
    cells = re.findall(r"^\| (`[A-Z][^|]*?) \|", DOC.read_text(), flags=re.MULTILINE)
    return {name for cell in cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}


def test_the_scan_finds_the_settings_reads():
    found = variables_read()
    # A sample from each kind of read, so a broken scan cannot pass with an empty set.
    assert {"DJANGO_DEBUG", "DATABASE_URL", "CHATKIT_SESSION_TTL", "DEMO_PASSWORD"} <= set(found)


def test_every_variable_read_is_documented():
    missing = {name: str(path) for name, path in variables_read().items()}
    for name in variables_documented():
        missing.pop(name, None)
    assert not missing, f"add these to docs/configuration.md's tables: {missing}"


def test_every_documented_variable_is_read():
    stale = variables_documented() - set(variables_read())
    assert not stale, f"docs/configuration.md documents variables nothing reads: {stale}"
