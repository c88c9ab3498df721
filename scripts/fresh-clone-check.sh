#!/usr/bin/env bash
# The README's two commands, in a fresh clone, on a machine without nginx:
#
#   bash scripts/fresh-clone-check.sh                     # the whole suite, as `make test`
#   bash scripts/fresh-clone-check.sh config/tests/test_bench_smoke.py config/tests/test_nginx.py
#                                                         # narrowed (PYTEST_ARGS for both runs)
#
# What it does: `git clone` of this repository's HEAD into a temporary directory (only
# committed files: no .venv, no var/, no test artefacts), then there `make run` (a new
# virtualenv, migrate, seed_demo, daphne; the page and /healthz must answer) and
# `make test` (lint, SQLite, PostgreSQL), with nginx hidden from everything that looks
# for it: NGINX_PATH points at a path that does not exist (the tests, the benchmark and
# scripts/install-test-deps.sh all look there first) and TEST_DEPS_APT=0 keeps apt from
# installing it, as on a machine without root.
#
# What it proves: the two commands pass on a clone that has only what is committed, and
# a machine without nginx that cannot install one gets a green `make test` whose proxy
# tests and benchmark nginx phase are skipped and say so (that combination failed with
# `KeyError: 'uvicorn+nginx'`). What it does not prove: it does not remove Debian's
# packages (too destructive for a shared machine), so it cannot show apt installing
# nginx from nothing; config/tests/test_test_deps.py checks that the script asks apt
# for chromium, nginx and prometheus when they are missing, and chromium (which the
# same script installs) stays visible here. PostgreSQL and Redis must answer, as for
# `make test`; the run uses its own database names (POSTGRES_TEST_URL, TEST_DB_SUFFIX).
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/fresh-clone.XXXXXX)"
CLONE="$WORK/clone"
PORT="${FRESH_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
export NGINX_PATH=/nonexistent/nginx TEST_DEPS_APT=0
export POSTGRES_TEST_URL="${POSTGRES_TEST_URL:-postgres://root@127.0.0.1:5432/freshclone}"
export TEST_DB_SUFFIX="${TEST_DB_SUFFIX:-_freshclone}"
unset DATABASE_URL DJANGO_SETTINGS_MODULE VIRTUAL_ENV CI  # a person's machine, not CI

REV="$(git -C "$SOURCE" rev-parse HEAD)"
echo "== fresh clone of ${REV:0:12} into $CLONE (nginx hidden)"
git clone --quiet --no-checkout "$SOURCE" "$CLONE"
cd "$CLONE"
git checkout --quiet --detach "$REV"
test ! -e .venv && test ! -e var

echo "== make run (port $PORT)"
# Its own process group: runserver's autoreloader is a grandchild, stopped with it.
setsid make run PORT="$PORT" >"$WORK/run.log" 2>&1 &
RUN=$!
stop_run() { kill -TERM -- "-$RUN" 2>/dev/null || true; wait "$RUN" 2>/dev/null || true; }
trap stop_run EXIT
for _ in $(seq 1 600); do
    if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$RUN" 2>/dev/null; then cat "$WORK/run.log"; echo "make run exited"; exit 1; fi
    sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/healthz"; echo
curl -fsS "http://127.0.0.1:$PORT/accounts/login/" | grep -q 'name="password"'
echo "make run: serving (sign-in page and /healthz answer)"
# A second `make run` on the same port fails at once and says PORT=.
if make run PORT="$PORT" >"$WORK/run2.log" 2>&1; then echo "second make run did not fail"; exit 1; fi
grep "PORT=" "$WORK/run2.log"
stop_run
trap - EXIT
for _ in $(seq 1 20); do python3 scripts/check-port.py 127.0.0.1 "$PORT" 2>/dev/null && break; sleep 0.5; done
python3 scripts/check-port.py 127.0.0.1 "$PORT"  # nothing of make run's is left serving

echo "== make test ${*:+(PYTEST_ARGS: $*)}"
make test PYTEST_ARGS="$*" 2>&1 | tee "$WORK/test.log"
status=${PIPESTATUS[0]}
echo "== summary"
grep -E "^test deps:|^=+ .*(passed|failed|error).* =+$|^[0-9]+ (passed|failed)" "$WORK/test.log" || true
grep -E "SKIPPED.*nginx|nginx: not installed" "$WORK/test.log" | sort | uniq -c || true
echo "fresh-clone-check: make test exited $status (logs in $WORK)"
exit "$status"
