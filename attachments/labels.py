"""How an attachment is named in the model's input ("Attached file “notes.csv” (text/csv)").

Kept free of Django models: the offline model (and the benchmark's FastAPI baseline,
which runs it without Django apps) reads these labels back.
"""

from __future__ import annotations

import re

LABEL = re.compile(r"^Attached (?P<kind>file|image) “(?P<name>[^”]*)” \((?P<mime>[^)]*)\)")


def label(kind: str, name: str, mime_type: str) -> str:
    return f"Attached {kind} “{name}” ({mime_type})"
