"""Allowed types, magic numbers and safe names."""

from __future__ import annotations

import pytest

from attachments.files import matches_type, normalize_mime_type, sanitize_name
from attachments.tests.conftest import png_bytes
from attachments.tests.samples import pdf_with_text


@pytest.mark.parametrize(
    ("head", "mime_type"),
    [
        (png_bytes(), "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (pdf_with_text("hi"), "application/pdf"),
        ("naïve café ✓\n".encode(), "text/plain"),
        (b"a,b\n1,2\n", "text/csv"),
        (b"# title\n" + "é".encode()[:1], "text/markdown"),  # a character cut at the end
    ],
)
def test_matching_bytes(head, mime_type):
    assert matches_type(head, mime_type)


@pytest.mark.parametrize(
    ("head", "mime_type"),
    [
        (b"GIF89a", "image/png"),
        (b"\x89PNG\r\n\x1a\n", "image/svg+xml"),
        (b"a\x00b", "text/plain"),
        (b"\xc3\x28 invalid", "text/csv"),
    ],
)
def test_mismatching_bytes(head, mime_type):
    assert not matches_type(head, mime_type)


def test_mime_types_are_normalised():
    assert normalize_mime_type(" Text/CSV; charset=utf-8") == "text/csv"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\me\\list.txt", "list.txt"),
        ("../../.bashrc", "bashrc"),
        ('a"b;c\r\nd.png', "a_b_c__d.png"),
        ("   ", "attachment"),
        ("x" * 300 + ".jpeg", "x" * 115 + ".jpeg"),
        ("e\u0301cole.txt", "école.txt"),
    ],
)
def test_names_are_made_safe(name, safe):
    assert sanitize_name(name) == safe
