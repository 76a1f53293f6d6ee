"""The :class:`RedisCluster` client: ``Redis``'s command methods over a pool per node."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, get_args

from ..client.base import Callback
from ..client.commands import Commands
from ..client.commands._util import check_runs_commands
from ..client.executor import within_deadline
from ..client.redis import _CLIENT_KEYS, _retry_from
from ..client.retry import Retry
from ..command_info import command_name
from ..errors import ConfigError
from ..keyspec import command_key, is_readonly, request_policy, response_policy
from ..keyspec_table import REQUEST_POLICY, SPECS
from ..options import CONNECTION_FIELDS, POOL_FIELDS, ConnectionOptions, PoolOptions
from ..pool import Hook, Pool, PoolStats
from ..pool.lease import DEFAULT
from .batch import SPLIT_NAMES, fan_out, split
from .executor import run, run_on
from .nodes import ClusterNodes, ReadFrom
from .slots import hash_slot
from .topology import Address

if TYPE_CHECKING:
    from ..client.pubsub import PubSub
    from ..client.script import Script
    from .pipeline import ClusterPipeline
    from .sharded import ShardedPubSub

__all__ = ["RedisCluster"]

#: Commands Redis tags for every shard / node that asyncpool still sends to one
#: node: per-connection (CLIENT SETNAME, WAIT) or "special" single answers.
_NO_FAN_OUT = frozenset(
    {"client|setname", "client|setinfo", "wait", "waitaof", "randomkey", "scan"}
)


def _forms(names: Sequence[str]) -> frozenset[Any]:
    out: set[Any] = set()
    for n in names:
        out.update((n.lower(), n.upper(), n.lower().encode(), n.upper().encode()))
    return frozenset(out)


_SPECIAL_UPPER = frozenset({*SPLIT_NAMES, *(n.split("|")[0].upper() for n in REQUEST_POLICY)})
_SPECIAL = _forms(sorted(_SPECIAL_UPPER))
_PLAIN = _forms(sorted(n for n in SPECS if "|" not in n and n.upper() not in _SPECIAL_UPPER))
_SPLIT = _forms(sorted(SPLIT_NAMES))
_READ_FROM = get_args(ReadFrom)


def _address(node: str | tuple[str, int]) -> Address:
    if isinstance(node, tuple):
        return (node[0], int(node[1]))
    host, _, port = node.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"startup node must be 'host:port' or (host, port), got {node!r}")
    return (host.strip("[]"), int(port))


class RedisCluster(Commands):
    """An asyncio Redis Cluster client: one :class:`~asyncpool.Pool` per node.

    ::

        async with asyncpool.RedisCluster.from_url("redis://127.0.0.1:7000") as rc:
            await rc.set("{user:1}:name", "Ada")

    Every connection and pool option (``max_connections``, ``acquire_timeout``,
    ...) applies **per node**.  Commands route by their keys' slot; see
    docs/cluster.md for redirects, refresh, replica reads and every option.
    """

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        startup_nodes: Sequence[str | tuple[str, int]] = (),
        retry: Retry | None = None,
        read_from: ReadFrom = "primary",
        max_redirects: int = 16,
        refresh_interval: float | None = 60.0,
        refresh_min_interval: float = 0.5,
        topology_timeout: float = 2.0,
        cluster_backoff: float = 0.02,
        cluster_backoff_max: float = 0.5,
        on_connect: Hook | None = None,
        connection_options: ConnectionOptions | None = None,
        pool_options: PoolOptions | None = None,
        **options: Any,
    ) -> None:
        if read_from not in _READ_FROM:
            raise ConfigError(
                f"read_from must be one of {', '.join(_READ_FROM)}, got {read_from!r}"
            )
        if max_redirects < 0:
            raise ConfigError("max_redirects must be >= 0")
        if refresh_interval is not None and not refresh_interval > 0:
            raise ConfigError("refresh_interval must be > 0 or None")
        unknown = set(options) - CONNECTION_FIELDS - POOL_FIELDS - _CLIENT_KEYS
        if unknown:
            raise ConfigError(f"unknown option(s): {', '.join(sorted(unknown))}")
        client_options = {k: options.pop(k) for k in list(options) if k in _CLIENT_KEYS}
        copts = (connection_options or ConnectionOptions()).replace(
            **{k: v for k, v in options.items() if k in CONNECTION_FIELDS}
        )
        popts = (pool_options or PoolOptions()).replace(
            **{k: v for k, v in options.items() if k in POOL_FIELDS}
        )
        if copts.db != 0:
            raise ConfigError(f"Redis Cluster has only database 0, got db={copts.db}")
        if copts.path is not None:
            raise ConfigError("Redis Cluster nodes are reached over TCP, not a unix socket")
        seeds = [_address(n) for n in startup_nodes]
        if host is not None or port is not None or not seeds:
            seeds.insert(0, (host or copts.host, port or copts.port))
        self._nodes = ClusterNodes(
            seeds,
            copts,
            popts,
            read_from=read_from,
            refresh_interval=refresh_interval,
            refresh_min_interval=refresh_min_interval,
            topology_timeout=topology_timeout,
            on_connect=on_connect,
        )
        self._retry = _retry_from(client_options, retry)
        self._retryable: bool | None = None
        self._reads_replicas = read_from != "primary"
        self._closed = False
        self._is_view = False
        #: Redirects (MOVED/ASK/TRYAGAIN/CLUSTERDOWN) followed per command, at most.
        self.max_redirects = max_redirects
        self.cluster_backoff = cluster_backoff
        self.cluster_backoff_max = cluster_backoff_max

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        startup_nodes: Sequence[str | tuple[str, int]] = (),
        **options: Any,
    ) -> RedisCluster:
        """A cluster client whose first startup node (and options) come from ``url``.

        Cluster options (``read_from``, ``max_redirects``, ...) are keyword
        arguments; connection and pool options may also be URL parameters.
        """
        from ..url import parse_url

        cluster_keys = {
            "retry",
            "read_from",
            "max_redirects",
            "refresh_interval",
            "refresh_min_interval",
            "topology_timeout",
            "cluster_backoff",
            "cluster_backoff_max",
            "on_connect",
        }
        own = {k: options.pop(k) for k in list(options) if k in cluster_keys}
        client = {k: options.pop(k) for k in list(options) if k in _CLIENT_KEYS}
        copts, popts, url_client = parse_url(url, **options)
        return cls(
            startup_nodes=startup_nodes,
            connection_options=copts,
            pool_options=popts,
            host=copts.host,
            port=copts.port,
            **own,
            **{**url_client, **client},
        )

    def __repr__(self) -> str:
        return f"<RedisCluster {self._nodes.topology!r} nodes={len(self._nodes.pools)}>"

    # -- lifecycle ----------------------------------------------------------------
    async def initialize(self) -> RedisCluster:
        """Load the topology now (otherwise the first command does)."""
        await self._nodes.initialize()
        return self

    async def __aenter__(self) -> RedisCluster:
        return await self.initialize()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the background refresh and close every node's pool (a view closes nothing)."""
        if self._is_view:
            return
        self._closed = True
        await self._nodes.aclose()

    # -- introspection -------------------------------------------------------------
    @property
    def retry(self) -> Retry:
        """The retry policy for connection failures."""
        return self._retry

    @property
    def nodes(self) -> ClusterNodes:
        """The node pools and topology (for introspection)."""
        return self._nodes

    def stats(self) -> dict[str, PoolStats]:
        """Each node's pool stats, keyed by ``host:port``."""
        return {f"{h}:{p}": pool.stats() for (h, p), pool in self._nodes.pools.items()}

    def total_stats(self) -> dict[str, int]:
        """The gauges and counters of :meth:`stats` summed over every node."""
        totals: dict[str, int] = {}
        for stats in self.stats().values():
            for name in (
                "max_connections",
                "total",
                "idle",
                "in_use",
                "waiting",
                "created_total",
                "closed_total",
                "acquired_total",
                "acquire_timeouts_total",
                "errors_total",
            ):
                totals[name] = totals.get(name, 0) + int(getattr(stats, name))
        totals["nodes"] = len(self._nodes.pools)
        return totals

    def pool_for(self, key: Any) -> Pool:
        """The pool of the primary serving ``key``'s slot."""
        if self._nodes.topology is None:
            raise ConfigError("the cluster is not initialized yet; await initialize() first")
        return self._nodes.pool(self._nodes.primary_of(hash_slot(key)))

    # -- running commands -----------------------------------------------------------
    def _is_read(self, args: Sequence[Any]) -> bool:
        return is_readonly(args)

    def _cmd(
        self,
        args: tuple[Any, ...],
        callback: Callback | None = None,
        *,
        retryable: bool | None = None,
    ) -> Any:
        if retryable is None:
            retryable = self._retryable
        name = args[0]
        if name in _SPECIAL or (name not in _PLAIN and command_name(args) in _SPECIAL_UPPER):
            coro = self._special(args, callback, retryable)
        else:
            coro = self._run(args, callback, retryable, DEFAULT)
        deadline = self._retry.deadline
        if deadline is not None:
            coro = within_deadline(deadline, args, coro)
        return coro

    async def _run(
        self, args: tuple[Any, ...], callback: Callback | None, retryable: bool | None, timeout: Any
    ) -> Any:
        reply = await run(self, args, retryable, timeout)
        return reply if callback is None else callback(reply)

    async def _special(
        self, args: tuple[Any, ...], callback: Callback | None, retryable: bool | None
    ) -> Any:
        if self._nodes.topology is None:
            await self.initialize()
        if command_name(args) in SPLIT_NAMES:
            reply = await split(self, args, retryable)
            return reply if callback is None else callback(reply)
        policy = request_policy(args)
        if policy in ("all_shards", "all_nodes") and command_key(args) not in _NO_FAN_OUT:
            topology = self._nodes.topology
            assert topology is not None
            if policy == "all_shards":
                addresses = topology.primaries()
            else:
                addresses = sorted(topology.addresses())
            return await fan_out(self, args, addresses, response_policy(args), callback)
        if command_key(args) == "scan":
            raise TypeError("SCAN cursors are per node on a cluster: use scan_iter()")
        return await self._run(args, callback, retryable, DEFAULT)

    async def execute_command(
        self, *args: Any, retryable: bool | None = None, timeout: float | None = DEFAULT
    ) -> Any:
        """Run any command by name on the node its keys route to; the raw reply.

        Fan-out and multi-key split rules apply as for the typed methods.
        """
        if timeout is DEFAULT:
            return await self._cmd(args, None, retryable=retryable)
        if retryable is None:
            retryable = self._retryable
        return await self._run(args, None, retryable, timeout)

    async def execute_on(self, address: Address, *args: Any) -> Any:
        """Run a command on one node, given as ``(host, port)`` (no redirects followed)."""
        if self._nodes.topology is None:
            await self.initialize()
        return await run_on(self, address, args)

    def retryable(self, retryable: bool = True) -> RedisCluster:
        """A view whose commands are (not) retried after connection errors; shares the nodes."""
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._retryable = retryable
        view._is_view = True
        return view

    # -- higher-level features --------------------------------------------------------
    def pipeline(
        self, transaction: bool = False, *, retryable: bool | None = None
    ) -> ClusterPipeline:
        """Queue commands, send them grouped per node; see :class:`ClusterPipeline`."""
        from .pipeline import ClusterPipeline

        return ClusterPipeline(self, transaction=transaction, retryable=retryable)

    async def transaction(self, func: Any, *watches: Any, **kwargs: Any) -> Any:
        """Run ``func(pipe)`` under WATCH/MULTI/EXEC on the primary of the watched keys' slot."""
        from .pipeline import run_cluster_transaction

        return await run_cluster_transaction(self, func, *watches, **kwargs)

    def pubsub(self, **kwargs: Any) -> PubSub:
        """Classic publish/subscribe on one node (the cluster forwards every PUBLISH to all).

        The session takes its connection from one primary's pool; see
        :class:`~asyncpool.PubSub`.  Sharded pub/sub (``SSUBSCRIBE``) is not
        supported yet.
        """
        from ..client.pubsub import PubSub

        if self._nodes.topology is None:
            address = self._nodes.startup[0]
        else:
            address = self._nodes.any_primary()
        return PubSub(self._nodes.pool(address), **kwargs)

    def sharded_pubsub(self) -> ShardedPubSub:
        """Sharded pub/sub: ``SSUBSCRIBE`` on each channel's slot owner, re-homed when it moves.

        See :class:`~asyncpool.cluster.sharded.ShardedPubSub`; publish with
        ``spublish`` / ``execute_command("SPUBLISH", channel, message)``.
        """
        from .sharded import ShardedPubSub

        return ShardedPubSub(self)

    def register_script(self, script: str | bytes) -> Script:
        """A :class:`~asyncpool.Script`: EVALSHA routed by keys, SCRIPT LOAD to every node."""
        from ..client.script import Script

        return Script(self, script)

    async def scan_iter(
        self,
        match: Any | None = None,
        count: int | None = None,
        _type: str | None = None,
    ) -> AsyncIterator[Any]:
        """Every key of every primary, each node's SCAN cursor run to its end."""
        check_runs_commands(self, "scan_iter")
        if self._nodes.topology is None:
            await self.initialize()
        topology = self._nodes.topology
        assert topology is not None
        for address in topology.primaries():
            cursor: Any = 0
            while True:
                args: list[Any] = ["SCAN", cursor]
                if match is not None:
                    args += ["MATCH", match]
                if count is not None:
                    args += ["COUNT", count]
                if _type is not None:
                    args += ["TYPE", _type]
                cursor, keys = await run_on(self, address, tuple(args))
                for key in keys:
                    yield key
                if int(cursor) == 0:
                    break
