"""Small helpers shared by the harness modules: ports, URLs, config quoting, child reaping."""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
import threading
from collections.abc import Callable

__all__ = ["death_signal_hook", "format_url", "free_port", "is_loopback", "quote_config"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a port that was free on ``host`` a moment ago (bind to 0 and read it back)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def format_url(scheme: str, host: str, port: int, db: int = 0) -> str:
    """Build ``scheme://host:port/db``, bracketing IPv6 literals; no credentials."""
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}/{db}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def quote_config(value: str) -> str:
    """Quote a value for a redis.conf line."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def death_signal_hook() -> Callable[[], None] | None:
    """Return a ``preexec_fn`` that kills the child when this process dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None  # the death signal follows the creating *thread*
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)

    return hook
