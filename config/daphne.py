"""`python -m config.daphne ARGS`: daphne's own command line, with its access log
redacted through a stream of ours rather than a patch of daphne's class.

Daphne writes its access log to stdout (or `--access-log FILE`) with
`AccessLogGenerator`, not through `logging`, so the logging filters of
config/logredact.py never see it. With CHATKIT_FAST_PATHS on, config/logredact.py
also wraps `AccessLogGenerator.write_entry`; this wrapper needs no private API: it
hands daphne a stdout whose writes go through `redact` (`token=` values and `cks_…`
secrets). scripts/web-worker.sh starts daphne this way.
"""

from __future__ import annotations

import io
import sys
from typing import TextIO

from config.logredact import redact


class RedactingStream(io.TextIOBase):
    """A text stream that redacts what it writes before passing it on."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def fileno(self) -> int:
        return self.stream.fileno()

    def isatty(self) -> bool:
        return self.stream.isatty()


def main() -> None:
    from daphne.cli import CommandLineInterface

    sys.stdout = RedactingStream(sys.stdout)
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
