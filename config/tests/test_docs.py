"""The project documents itself: a short README and `docs/` pages whose links all resolve
inside the repository (a clone has nothing else: no `../shared/`, no other checkout)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.tests.servers import BASE_DIR

README = BASE_DIR / "README.md"
PAGES = sorted((BASE_DIR / "docs").glob("*.md"))
DOCUMENTS = [README, *PAGES]

# [text](target) and <img src="target">, outside fenced code blocks.
LINK = re.compile(r"\]\(([^)\s]+)\)|<img[^>]*\ssrc=\"([^\"]+)\"")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _prose(path: Path) -> str:
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {
        _slug(line.lstrip("#")) for line in _prose(path).splitlines() if re.match(r"^#{1,6} ", line)
    }


def _links(path: Path) -> list[str]:
    return [a or b for a, b in LINK.findall(_prose(path))]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(BASE_DIR)))
def test_every_link_resolves_inside_the_repository(path: Path) -> None:
    broken = []
    for target in _links(path):
        if re.match(r"^[a-z]+:", target):  # https:, mailto: ...: not ours to check
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if BASE_DIR.resolve() not in resolved.parents and resolved != BASE_DIR.resolve():
            broken.append(f"{target}: outside the repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no such heading")
    assert not broken, f"{path.name}: {broken}"


def test_readme_is_short_and_opens_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 120, "the README is an entry point; details go to docs/"
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = FENCE.findall(quickstart)[0].splitlines()[1:-1]
    assert [c.split("#")[0].strip() for c in commands] == ["make run", "make test"]
    assert "docs/screenshot.png" in text
    for page in PAGES:
        assert f"docs/{page.name}" in text, f"the README does not point to docs/{page.name}"


def test_the_pages_the_readme_promises_exist() -> None:
    names = {p.name for p in PAGES}
    for name in (
        "configuration.md",
        "api.md",
        "chatkit.md",
        "security.md",
        "deployment.md",
        "performance.md",
    ):
        assert name in names
    # One copy of the React guide.
    guides = [p for p in DOCUMENTS if "useChatKit(" in p.read_text(encoding="utf-8")]
    assert guides == [BASE_DIR / "docs" / "chatkit.md"]
