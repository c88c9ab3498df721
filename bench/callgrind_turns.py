"""Instructions per chat turn, counted by callgrind: a figure load does not distort.

`python -m bench.callgrind_turns [--warmup 10] [--turns 30] [--label NAME]`

On a shared machine, CPU time per turn (`bench.profile_turn`) spreads by ±10 % between
runs of the same code; the instructions a turn executes do not (two runs of identical
code differ by about 0.5 %). This re-runs itself under
`valgrind --tool=callgrind --instr-atstart=no` with `PYTHONHASHSEED=0`, sets Django up
as `bench.profile_turn` does (production settings, PostgreSQL, Redis, model delay 0,
one user continuing one thread), runs the warm-up turns uninstrumented, then switches
callgrind's instrumentation on, zeroes its counters, runs the measured turns, and dumps
the counts (a tiny C helper built with the system's compiler makes callgrind's client
requests; valgrind's headers come with its Debian package). All turns run on one event
loop, so the per-loop state (connection pools, the runs channel's subscription) is
warm before counting starts.

Printed: instructions per measured turn (user space, every thread of the process;
not the kernel's work for socket calls). The callgrind file is kept for
`callgrind_annotate`. A turn under valgrind lasts about a second, so a cost per second
of wall time (a poll) weighs more here than in a server.

Per-worker timers (the dead-turn sweep) and a run's lease (started after its first
second, which a turn at delay 0 reaches only under valgrind) are kept off the measured
turns; per-stream ones (heartbeat, the revocation re-check every
CHATKIT_SOCKET_RECHECK_SECONDS) keep their defaults. The database is
`BENCH_DATABASE_URL` (default: `bench_callgrind` on the local PostgreSQL), created and
migrated when missing; Redis is `BENCH_REDIS_URL`. Not run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/bench_callgrind"
CHILD_FLAG = "--under-callgrind"
STUCK_SECONDS = 120

HELPER_C = r"""
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void cg_stop(void) { CALLGRIND_DUMP_STATS_AT("measured turns"); CALLGRIND_STOP_INSTRUMENTATION; }
"""


def build_helper(work: Path) -> Path:
    """A shared library whose two functions are callgrind's client requests."""
    source, library = work / "cg_helper.c", work / "cg_helper.so"
    source.write_text(HELPER_C)
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


def instructions(out_file: Path) -> int:
    """The total of the dump the measured turns made (its `totals:`/`summary:` line)."""
    text = out_file.read_text()
    found = re.search(r"^(?:totals|summary):\s+(\d+)", text, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no totals in {out_file}")
    return int(found.group(1))


def parent(args: argparse.Namespace) -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is missing (Debian: apt-get install valgrind)")
    work = Path(tempfile.mkdtemp(prefix="bench-callgrind-"))
    library = build_helper(work)
    out = args.out or work / f"callgrind.{args.label}.out"
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no",
        f"--callgrind-out-file={out}.%p",
        sys.executable, "-m", "bench.callgrind_turns", CHILD_FLAG,
        "--warmup", str(args.warmup), "--turns", str(args.turns),
        "--message", args.message, "--settings", args.settings, "--helper", str(library),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        command, env=env, stderr=subprocess.PIPE if args.quiet else None, text=True
    )
    if done.returncode != 0:
        sys.exit(f"the turns failed under valgrind:\n{(done.stderr or '')[-3000:]}")
    # The dump the measured turns asked for (valgrind's own at exit counts nothing:
    # instrumentation is off again by then).
    counted = next(
        path
        for path in out.parent.glob(f"{out.name}.*")
        if "Trigger: Client Request: measured turns" in path.read_text()
    )
    total = instructions(counted)
    print(
        f"{args.label}: {total / args.turns / 1e6:.2f} M instructions per turn "
        f"({args.turns} turns after {args.warmup} warm-up; {counted})"
    )


async def turns(token: str, warmup: int, measured: int, message: str, helper: Path) -> None:
    from django.test import AsyncClient

    from bench.profile_turn import one_turn

    client = AsyncClient()
    thread_id: str | None = None
    cg = ctypes.CDLL(str(helper))

    async def watched_turn() -> None:
        nonlocal thread_id
        # A turn lasts about a second under valgrind: one that takes minutes is stuck.
        task = asyncio.ensure_future(one_turn(client, token, message, thread_id))
        await asyncio.wait({task}, timeout=STUCK_SECONDS)
        if not task.done():
            for each in asyncio.all_tasks():
                each.print_stack(file=sys.stderr)
            raise RuntimeError(f"a turn took over {STUCK_SECONDS} s (the tasks' stacks above)")
        thread_id = task.result()

    for _ in range(warmup):
        await watched_turn()
    cg.cg_start()
    wall = time.perf_counter()
    for _ in range(measured):
        await watched_turn()
    cg.cg_stop()
    # Turns that outlast a run's first second start its lease (runs/leases.py), which
    # a server's turns at delay 0 never do: a slow turn here costs more than there.
    print(f"{(time.perf_counter() - wall) / measured:.2f} s of wall time per measured turn")


def child(args: argparse.Namespace) -> None:
    from bench.environment import (
        configure_django,
        create_users,
        ensure_database,
        free_port,
        in_process_env,
        jwks_server,
        reset_bench_rows,
    )

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    ensure_database(database_url)
    work = Path(tempfile.mkdtemp(prefix="bench-callgrind-"))
    port = free_port()
    env = {
        **in_process_env("callgrind", database_url=database_url, port=port, work=work),
        # The dead-turn sweep (a few queries per worker every 15 s, not per turn) runs
        # once, at the first turn: whether one fell among the measured turns moved
        # the count by up to 2 %.
        "RUNS_SWEEP_SECONDS": "3600",
    }
    configure_django(env, args.settings)
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    reset_bench_rows(database_url)
    from runs import leases

    # A run starts its lease after its first second (runs/leases.py). A turn at delay 0
    # lasts ~10 ms in a server, 0.3 to 1.5 s under valgrind depending on the machine's
    # load: leases in some measured turns and not others moved the count by 1 to 2 %.
    leases.first_lease_seconds = lambda: 3600.0
    with jwks_server(port):
        user = create_users(1, "callgrind")[0]
        asyncio.run(turns(user.token, args.warmup, args.turns, args.message, args.helper))
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--message", default="hello")
    parser.add_argument("--settings", default="config.settings")
    parser.add_argument("--label", default="turns", help="names the run in the output")
    parser.add_argument("--out", type=Path, default=None, help="callgrind file prefix")
    parser.add_argument(
        "--quiet", action="store_true", help="hide valgrind's own output unless it fails"
    )
    parser.add_argument(CHILD_FLAG, dest="child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--helper", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
