"""The :class:`Command` value: one Redis command, classified once, read by every layer.

A command method (``redis.get(key)``) builds its arguments and hands them to
``_cmd``, which makes one :class:`Command`.  From then on no layer looks the
name up again: the executor reads :attr:`Command.retry_safe`, the connection
reads :attr:`Command.blocking_timeout` and :attr:`Command.changes_state`, a
cluster executor reads :attr:`Command.keys`, the observer reads
:attr:`Command.name`.

What the tables below say about a command:

* **Retry class.**  After a connection error, a command whose bytes may have
  reached the server is retried only when it is in :data:`SAFE_TO_RETRY`
  (read-only, or idempotent so that running it twice equals running it once).
  Everything else (INCR, LPUSH, XADD, EVAL, LREM, LTRIM, ZREMRANGEBYRANK, ...)
  raises :class:`~asyncpool.OutcomeUnknownError` instead.  A command whose
  bytes never left the process is always retried.  Idempotent writes leave
  the same data when repeated, but their *reply* can differ: a retried
  ``DEL`` may count 0, a retried ``SET NX`` may answer nil.
* **Blocking.**  Commands in :data:`BLOCKING` wait on the server; their read
  deadline is extended by their own timeout argument, and a cancelled
  blocking command closes its connection (its reply could arrive much later).
* **State.**  Commands in :data:`STATEFUL` change per-connection state that
  must not leak to the next borrower (MULTI, WATCH, SELECT, SUBSCRIBE, ...).
* **Read-only.**  Commands in :data:`READ_ONLY` never write data (a cluster
  executor may send them to a replica).

Names are matched case-insensitively (``"Select"`` is ``SELECT``); ``str``
and ``bytes`` names both work.  The classification of each name is computed
once and cached, so building a :class:`Command` costs one dict lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from ._types import Callback
from .keyspec import key_indices

__all__ = [
    "BLOCKING",
    "READ_ONLY",
    "SAFE_TO_RETRY",
    "STATEFUL",
    "Command",
    "CommandInfo",
    "TimedCommand",
    "blocking_timeout",
    "classify",
    "command_name",
    "is_safe_to_retry",
]

# -- the tables ---------------------------------------------------------------------

#: Commands that never write data.  All are safe to retry.
READ_ONLY_NAMES = (
    # connection / server
    "PING ECHO INFO DBSIZE TIME COMMAND LASTSAVE ROLE MEMORY"
    # keys
    " EXISTS TTL PTTL EXPIRETIME PEXPIRETIME TYPE KEYS SCAN RANDOMKEY DUMP OBJECT TOUCH"
    # strings
    " GET MGET GETRANGE STRLEN SUBSTR LCS"
    # hashes
    " HGET HMGET HGETALL HEXISTS HKEYS HVALS HLEN HSCAN HSTRLEN HRANDFIELD"
    # lists
    " LRANGE LLEN LINDEX LPOS"
    # sets
    " SMEMBERS SISMEMBER SMISMEMBER SCARD SINTER SINTERCARD SUNION SDIFF SSCAN SRANDMEMBER"
    # sorted sets
    " ZRANGE ZRANGEBYSCORE ZRANGEBYLEX ZREVRANGE ZREVRANGEBYSCORE ZREVRANGEBYLEX ZSCORE ZMSCORE"
    " ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK ZSCAN ZRANDMEMBER ZINTER ZUNION ZDIFF"
    # streams (reads only)
    " XRANGE XREVRANGE XLEN XINFO XPENDING XREAD"
    # hyperloglog, bitmaps, geo
    " PFCOUNT GETBIT BITCOUNT BITPOS BITFIELD_RO GEOPOS GEODIST GEOHASH GEORADIUS_RO"
    " GEORADIUSBYMEMBER_RO GEOSEARCH"
    # scripting
    " EVALSHA_RO EVAL_RO FCALL_RO PUBSUB"
).split()

#: Writes (or connection settings) that leave the same state when repeated.
IDEMPOTENT_NAMES = (
    "HELLO SELECT CLIENT CONFIG SCRIPT"
    " DEL UNLINK PERSIST EXPIRE PEXPIRE EXPIREAT PEXPIREAT"
    " SET MSET GETEX HSET HMSET HDEL LSET"
    " SADD SREM SINTERSTORE SUNIONSTORE SDIFFSTORE"
    " ZREM ZREMRANGEBYSCORE ZREMRANGEBYLEX ZRANGESTORE ZINTERSTORE ZUNIONSTORE"
    " PFADD SETBIT"
).split()

#: Read-only or idempotent commands: retried after a connection error.
SAFE_TO_RETRY_NAMES = READ_ONLY_NAMES + IDEMPOTENT_NAMES

#: Commands that block on the server, with the index of their timeout
#: argument counted from the command name (negative: from the end).
BLOCKING_TIMEOUT_INDEX: dict[str, int] = {
    "BLPOP": -1,
    "BRPOP": -1,
    "BRPOPLPUSH": -1,
    "BLMOVE": -1,
    "BZPOPMIN": -1,
    "BZPOPMAX": -1,
    "BLMPOP": 1,
    "BZMPOP": 1,
    "WAIT": 2,
    "WAITAOF": 3,
}

STATEFUL_NAMES = (
    "MULTI EXEC DISCARD WATCH UNWATCH SELECT SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE"
    " PUNSUBSCRIBE SUNSUBSCRIBE CLIENT RESET MONITOR HELLO AUTH READONLY READWRITE"
).split()

#: Seconds are the unit of these commands' timeout argument; the rest use ms.
_TIMEOUT_IN_MS = frozenset({"WAIT", "WAITAOF", "XREAD", "XREADGROUP"})
_STREAM_BLOCKING = frozenset({"XREAD", "XREADGROUP"})


def _names(words: Iterable[str]) -> frozenset[Any]:
    """Upper and lower case, str and bytes: for ``name in SET`` tests on raw names."""
    out: set[Any] = set()
    for w in words:
        for form in (w.upper(), w.lower()):
            out.add(form)
            out.add(form.encode())
    return frozenset(out)


SAFE_TO_RETRY = _names(SAFE_TO_RETRY_NAMES)
READ_ONLY = _names(READ_ONLY_NAMES)
BLOCKING = _names([*BLOCKING_TIMEOUT_INDEX, *_STREAM_BLOCKING])
STATEFUL = _names(STATEFUL_NAMES)

_SAFE = frozenset(SAFE_TO_RETRY_NAMES)
_READ_ONLY = frozenset(READ_ONLY_NAMES)
_BLOCKING = frozenset([*BLOCKING_TIMEOUT_INDEX, *_STREAM_BLOCKING])
_STATEFUL = frozenset(STATEFUL_NAMES)
#: Neither blocking nor stateful, yet never on a shared connection (see
#: :mod:`asyncpool.pool.sharing`): ``SCRIPT KILL`` must not queue behind the
#: script it stops, replication and shutdown commands end the conversation.
NEVER_SHARED = frozenset(
    {"QUIT", "SYNC", "PSYNC", "REPLCONF", "SHUTDOWN", "DEBUG", "SCRIPT", "FUNCTION"}
)


# -- per-name classification ------------------------------------------------------------
class CommandInfo:
    """What asyncpool knows about one command name (shared by every call of it)."""

    __slots__ = ("blocking", "exclusive", "name", "read_only", "retry_safe", "stateful")

    def __init__(self, name: str) -> None:
        #: Upper-case name (``""`` for an empty command).
        self.name = name
        #: Safe to repeat after a connection error by default.
        self.retry_safe = name in _SAFE
        #: Waits on the server (BLPOP, WAIT, XREAD [BLOCK] ...).
        self.blocking = name in _BLOCKING
        #: May change per-connection state (MULTI, SELECT, CLIENT, RESET ...).
        self.stateful = name in _STATEFUL
        #: Never writes data.
        self.read_only = name in _READ_ONLY
        #: Needs a connection to itself even in shared-connection mode.
        self.exclusive = self.blocking or self.stateful or name in NEVER_SHARED

    def __repr__(self) -> str:
        return f"<CommandInfo {self.name}>"


_INFO: dict[Any, CommandInfo] = {}
#: Distinct raw names cached; beyond it names are classified on each call.
_MAX_CACHED = 2048


def word(value: Any) -> str:
    """``value`` (str, bytes, int ...) as an upper-case word, for name comparisons."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("ascii", "replace").upper()
    return str(value).upper()


def classify(name: Any) -> CommandInfo:
    """The (cached) :class:`CommandInfo` of a raw command name, any case, str or bytes."""
    info = _INFO.get(name) if name.__class__ in (str, bytes) else None
    if info is None:
        info = CommandInfo(word(name))
        if name.__class__ in (str, bytes) and len(_INFO) < _MAX_CACHED:
            _INFO[name] = info
    return info


_EMPTY = CommandInfo("")


# -- the value --------------------------------------------------------------------------
class Command:
    """One command to run: its arguments, reply callback, and classification.

    Made once per call by the client's ``_cmd``; every layer below reads its
    fields.  ``retryable`` (``None``: the name's retry class) says whether it
    may be repeated after its bytes were sent and the connection failed.

    For compatibility a :class:`Command` is also a read-only sequence of its
    arguments (``command[0]`` is the name as given, ``len(command)``).
    """

    __slots__ = ("_keys", "args", "callback", "info", "retry_safe")

    def __init__(
        self,
        args: tuple[Any, ...],
        callback: Callback | None = None,
        retryable: bool | None = None,
    ) -> None:
        #: The arguments, name first, exactly as they go on the wire.
        self.args = args
        #: Applied to a successful reply (``None``: the raw reply).
        self.callback = callback
        try:
            info = _INFO[args[0]]
        except (KeyError, IndexError, TypeError):  # a new name, no name, an unhashable name
            info = classify(args[0]) if args else _EMPTY
        #: The name's shared classification.
        self.info = info
        #: May be repeated after a connection error even if it reached the server.
        self.retry_safe = info.retry_safe if retryable is None else retryable

    def __repr__(self) -> str:
        return f"<Command {self.info.name} ({len(self.args) - 1} argument(s))>"

    # sequence view of the arguments (observers written against ``args``)
    def __getitem__(self, index: Any) -> Any:
        return self.args[index]

    def __len__(self) -> int:
        return len(self.args)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.args)

    @property
    def name(self) -> str:
        """The upper-case command name (``"SELECT"`` for ``"Select"`` or ``b"select"``)."""
        return self.info.name

    @property
    def blocking(self) -> bool:
        """True for a command that may wait on the server (see :attr:`blocking_timeout`)."""
        return self.info.blocking

    @property
    def blocking_timeout(self) -> float | None:
        """How long it may legitimately wait on the server (see :func:`blocking_timeout`)."""
        return _blocking_timeout(self.info.name, self.args) if self.info.blocking else None

    @property
    def changes_state(self) -> bool:
        """True when it may change per-connection state (MULTI, SELECT, RESET, CLIENT ...)."""
        return self.info.stateful

    @property
    def read_only(self) -> bool:
        """True when it never writes data."""
        return self.info.read_only

    @property
    def subcommand(self) -> str:
        """The upper-case second word (``"SETNAME"`` of ``CLIENT SETNAME``), or ``""``."""
        return word(self.args[1]) if len(self.args) > 1 else ""

    @property
    def suppresses_replies(self) -> bool:
        """True for ``CLIENT REPLY OFF`` and ``CLIENT REPLY SKIP`` (no reply will come)."""
        args = self.args
        return (
            len(args) > 2
            and self.info.name == "CLIENT"
            and word(args[1]) == "REPLY"
            and word(args[2]) in ("OFF", "SKIP")
        )

    @property
    def key_indices(self) -> tuple[int, ...]:
        """Positions of its keys in :attr:`args`, from Redis's key specifications.

        Computed on first use by :func:`asyncpool.keyspec.key_indices` (from
        Redis's own key specifications; ``numkeys`` for EVAL/FCALL, after
        ``STREAMS`` for XREAD).
        """
        try:
            return self._keys
        except AttributeError:  # first use
            self._keys: tuple[int, ...] = key_indices(self.args)
            return self._keys

    @property
    def keys(self) -> tuple[Any, ...]:
        """Its key arguments, in order (what a cluster executor hashes to a slot)."""
        args = self.args
        return tuple(args[i] for i in self.key_indices)

    # -- as an operation of the executor (see asyncpool.client.executing) ------------
    #: A command gives its connection back after the reply (a WATCH keeps it).
    pins_connection = False

    @property
    def command(self) -> Command:
        """The command that names this operation for observers and errors: itself."""
        return self

    def send(self, conn: _Sender) -> Awaitable[Any]:
        """Write it on ``conn`` and await its reply (an error reply is returned)."""
        return conn.send_command(self)

    def result(self, reply: Any) -> Any:
        """Its successful reply in the documented shape (the callback applied)."""
        callback = self.callback
        return reply if callback is None else callback(reply)


class _Sender(Protocol):
    """What a command is sent on (a :class:`~asyncpool.Connection`)."""

    def send_command(self, command: Command, *, timeout: Any = ...) -> Awaitable[Any]: ...


class TimedCommand(Command):
    """A :class:`Command` with its own reply timeout (``execute_command(timeout=...)``).

    ``timeout`` replaces ``socket_timeout`` for this call; ``None`` waits forever.
    """

    __slots__ = ("timeout",)

    def __init__(
        self,
        args: tuple[Any, ...],
        callback: Callback | None = None,
        retryable: bool | None = None,
        *,
        timeout: float | None,
    ) -> None:
        super().__init__(args, callback, retryable)
        self.timeout = timeout

    def send(self, conn: _Sender) -> Awaitable[Any]:
        """Write it on ``conn`` and await its reply within :attr:`timeout`."""
        return conn.send_command(self, timeout=self.timeout)


# -- functions on raw arguments (kept for callers that hold a tuple) ----------------------
def command_name(args: Sequence[Any]) -> str:
    """The upper-case command name of ``args`` (``""`` when empty)."""
    return classify(args[0]).name if args else ""


def is_safe_to_retry(args: Sequence[Any]) -> bool:
    """Whether repeating ``args`` after a connection error is safe by default."""
    return bool(args) and classify(args[0]).retry_safe


def _as_float(value: Any) -> float | None:
    try:
        if isinstance(value, (bytes, bytearray)):
            value = value.decode()
        return float(value)
    except (TypeError, ValueError):
        return None


def blocking_timeout(args: Sequence[Any]) -> float | None:
    """How long a blocking command may legitimately wait on the server.

    Returns ``None`` for a non-blocking command, ``float("inf")`` when it may
    wait forever (timeout 0), else the timeout in seconds.  XREAD and
    XREADGROUP block only with a ``BLOCK`` argument.
    """
    if not args:
        return None
    info = classify(args[0])
    return _blocking_timeout(info.name, args) if info.blocking else None


def _blocking_timeout(name: str, args: Sequence[Any]) -> float | None:
    if name in _STREAM_BLOCKING:
        for i, a in enumerate(args):
            if word(a) == "BLOCK" and i + 1 < len(args):
                ms = _as_float(args[i + 1])
                if ms is None:
                    return None
                return float("inf") if ms == 0 else ms / 1000.0
        return None
    index = BLOCKING_TIMEOUT_INDEX[name]
    if index >= len(args) or -index > len(args) - 1:
        return None
    value = _as_float(args[index])
    if value is None:
        return None
    if name in _TIMEOUT_IN_MS:
        value = value / 1000.0
    return float("inf") if value == 0 else value
