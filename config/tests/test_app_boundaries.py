"""Imports between apps run one way (docs/development.md, "Apps").

`chat` is the ChatKit adapter: it may import every other app. No app imports `chat`,
and `accounts` imports no other app. `config` (the project: settings, urls, asgi,
shared helpers) is not an app here: any app may use its helpers, and it wires the
apps together. Every module of an app is read, imports inside functions included;
its tests may reach across (they drive the whole stack).
"""

from __future__ import annotations

import ast
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PROJECT = "config"

# What each app may import. A new app must be added here, with the arrows it needs.
ALLOWED: dict[str, set[str]] = {
    "accounts": set(),
    "todos": {"accounts", "usage"},
    "attachments": {"accounts"},
    "usage": {"accounts"},
    "runs": {"accounts"},
    "chat": {"accounts", "todos", "attachments", "usage", "runs"},
}


def apps() -> set[str]:
    return {
        path.parent.name
        for path in BASE_DIR.glob("*/apps.py")
        if path.parent.name != PROJECT and not path.parent.name.startswith(".")
    }


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def forbidden_imports(app: str, known: set[str]) -> list[str]:
    allowed = ALLOWED.get(app, set())
    found = []
    for path in sorted((BASE_DIR / app).rglob("*.py")):
        if "tests" in path.relative_to(BASE_DIR / app).parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, module in imported_modules(tree):
            target = module.split(".")[0]
            if target in known and target != app and target not in allowed:
                found.append(f"{path.relative_to(BASE_DIR)}:{line} imports {module}")
    return found


def test_every_app_has_its_arrows_declared():
    assert apps() - set(ALLOWED) == set(), "declare what the new app may import in ALLOWED"


def test_the_declared_arrows_have_no_cycle_and_nothing_imports_chat():
    assert all("chat" not in targets for targets in ALLOWED.values())
    assert ALLOWED["accounts"] == set()
    for app in ALLOWED:
        seen, stack = set(), list(ALLOWED[app])
        while stack:
            target = stack.pop()
            assert target != app, f"{app} reaches itself through {seen}"
            if target not in seen:
                seen.add(target)
                stack.extend(ALLOWED.get(target, ()))


def test_no_app_imports_against_the_arrows():
    known = apps()
    found = [line for app in sorted(known) for line in forbidden_imports(app, known)]
    assert found == [], "imports against the arrows:\n" + "\n".join(found)


def test_the_walk_sees_imports_inside_functions():
    tree = ast.parse("def f():\n    from chat.models import Thread\n")
    assert imported_modules(tree) == [(2, "chat.models")]
