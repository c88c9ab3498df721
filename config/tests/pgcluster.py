"""A throwaway PostgreSQL server for fault tests: `initdb` in a temporary directory,
`pg_ctl` on a free port, so a test can stop and start it without touching the shared
server on 5432 or the rest of the suite."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from config.tests.servers import free_port

# initdb refuses to run as root: as root, the cluster belongs to this account.
CLUSTER_OWNER = "postgres"
# The superuser's name inside the cluster, so URLs look like the shared server's.
SUPERUSER = "root"


def postgres_bin_dir() -> Path | None:
    """Newest PostgreSQL server binaries on this machine (Debian's layout), if any."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0,
    )
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


@dataclass
class PgCluster:
    """One private PostgreSQL instance; `stop()`/`start()` simulate an outage."""

    bin_dir: Path
    root: Path
    port: int
    owner: str | None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.root / "postgres.log"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.owner:
            cmd = ["runuser", "-u", self.owner, "--", *cmd]
        return subprocess.run(
            cmd, check=True, capture_output=True, text=True, timeout=timeout, cwd=self.root
        )

    def init(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        # Loopback only, its own socket directory, and durability off: this data is
        # thrown away, and fsync would only slow the test down.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `fast` ends open sessions the way a restart would."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        cmd = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"]
        if self.owner:
            cmd = ["runuser", "-u", self.owner, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, check=False).returncode == 0

    def createdb(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def make_cluster() -> PgCluster:
    """Create (but do not start) a cluster in a fresh temporary directory."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    owner = CLUSTER_OWNER if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="pgcluster-"))
    if owner:
        entry = pwd.getpwnam(owner)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    root.chmod(0o700)
    cluster = PgCluster(bin_dir=bin_dir, root=root, port=free_port(), owner=owner)
    cluster.init()
    return cluster


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A started throwaway PostgreSQL; stopped and deleted afterwards."""
    if postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    cluster = make_cluster()
    cluster.start()
    try:
        yield cluster
    finally:
        if cluster.is_running():
            cluster.stop("immediate")
        shutil.rmtree(cluster.root, ignore_errors=True)
