"""Fail fast when `make run`'s address is taken: `python scripts/check-port.py HOST PORT`.

Daphne's runserver logs "Address already in use" and goes on running as if it
served, so a second `make run` looked alive while the first one answered. This
binds the address the way the server will (SO_REUSEADDR, so connections of a
server just stopped don't count) and, when that fails, says which PORT to pick.
Standard library only: it runs before the virtualenv exists."""

from __future__ import annotations

import errno
import socket
import sys


def bindable(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def main(host: str, port: str) -> int:
    number = int(port)
    if bindable(host, number):
        return 0
    free = next((p for p in range(number + 1, number + 50) if bindable(host, p)), None)
    hint = f"make run PORT={free}" if free else "make run PORT=<another port>"
    print(
        f"make run: {host}:{number} is already in use (another `make run`, or another "
        f"server). Stop that one, or pick another port: {hint}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
