"""`NginxProxy`: Debian's nginx as an unprivileged reverse proxy in front of Baton API processes, for tests and
benchmarks (scripts/nginx.sh installs it).

It runs in the foreground (`daemon off`) with its own prefix directory holding its config, pid file, logs and temp
paths, so it needs no root and leaves nothing behind. The config is the one README.md documents: round robin over
the upstream ports, websocket upgrade headers, the original Host and the client's address passed on, and a request
retried on another upstream only when it is idempotent (nginx's default: a POST that reached a process which then
died is not sent again, because the first process may have committed it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")
# nginx starts in well under a second; anything near this is a broken config or a taken port.
STARTUP_TIMEOUT_SECONDS = 10.0

CONFIG_TEMPLATE = """\
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_max_body_size 50m;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    upstream baton {{
{servers}
        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{port};
        location {location} {{
            proxy_pass http://baton;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
            proxy_buffering off;
            proxy_next_upstream error timeout http_502;
            proxy_connect_timeout 2s;
            # Which API process answered (tests use it to kill the process a websocket is on).
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    """The nginx executable, or None when it is not installed."""
    for candidate in NGINX_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("nginx")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_config(prefix: Path, port: int, upstream_ports: Sequence[int], location: str = "/") -> str:
    """The config of a proxy on `port` passing `location` (and everything under it) unchanged to `upstream_ports`."""
    servers = "\n".join(
        f"        server 127.0.0.1:{upstream} max_fails=1 fail_timeout=2s;" for upstream in upstream_ports
    )
    # Started as root (a container), nginx would hand its worker to `nobody`, who cannot use the temp directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return CONFIG_TEMPLATE.format(user=user, prefix=prefix, port=port, servers=servers, location=location)


class NginxProxy:
    """A running nginx on a free loopback port in front of `upstream_ports`; `stop()` ends it."""

    def __init__(self, prefix: Path, upstream_ports: Sequence[int], location: str = "/") -> None:
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed (scripts/nginx.sh installs it)")
        prefix.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = prefix / "nginx.conf"
        config.write_text(nginx_config(prefix, self.port, upstream_ports, location))
        self.error_log = prefix / "error.log"
        with self.error_log.open("ab") as stderr:
            self.process = subprocess.Popen(
                [binary, "-p", str(prefix), "-c", str(config), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}: {self.error_log.read_text()}")
            try:
                httpx.get(self.url, timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {self.url} within {STARTUP_TIMEOUT_SECONDS} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
