"""Attachment fixtures: bytes in a temporary storage, small limits, file samples."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def attachments_dir(settings, tmp_path) -> Path:
    """Each test stores its bytes in its own directory (the shipped options otherwise)."""
    location = tmp_path / "attachments"
    shipped = settings.STORAGES["attachments"]
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            **shipped,
            "OPTIONS": {**shipped.get("OPTIONS", {}), "location": str(location)},
        },
    }
    return location


@pytest.fixture(autouse=True)
def _closes_db_connections(close_db_connections: None) -> None:
    """Every attachments test closes the ORM's worker-thread connections (conftest.py)."""


@pytest.fixture
def limits(settings):
    """Change attachment limits for one test: limits(MAX_BYTES=10, ...)."""

    def change(**values: int) -> None:
        settings.ATTACHMENTS = {**settings.ATTACHMENTS, **values}

    return change


def png_bytes(color: str = "red", size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def png() -> bytes:
    return png_bytes()


def stored_files(location: Path) -> list[Path]:
    return [path for path in location.rglob("*") if path.is_file()] if location.exists() else []
