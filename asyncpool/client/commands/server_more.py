"""More server commands: CLIENT INFO/PAUSE/..., COMMAND *, MEMORY *, SLOWLOG, LATENCY,
persistence (SAVE, BGSAVE, LASTSAVE), replication (WAIT, ROLE, REPLICAOF), MODULE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ...errors import ConfigError, ConnectionError, RedisError
from .. import replies
from ..base import EncodableT, KeyT
from ._base import CommandMixin, Reply, StrT
from ._util import check_runs_commands, keys_list

__all__ = ["ServerMoreCommands"]


def _true(reply: Any) -> bool:
    return True


def _lastsave(reply: Any) -> datetime:
    return datetime.fromtimestamp(int(reply))


def _memory_stats(reply: Any) -> dict[str, Any]:
    stats = replies.to_str_dict(reply)
    for key, value in stats.items():
        if key.startswith("db.") and isinstance(value, (list, dict)):
            stats[key] = replies.to_str_dict(value)
    return stats


def _slowlog(reply: Any) -> list[dict[str, Any]]:
    out = []
    for item in reply:
        words = item[3]
        space = " " if words and isinstance(words[0], str) else b" "
        entry: dict[str, Any] = {
            "id": item[0],
            "start_time": int(item[1]),
            "duration": int(item[2]),
            "command": space.join(words),
        }
        if len(item) >= 6:
            entry["client_address"] = item[4]
            entry["client_name"] = item[5]
        out.append(entry)
    return out


def _command_table(reply: Any) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for row in reply:
        name = replies.to_str(row[0])
        info: dict[str, Any] = {
            "name": name,
            "arity": int(row[1]),
            "flags": [replies.to_str(f) for f in row[2]],
            "first_key_pos": row[3],
            "last_key_pos": row[4],
            "step_count": row[5],
        }
        if len(row) > 6:
            info["acl_categories"] = [replies.to_str(c) for c in row[6]]
        if len(row) > 7:
            info["tips"], info["key_specifications"], info["subcommands"] = row[7], row[8], row[9]
        table[name] = info
    return table


def _doc_argument(value: Any) -> dict[str, Any]:
    arg = replies.to_str_dict(value)
    if arg.get("arguments"):
        arg["arguments"] = [_doc_argument(a) for a in arg["arguments"]]
    return arg


def _doc(value: Any) -> dict[str, Any]:
    """One COMMAND DOCS entry: a dict with ``str`` keys, arguments and subcommands too."""
    doc = replies.to_str_dict(value)
    if doc.get("arguments"):
        doc["arguments"] = [_doc_argument(a) for a in doc["arguments"]]
    if doc.get("subcommands"):
        doc["subcommands"] = _command_docs(doc["subcommands"])
    return doc


def _command_docs(reply: Any) -> dict[str, Any]:
    return {replies.to_str(k): _doc(v) for k, v in replies.to_dict(reply).items()}


def _histograms(reply: Any) -> dict[str, Any]:
    return {replies.to_str(k): replies.to_str_dict(v) for k, v in replies.to_dict(reply).items()}


def _keys_and_flags(reply: Any) -> list[tuple[Any, set[str]]]:
    return [(key, {replies.to_str(f) for f in flags}) for key, flags in reply]


async def _until_closed(pending: Any, abort: bool) -> None:
    try:
        await pending
    except ConnectionError:
        return None  # the server went away: that is a successful SHUTDOWN
    if not abort:
        raise RedisError("SHUTDOWN was answered: the server did not stop")
    return None


def _debug_object(reply: Any) -> dict[str, Any]:
    text = "type:" + replies.to_str(reply)
    out: dict[str, Any] = dict(part.split(":", 1) for part in text.split() if ":" in part)
    for key in ("refcount", "serializedlength", "lru", "lru_seconds_idle"):
        if key in out:
            out[key] = int(out[key])
    return out


def _module_list(reply: Any) -> list[dict[Any, Any]]:
    return [replies.to_dict(item) for item in reply]


class ServerMoreCommands(CommandMixin[StrT]):
    """Administration and introspection commands.

    Connection-state commands (AUTH, SELECT, HELLO, QUIT, RESET, CLIENT REPLY,
    CLIENT TRACKING, MONITOR) are not methods of a pooled client: set them as
    connection options, or see docs/commands.md for why each is left out.
    """

    __slots__ = ()

    # -- CLIENT -------------------------------------------------------------------------
    def client_info(self) -> Reply[dict[str, str | int]]:
        """CLIENT INFO (Redis 6.2) about the connection that ran it; counters as ``int``."""
        return self._cmd(("CLIENT", "INFO"), replies.parse_client_info)

    def client_getredir(self) -> Reply[int]:
        """CLIENT GETREDIR: the client id tracking invalidations go to (-1: none)."""
        return self._cmd(("CLIENT", "GETREDIR"))

    def client_trackinginfo(self) -> Reply[dict[str, Any]]:
        """CLIENT TRACKINGINFO of the connection that ran it (``str`` keys)."""
        return self._cmd(("CLIENT", "TRACKINGINFO"), replies.to_str_dict)

    def client_pause(self, timeout: int, all: bool = True) -> Reply[bool]:
        """CLIENT PAUSE every client for ``timeout`` ms (``all=False``: writes only)."""
        if not isinstance(timeout, int):
            raise ConfigError("client_pause: timeout must be an int of milliseconds")
        args: tuple[Any, ...] = ("CLIENT", "PAUSE", timeout)
        if not all:
            args += ("WRITE",)
        return self._cmd(args, replies.ok)

    def client_unpause(self) -> Reply[bool]:
        """CLIENT UNPAUSE."""
        return self._cmd(("CLIENT", "UNPAUSE"), replies.ok)

    def client_unblock(self, client_id: int, error: bool = False) -> Reply[bool]:
        """CLIENT UNBLOCK a client blocked in BLPOP & co (``error``: make it fail);
        ``True`` when it was blocked."""
        args: tuple[Any, ...] = ("CLIENT", "UNBLOCK", client_id)
        if error:
            args += ("ERROR",)
        return self._cmd(args, replies.to_bool)

    def client_no_evict(self, mode: str) -> Reply[StrT]:
        """CLIENT NO-EVICT ``"ON"``/``"OFF"`` for the connection that runs it (use a
        pinned connection: a pooled one is reset when handed back)."""
        return self._cmd(("CLIENT", "NO-EVICT", mode))

    def client_no_touch(self, mode: str) -> Reply[StrT]:
        """CLIENT NO-TOUCH ``"ON"``/``"OFF"`` (Redis 7.2) for the connection that runs it."""
        return self._cmd(("CLIENT", "NO-TOUCH", mode))

    def client_setinfo(self, attr: str, value: str) -> Reply[bool]:
        """CLIENT SETINFO ``lib-name``/``lib-ver`` (Redis 7.2) of the connection that runs it."""
        return self._cmd(("CLIENT", "SETINFO", attr, value), replies.ok)

    # -- COMMAND ------------------------------------------------------------------------
    def command(self) -> Reply[dict[str, dict[str, Any]]]:
        """COMMAND: ``{name: {"name", "arity", "flags", "first_key_pos", ...}}``."""
        return self._cmd(("COMMAND",), _command_table)

    def command_count(self) -> Reply[int]:
        """COMMAND COUNT: how many commands the server has."""
        return self._cmd(("COMMAND", "COUNT"))

    def command_list(
        self, module: str | None = None, category: str | None = None, pattern: str | None = None
    ) -> Reply[list[StrT]]:
        """COMMAND LIST (Redis 7): command names, filtered by one of ``module``,
        ``category`` or ``pattern``."""
        filters = (("MODULE", module), ("ACLCAT", category), ("PATTERN", pattern))
        given = [(word, value) for word, value in filters if value is not None]
        if len(given) > 1:
            raise ConfigError("command_list: give at most one of module, category, pattern")
        args: tuple[Any, ...] = ("COMMAND", "LIST")
        if given:
            args += ("FILTERBY", *given[0])
        return self._cmd(args)

    def command_docs(self, *args: str) -> Reply[dict[str, Any]]:
        """COMMAND DOCS (Redis 7) of the named commands (none: all): nested dicts with
        ``str`` keys in both protocols."""
        return self._cmd(("COMMAND", "DOCS", *args), _command_docs)

    def command_getkeys(self, *args: EncodableT) -> Reply[list[str]]:
        """COMMAND GETKEYS: the keys of the command ``args`` (``str``, as redis-py)."""
        return self._cmd(("COMMAND", "GETKEYS", *args), replies.to_str_list)

    def command_getkeysandflags(self, *args: EncodableT) -> Reply[list[tuple[StrT, set[str]]]]:
        """COMMAND GETKEYSANDFLAGS (Redis 7): ``[(key, {flags}), ...]`` of the command
        ``args``; the flags a set of ``str`` in both protocols."""
        return self._cmd(("COMMAND", "GETKEYSANDFLAGS", *args), _keys_and_flags)

    # -- CONFIG, persistence --------------------------------------------------------------
    def config_resetstat(self) -> Reply[bool]:
        """CONFIG RESETSTAT: reset the INFO statistics."""
        return self._cmd(("CONFIG", "RESETSTAT"), replies.ok)

    def config_rewrite(self) -> Reply[bool]:
        """CONFIG REWRITE the server's config file (an error when it has none)."""
        return self._cmd(("CONFIG", "REWRITE"), replies.ok)

    def save(self) -> Reply[bool]:
        """SAVE the dataset to disk, blocking the server."""
        return self._cmd(("SAVE",), replies.ok)

    def bgsave(self, schedule: bool = True) -> Reply[bool]:
        """BGSAVE in the background (``schedule``: wait for a running AOF rewrite)."""
        return self._cmd(("BGSAVE", "SCHEDULE") if schedule else ("BGSAVE",), _true)

    def bgrewriteaof(self) -> Reply[bool]:
        """BGREWRITEAOF in the background."""
        return self._cmd(("BGREWRITEAOF",), _true)

    def lastsave(self) -> Reply[datetime]:
        """LASTSAVE: when the last save succeeded, as a local ``datetime``."""
        return self._cmd(("LASTSAVE",), _lastsave)

    def swapdb(self, first: int, second: int) -> Reply[bool]:
        """SWAPDB: exchange two databases."""
        return self._cmd(("SWAPDB", first, second), replies.ok)

    def lolwut(self, *version_numbers: str | float) -> Reply[StrT]:
        """LOLWUT: the server's version art."""
        args: tuple[Any, ...] = ("LOLWUT",)
        if version_numbers:
            args += ("VERSION", *version_numbers)
        return self._cmd(args)

    # -- MEMORY -------------------------------------------------------------------------
    def memory_usage(self, key: KeyT, samples: int | None = None) -> Reply[int | None]:
        """MEMORY USAGE of ``key`` in bytes (``None`` when missing); ``samples`` nested
        values to sample (0: all)."""
        args: tuple[Any, ...] = ("MEMORY", "USAGE", key)
        if samples is not None:
            args += ("SAMPLES", samples)
        return self._cmd(args)

    def memory_stats(self) -> Reply[dict[str, Any]]:
        """MEMORY STATS as a dict with ``str`` keys (``db.N`` entries nested)."""
        return self._cmd(("MEMORY", "STATS"), _memory_stats)

    def memory_malloc_stats(self) -> Reply[StrT]:
        """MEMORY MALLOC-STATS: the allocator's report."""
        return self._cmd(("MEMORY", "MALLOC-STATS"))

    def memory_purge(self) -> Reply[bool]:
        """MEMORY PURGE: ask the allocator to release memory."""
        return self._cmd(("MEMORY", "PURGE"), replies.ok)

    def memory_doctor(self) -> Reply[StrT]:
        """MEMORY DOCTOR: the server's memory advice."""
        return self._cmd(("MEMORY", "DOCTOR"))

    def memory_help(self) -> Reply[list[StrT]]:
        """MEMORY HELP."""
        return self._cmd(("MEMORY", "HELP"))

    # -- SLOWLOG, LATENCY -------------------------------------------------------------------
    def slowlog_get(self, num: int | None = None) -> Reply[list[dict[str, Any]]]:
        """SLOWLOG GET: ``{"id", "start_time", "duration", "command", "client_address",
        "client_name"}`` per entry (``command`` joined by spaces)."""
        args: tuple[Any, ...] = ("SLOWLOG", "GET") if num is None else ("SLOWLOG", "GET", num)
        return self._cmd(args, _slowlog)

    def slowlog_len(self) -> Reply[int]:
        """SLOWLOG LEN."""
        return self._cmd(("SLOWLOG", "LEN"))

    def slowlog_reset(self) -> Reply[bool]:
        """SLOWLOG RESET."""
        return self._cmd(("SLOWLOG", "RESET"), replies.ok)

    def latency_latest(self) -> Reply[list[Any]]:
        """LATENCY LATEST: ``[event, time, latest ms, max ms]`` per event."""
        return self._cmd(("LATENCY", "LATEST"))

    def latency_history(self, event: str) -> Reply[list[Any]]:
        """LATENCY HISTORY of ``event``: ``[time, ms]`` samples."""
        return self._cmd(("LATENCY", "HISTORY", event))

    def latency_reset(self, *events: str) -> Reply[int]:
        """LATENCY RESET the events (none: all); how many were reset."""
        return self._cmd(("LATENCY", "RESET", *events))

    def latency_doctor(self) -> Reply[StrT]:
        """LATENCY DOCTOR: the server's latency report."""
        return self._cmd(("LATENCY", "DOCTOR"))

    def latency_graph(self, event: str) -> Reply[StrT]:
        """LATENCY GRAPH of ``event`` as ASCII art."""
        return self._cmd(("LATENCY", "GRAPH", event))

    def latency_histogram(self, *args: str) -> Reply[dict[str, Any]]:
        """LATENCY HISTOGRAM (Redis 7) of the named commands (none: all)."""
        return self._cmd(("LATENCY", "HISTOGRAM", *args), _histograms)

    # -- replication --------------------------------------------------------------------
    def wait(self, num_replicas: int, timeout: int) -> Reply[int]:
        """WAIT until ``num_replicas`` acknowledged earlier writes or ``timeout`` ms passed;
        how many did."""
        return self._cmd(("WAIT", num_replicas, timeout))

    def waitaof(self, num_local: int, num_replicas: int, timeout: int) -> Reply[list[int]]:
        """WAITAOF (Redis 7.2): ``[local fsyncs, replica fsyncs]`` of earlier writes."""
        return self._cmd(("WAITAOF", num_local, num_replicas, timeout))

    def role(self) -> Reply[list[Any]]:
        """ROLE: ``["master", offset, replicas]`` / ``["slave", ...]`` as Redis sends it."""
        return self._cmd(("ROLE",))

    def replicaof(self, *args: EncodableT) -> Reply[bool]:
        """REPLICAOF ``host port``, or ``"NO", "ONE"`` to stop replicating."""
        if len(args) != 2:
            raise ConfigError('replicaof takes host and port, or "NO", "ONE"')
        return self._cmd(("REPLICAOF", *args), replies.ok)

    def slaveof(self, host: str | None = None, port: int | None = None) -> Reply[bool]:
        """SLAVEOF (the old REPLICAOF): no arguments stop replicating."""
        if host is None and port is None:
            return self._cmd(("SLAVEOF", "NO", "ONE"), replies.ok)
        return self._cmd(("SLAVEOF", host, port), replies.ok)

    def migrate(
        self,
        host: str,
        port: int,
        keys: KeyT | Sequence[KeyT],
        destination_db: int,
        timeout: int,
        copy: bool = False,
        replace: bool = False,
        auth: str | None = None,
    ) -> Reply[StrT]:
        """MIGRATE ``keys`` to another server (``timeout`` ms); ``OK`` or ``NOKEY``."""
        names = keys_list(keys)
        if not names:
            raise ConfigError("migrate needs at least one key")
        args: list[Any] = ["MIGRATE", host, port, "", destination_db, timeout]
        if copy:
            args.append("COPY")
        if replace:
            args.append("REPLACE")
        if auth is not None:
            args += ("AUTH", auth)
        return self._cmd((*args, "KEYS", *names))

    def shutdown(
        self,
        save: bool = False,
        nosave: bool = False,
        now: bool = False,
        force: bool = False,
        abort: bool = False,
    ) -> Reply[None]:
        """SHUTDOWN the server (``save``/``nosave``; ``now``, ``force``, ``abort``: Redis 7).

        Returns once the server closed the connection, as redis-py does; raises
        :class:`~asyncpool.RedisError` when it answered instead of stopping.
        ``abort=True`` cancels a shutdown in progress and returns normally.
        Not available on pipelines.
        """
        if save and nosave:
            raise ConfigError("shutdown: save and nosave are mutually exclusive")
        check_runs_commands(self, "shutdown")
        args: list[Any] = ["SHUTDOWN"]
        for word, on in (("SAVE", save), ("NOSAVE", nosave), ("NOW", now), ("FORCE", force)):
            if on:
                args.append(word)
        if abort:
            args.append("ABORT")
        return _until_closed(self._cmd(tuple(args), retryable=False), abort)

    def debug_object(self, key: KeyT) -> Reply[dict[str, Any]]:
        """DEBUG OBJECT (needs ``enable-debug-command``) as a dict, counters as ``int``."""
        return self._cmd(("DEBUG", "OBJECT", key), _debug_object)

    # -- MODULE -------------------------------------------------------------------------
    def module_list(self) -> Reply[list[dict[StrT, Any]]]:
        """MODULE LIST: one ``{name, ver, path, args}`` dict per loaded module (keys as
        string replies, as redis-py)."""
        return self._cmd(("MODULE", "LIST"), _module_list)

    def module_load(self, path: str, *args: EncodableT) -> Reply[bool]:
        """MODULE LOAD a shared library with ``args``."""
        return self._cmd(("MODULE", "LOAD", path, *args), replies.ok)

    def module_loadex(
        self, path: str, options: Sequence[str] | None = None, args: Sequence[str] | None = None
    ) -> Reply[bool]:
        """MODULE LOADEX (Redis 7) with ``CONFIG`` ``options`` and ``ARGS``."""
        cmd: list[Any] = ["MODULE", "LOADEX", path]
        for option in options or ():
            cmd += ("CONFIG", option)
        if args:
            cmd += ("ARGS", *args)
        return self._cmd(tuple(cmd), replies.ok)

    def module_unload(self, name: str) -> Reply[bool]:
        """MODULE UNLOAD."""
        return self._cmd(("MODULE", "UNLOAD", name), replies.ok)
