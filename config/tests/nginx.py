"""Debian's nginx with the shipped config (deploy/nginx/chatkit.conf.template) in front of
app workers, on free ports, as a tests' and the benchmark's helper.

The template's ${NAME} placeholders are filled the way the official nginx image does it
(only the names we define; nginx's own $variables stay). A throwaway self-signed
certificate serves the TLS port.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from config.tests.servers import BASE_DIR, free_port, stop_process

TEMPLATE = BASE_DIR / "deploy" / "nginx" / "chatkit.conf.template"
NGINX_BIN = Path("/usr/sbin/nginx")
# Per request: which worker answered it ("-" when nginx answered itself).
ACCESS_LOG_FORMAT = "$request_method $uri $status $upstream_addr"


def nginx_binary() -> Path | None:
    """The nginx to run, or None: the proxy tests skip, and so does the benchmark's
    nginx phase. `NGINX_PATH` names it (a path that is not there: no nginx, which is
    how scripts/fresh-clone-check.sh shows a machine without one); else Debian's
    /usr/sbin/nginx, else one on PATH. scripts/install-test-deps.sh looks the same way."""
    given = os.environ.get("NGINX_PATH")
    if given:
        return Path(given) if os.access(given, os.X_OK) else None
    if NGINX_BIN.exists():
        return NGINX_BIN
    found = shutil.which("nginx")
    return Path(found) if found else None


def render_template(values: dict[str, str], template: Path = TEMPLATE) -> str:
    """envsubst over the names in `values` only; an unknown ${NAME} is an error."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"{template.name} needs ${{{name}}}")
        return values[name]

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)\}", fill, template.read_text())


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    root: Path
    http_port: int
    https_port: int
    cert_path: Path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def wss_url(self) -> str:
        return f"wss://127.0.0.1:{self.https_port}"

    def access_log(self) -> list[list[str]]:
        """[method, uri, status, upstream] per request answered so far."""
        path = self.root / "access.log"
        return [line.split() for line in path.read_text().splitlines()] if path.exists() else []

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)


def start_nginx(
    root: Path, upstream_ports: list[int], *, max_body_bytes: int, worker_processes: int = 1
) -> Nginx:
    """nginx (foreground, its own prefix under `root`) proxying to 127.0.0.1:<ports>."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed")
    root.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = self_signed_certificate(root)
    http_port, https_port = free_port(), free_port()
    site = render_template(
        {
            "APP_UPSTREAM_SERVERS": " ".join(f"server 127.0.0.1:{p};" for p in upstream_ports),
            "NGINX_HTTP_PORT": str(http_port),
            "NGINX_HTTPS_PORT": str(https_port),
            "TLS_CERT": str(cert_path),
            "TLS_KEY": str(key_path),
            "CHATKIT_MAX_BODY_BYTES": str(max_body_bytes),
        }
    )
    (root / "chatkit.conf").write_text(site)
    # As root, nginx's workers would run as `nobody`, which cannot use our temp dirs.
    user = "user root;" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {root / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (root / "nginx.conf").write_text(
        f"""{user}
worker_processes {worker_processes};
daemon off;
pid {root / "nginx.pid"};
error_log {root / "error.log"} warn;
events {{ worker_connections 8192; }}
http {{
    log_format upstream '{ACCESS_LOG_FORMAT}';
    access_log {root / "access.log"} upstream;
{temp_paths}
    include {root / "chatkit.conf"};
}}
"""
    )
    process = subprocess.Popen(
        [
            str(binary),
            "-p",
            str(root),
            "-c",
            str(root / "nginx.conf"),
            "-e",
            str(root / "error.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(root / "stderr.log").open("wb"),
    )
    nginx = Nginx(process, root, http_port, https_port, cert_path)
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"nginx exited: {(root / 'stderr.log').read_text()}{nginx.error_log()}"
            )
        try:
            with socket.create_connection(("127.0.0.1", https_port), timeout=1):
                return nginx
        except OSError:
            if time.monotonic() > deadline:
                nginx.stop()
                raise RuntimeError(f"nginx did not listen: {nginx.error_log()}") from None
            time.sleep(0.05)  # polling a starting process for readiness
