"""A throwaway Sentinel group: one primary, replicas and ``redis-server --sentinel`` processes.

:class:`SentinelGroup` starts every process on a free loopback port, each in
its own temporary directory (a sentinel rewrites its config file), with short
``down-after-milliseconds`` and ``failover-timeout`` so that a failover takes
a second or two, and waits until the sentinels agree on the primary and see
the replicas and each other.  Every process is a
:class:`~asyncpool.testing.RedisServer` (or its subclass
:class:`SentinelServer`), so a test may ``kill()``, ``pause()``, ``resume()``
or ``restart()`` any of them; :meth:`SentinelGroup.failover` forces a
failover and waits until the group has settled around the new primary.

Like the rest of the harness it is synchronous (usable from session
fixtures) and imports nothing of the client layers.  Processes die with the
test process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from asyncpool.testing._util import quote_config
from asyncpool.testing.discovery import find_redis_binary
from asyncpool.testing.raw import RawError, Reply
from asyncpool.testing.server import RedisServer, ServerStartError

__all__ = ["SentinelGroup", "SentinelServer", "wait_until"]

T = TypeVar("T")

#: Seconds the group waits for the sentinels to agree after start or failover.
SETTLE_TIMEOUT = 30.0


def wait_until(
    condition: Callable[[], T | None],
    timeout: float,
    what: str,
    interval: float = 0.05,
) -> T:
    """Poll ``condition`` until it returns a truthy value (returned) or ``timeout`` passes.

    Exceptions count as "not yet".  Raises :class:`TimeoutError` naming ``what``
    with the last exception.  For processes the test does not control there is
    no event to wait on, so polling with a deadline is the synchronisation.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # not ready yet: keep polling
            last = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last!r})" if last is not None else ""
            raise TimeoutError(f"{what} did not happen within {timeout:.0f}s{detail}")
        time.sleep(interval)


def _pairs(reply: Reply) -> dict[str, str]:
    """A flat ``[k, v, k, v]`` sentinel reply as a dict of text."""
    if not isinstance(reply, list):
        raise ValueError(f"expected an array, got {reply!r}")
    items = [x.decode() if isinstance(x, bytes) else str(x) for x in reply]
    return dict(zip(items[::2], items[1::2], strict=False))


def _text(value: Reply) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class SentinelServer(RedisServer):
    """One ``redis-server --sentinel`` process monitoring one primary.

    The config file is written once; on :meth:`restart` the sentinel starts
    from the file it rewrote itself (current epoch, known replicas and
    sentinels), as a real sentinel would.  ``password`` sets the sentinel's
    own ``requirepass``; ``auth_pass`` is what it sends to the data nodes.
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        service_name: str,
        primary: tuple[str, int],
        quorum: int = 2,
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 3000,
        auth_pass: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(binary, extra_args=("--sentinel",), **kwargs)
        self.service_name = service_name
        self.monitored = primary
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.auth_pass = auth_pass

    def _config_lines(self) -> list[str]:
        name = self.service_name
        host, port = self.monitored
        lines = [
            f"port {self.port}",
            f"bind {self.host}",
            "daemonize no",
            f"dir {quote_config(self.dir)}",
            "loglevel notice",
            f"logfile {quote_config(self.log_path)}",
            "protected-mode no",
            f"sentinel monitor {name} {host} {port} {self.quorum}",
            f"sentinel down-after-milliseconds {name} {self.down_after_ms}",
            f"sentinel failover-timeout {name} {self.failover_timeout_ms}",
            f"sentinel parallel-syncs {name} 1",
        ]
        if self.auth_pass is not None:
            lines.append(f"sentinel auth-pass {name} {quote_config(self.auth_pass)}")
        if self.password is not None:  # the sentinels' own password, also between themselves
            lines.append(f"requirepass {quote_config(self.password)}")
            lines.append(f"sentinel sentinel-pass {quote_config(self.password)}")
        return lines

    def _write_config(self, conf: Path) -> None:
        if not conf.exists():
            super()._write_config(conf)

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<SentinelServer {self.host}:{self._port} {state} {self.service_name}>"


class SentinelGroup:
    """A primary, ``replicas`` replicas and ``sentinels`` sentinels on loopback.

    ::

        with SentinelGroup() as group:
            group.sentinel_addresses     # [("127.0.0.1", port), ...]
            group.primary                # the RedisServer that is primary now
            old, new = group.failover()  # SENTINEL FAILOVER, settled

    ``password`` protects the data nodes (``requirepass`` + ``masterauth``,
    and the sentinels' ``auth-pass``); ``sentinel_password`` protects the
    sentinels.  ``down_after_ms`` and ``failover_timeout_ms`` are short so a
    failover after ``kill()`` of the primary completes in a few seconds.
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        service_name: str = "mymaster",
        replicas: int = 1,
        sentinels: int = 3,
        quorum: int = 2,
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 3000,
        password: str | None = None,
        sentinel_password: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        found = binary or find_redis_binary()
        if found is None:
            raise ServerStartError("no redis-server binary for the sentinel group")
        self.binary = found
        self.service_name = service_name
        self.host = host
        self.password = password
        self.sentinel_password = sentinel_password
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        auth = ("--masterauth", password) if password is not None else ()
        first = RedisServer(found, host=host, password=password, extra_args=auth)
        #: Every data node (primary and replicas), in start order.
        self.servers: list[RedisServer] = [first]
        for _ in range(replicas):
            follow = ("--replicaof", host, str(first.port))
            self.servers.append(
                RedisServer(found, host=host, password=password, extra_args=(*follow, *auth))
            )
        #: The sentinel processes.
        self.sentinels: list[SentinelServer] = [
            SentinelServer(
                found,
                host=host,
                service_name=service_name,
                primary=(host, first.port),
                quorum=quorum,
                down_after_ms=down_after_ms,
                failover_timeout_ms=failover_timeout_ms,
                auth_pass=password,
                password=sentinel_password,
            )
            for _ in range(sentinels)
        ]
        self._primary = first

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, timeout: float = SETTLE_TIMEOUT) -> SentinelGroup:
        """Start every process and wait until the group has settled; return ``self``."""
        try:
            for server in self.servers:
                server.start()
            for sentinel in self.sentinels:
                sentinel.start()
            self.wait_settled(timeout)
        except BaseException:
            self.cleanup()
            raise
        return self

    def stop(self) -> None:
        """Stop every process (sentinels first, so they start no failover)."""
        for sentinel in self.sentinels:
            sentinel.stop()
        for server in self.servers:
            server.stop()

    def cleanup(self) -> None:
        """Stop every process and delete their directories."""
        for proc in (*self.sentinels, *self.servers):
            proc.cleanup()

    def __enter__(self) -> SentinelGroup:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    # -- what the group looks like ----------------------------------------------------------------
    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """``(host, port)`` of every sentinel, for ``Sentinel(sentinels=...)``."""
        return [(s.host, s.port) for s in self.sentinels]

    @property
    def primary(self) -> RedisServer:
        """The data node that was primary when the group last settled."""
        return self._primary

    @property
    def replicas(self) -> list[RedisServer]:
        """The data nodes other than :attr:`primary`."""
        return [s for s in self.servers if s is not self._primary]

    def server_at(self, host: str, port: int) -> RedisServer:
        """The data node listening on ``host:port``."""
        for server in self.servers:
            if server.port == port and server.host == host:
                return server
        raise KeyError(f"no data node at {host}:{port}")

    def url(self, db: int = 0) -> str:
        """A ``redis+sentinel://`` URL for this group (credentials not included)."""
        hosts = ",".join(f"{h}:{p}" for h, p in self.sentinel_addresses)
        return f"redis+sentinel://{hosts}/{self.service_name}/{db}"

    def sentinel_command(self, sentinel: SentinelServer, *args: str | int) -> Reply:
        """Run one command on ``sentinel`` (authenticating if it has a password)."""
        return sentinel.command(*args)

    def master_address(self, sentinel: SentinelServer | None = None) -> tuple[str, int]:
        """The primary's address as ``sentinel`` (default: the first that answers) names it."""
        candidates = [sentinel] if sentinel is not None else self.sentinels
        last: BaseException | None = None
        for s in candidates:
            if not s.is_running:
                continue
            try:
                reply = s.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service_name)
            except OSError as exc:
                last = exc
                continue
            if isinstance(reply, list) and len(reply) == 2:
                return _text(reply[0]), int(_text(reply[1]))
            last = ValueError(f"{s!r} answered {reply!r}")
        raise ConnectionError(f"no sentinel named the primary (last: {last!r})")

    def role(self, server: RedisServer) -> str:
        """``master`` or ``slave``, as ``ROLE`` on ``server`` says."""
        reply = server.command("ROLE")
        if not isinstance(reply, list) or not reply:
            raise ValueError(f"ROLE on {server!r} answered {reply!r}")
        return _text(reply[0])

    # -- waiting --------------------------------------------------------------------------------
    def _settled(self) -> bool:
        primary = self._primary
        others = {(s.host, s.port) for s in self.servers if s is not primary and s.is_running}
        running = [s for s in self.sentinels if s.is_running]
        if self.role(primary) != "master":
            return False
        for server in self.servers:  # each replica's own view: linked to the primary
            if server is primary or not server.is_running:
                continue
            text = _text(server.command("INFO", "replication"))
            if f"master_port:{primary.port}\r\n" not in text or "link_status:up" not in text:
                return False
        for sentinel in running:
            if self.master_address(sentinel) != (primary.host, primary.port):
                return False
            seen = set()
            for entry in _as_list(sentinel.command("SENTINEL", "REPLICAS", self.service_name)):
                info = _pairs(entry)
                flags = info.get("flags", "")
                if "s_down" in flags or "o_down" in flags or "disconnected" in flags:
                    continue
                seen.add((info["ip"], int(info["port"])))
            if not others <= seen:
                return False
            peers = _as_list(sentinel.command("SENTINEL", "SENTINELS", self.service_name))
            healthy = [p for p in peers if "s_down" not in _pairs(p).get("flags", "")]
            if len(healthy) < len(running) - 1:
                return False
        return True

    def wait_settled(self, timeout: float = SETTLE_TIMEOUT) -> RedisServer:
        """Wait until every running sentinel names the same primary and sees the rest.

        The primary is whichever data node the sentinels name; every running
        replica must be linked to it (its own ``INFO replication``) and listed
        unflagged by each sentinel, and each running sentinel must see the
        others.  Returns the primary.
        """

        def check() -> RedisServer | None:
            host, port = self.master_address()
            self._primary = self.server_at(host, port)
            return self._primary if self._settled() else None

        return wait_until(check, timeout, "the sentinel group settling")

    def wait_for_new_primary(
        self, old: tuple[str, int], timeout: float = SETTLE_TIMEOUT
    ) -> RedisServer:
        """Wait until the sentinels name a primary other than ``old``; return it."""

        def moved() -> RedisServer | None:
            address = self.master_address()
            return self.server_at(*address) if address != old else None

        self._primary = wait_until(moved, timeout, f"a failover away from {old}")
        return self._primary

    def failover(self, timeout: float = SETTLE_TIMEOUT) -> tuple[RedisServer, RedisServer]:
        """Force ``SENTINEL FAILOVER`` and wait until the group settled; return (old, new).

        Retried while a sentinel answers that a failover is in progress or no
        replica is good yet (``-INPROG``, ``-NOGOODSLAVE``).
        """
        self.wait_settled(timeout)
        old = self._primary
        running = [s for s in self.sentinels if s.is_running]

        def started() -> bool:
            reply = running[0].command("SENTINEL", "FAILOVER", self.service_name)
            if isinstance(reply, RawError):
                raise RuntimeError(reply)
            return True

        wait_until(started, timeout, "SENTINEL FAILOVER being accepted", interval=0.2)
        new = self.wait_for_new_primary((old.host, old.port), timeout)
        self.wait_settled(timeout)
        return old, new

    def processes(self) -> Iterable[RedisServer]:
        """Every process of the group: data nodes, then sentinels."""
        return (*self.servers, *self.sentinels)

    def __repr__(self) -> str:
        return (
            f"<SentinelGroup {self.service_name} primary={self._primary.port}"
            f" replicas={[r.port for r in self.replicas]}"
            f" sentinels={[s.port for s in self.sentinels]}>"
        )


def _as_list(reply: Reply) -> list[Reply]:
    if not isinstance(reply, list):
        raise ValueError(f"expected an array, got {reply!r}")
    return reply
