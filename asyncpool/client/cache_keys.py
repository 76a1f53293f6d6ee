"""Which commands the client-side cache stores, and which keys a command touches.

Two tables, both keyed by upper-case command name:

* :data:`CACHEABLE` -- read commands whose reply depends only on the keys they
  name (and their other arguments), with where those keys are.  Nothing that
  depends on time (``TTL``), chance (``SRANDMEMBER``) or other keys
  (``SORT ... BY``) is in it.
* :data:`WRITE_KEYS` -- for commands the client sends that may write, where
  their keys are, so a write through the caching client drops what it makes
  stale as soon as its reply arrives (read-your-writes without waiting for the
  server's invalidation).  A command in neither table nor :data:`READ_ONLY` is
  handled conservatively by the cache (see :mod:`asyncpool.client.cache`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "CACHEABLE",
    "DEFAULT_CACHED_COMMANDS",
    "FLUSHES",
    "READ_ONLY",
    "WRITE_KEYS",
    "KeyFinder",
    "key_bytes",
]

#: Returns the key arguments of a command's argument tuple (name first).
KeyFinder = Callable[[Sequence[Any]], Sequence[Any]]


def _first(args: Sequence[Any]) -> Sequence[Any]:
    return args[1:2]


def _all(args: Sequence[Any]) -> Sequence[Any]:
    return args[1:]


def _first_two(args: Sequence[Any]) -> Sequence[Any]:
    return args[1:3]


def _pairs(args: Sequence[Any]) -> Sequence[Any]:
    return args[1::2]


def _all_but_last(args: Sequence[Any]) -> Sequence[Any]:
    return args[1:-1]


def _from_second(args: Sequence[Any]) -> Sequence[Any]:
    return args[2:]


def _numkeys_at(index: int, dest: bool = False) -> KeyFinder:
    """Keys counted by a ``numkeys`` argument at ``index`` (optionally a destination first)."""

    def finder(args: Sequence[Any]) -> Sequence[Any]:
        try:
            count = int(args[index])
        except (IndexError, TypeError, ValueError):
            return args[1:]  # malformed: over-approximate, the server will refuse it anyway
        keys = list(args[index + 1 : index + 1 + count])
        return [args[1], *keys] if dest else keys

    return finder


def _words(text: str) -> list[str]:
    return text.split()


#: Cacheable reads and where their keys are.
CACHEABLE: dict[str, KeyFinder] = {
    **{
        name: _first
        for name in _words(
            "GET GETRANGE SUBSTR STRLEN GETBIT BITCOUNT BITPOS TYPE"
            " HGET HMGET HGETALL HEXISTS HKEYS HVALS HLEN HSTRLEN"
            " LRANGE LLEN LINDEX LPOS"
            " SMEMBERS SISMEMBER SMISMEMBER SCARD"
            " ZRANGE ZRANGEBYSCORE ZRANGEBYLEX ZREVRANGE ZREVRANGEBYSCORE ZREVRANGEBYLEX"
            " ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK"
            " XRANGE XREVRANGE XLEN GEOPOS GEODIST GEOHASH"
        )
    },
    **{name: _all for name in _words("MGET EXISTS SINTER SUNION SDIFF")},
}

#: What a cache stores when ``CacheConfig.commands`` is not given: every cacheable read.
DEFAULT_CACHED_COMMANDS = frozenset(CACHEABLE)

#: Commands that change nothing a cacheable read returns: no invalidation needed.
READ_ONLY = frozenset(
    _words(
        "PING ECHO INFO DBSIZE TIME LASTSAVE ROLE TTL PTTL EXPIRETIME PEXPIRETIME KEYS SCAN"
        " RANDOMKEY DUMP OBJECT TOUCH LCS HSCAN HRANDFIELD SSCAN SRANDMEMBER SINTERCARD"
        " ZSCAN ZRANDMEMBER ZINTER ZUNION ZDIFF ZINTERCARD XINFO XPENDING XREAD PFCOUNT"
        " BITFIELD_RO GEORADIUS_RO GEORADIUSBYMEMBER_RO GEOSEARCH SORT_RO PUBLISH SPUBLISH"
        " PUBSUB COMMAND MEMORY CLIENT CONFIG SLOWLOG LATENCY WAIT WAITAOF"
        " XREADGROUP XGROUP EVAL_RO EVALSHA_RO FCALL_RO SCRIPT"
        " SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE"
        " MULTI EXEC DISCARD WATCH UNWATCH SELECT RESET HELLO AUTH READONLY READWRITE"
    )
)
# MULTI/EXEC: the queued commands are written by the pipeline one by one; EXEC
# itself names no key.  SELECT/RESET change a connection, not data.

#: Commands that replace the whole keyspace: everything cached is dropped.
FLUSHES = frozenset(_words("FLUSHALL FLUSHDB SWAPDB"))

#: Writes and the keys they may change.
WRITE_KEYS: dict[str, KeyFinder] = {
    **{
        name: _first
        for name in _words(
            "SET SETEX PSETEX SETNX APPEND INCR INCRBY INCRBYFLOAT DECR DECRBY GETSET GETDEL"
            " GETEX SETRANGE SETBIT BITFIELD"
            " HSET HSETNX HMSET HDEL HINCRBY HINCRBYFLOAT HEXPIRE HPEXPIRE HEXPIREAT"
            " HPEXPIREAT HPERSIST HGETDEL HGETEX HSETEX"
            " LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LSET LREM LTRIM LINSERT"
            " SADD SREM SPOP"
            " ZADD ZREM ZINCRBY ZPOPMIN ZPOPMAX ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX"
            " EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST RESTORE"
            " XADD XTRIM XDEL XSETID XACK XCLAIM XAUTOCLAIM"
            " PFADD GEOADD SINTERSTORE SUNIONSTORE SDIFFSTORE"
        )
    },
    **{name: _all for name in _words("DEL UNLINK PFMERGE")},
    **{name: _pairs for name in _words("MSET MSETNX")},
    **{
        name: _first_two
        for name in _words("RENAME RENAMENX COPY SMOVE LMOVE RPOPLPUSH BLMOVE BRPOPLPUSH")
    },
    **{name: _all_but_last for name in _words("BLPOP BRPOP BZPOPMIN BZPOPMAX")},
    "BITOP": _from_second,
    "ZRANGESTORE": _first_two,
    "GEOSEARCHSTORE": _first_two,
    "ZINTERSTORE": _numkeys_at(2, dest=True),
    "ZUNIONSTORE": _numkeys_at(2, dest=True),
    "ZDIFFSTORE": _numkeys_at(2, dest=True),
    "LMPOP": _numkeys_at(1),
    "ZMPOP": _numkeys_at(1),
    "BLMPOP": _numkeys_at(2),
    "BZMPOP": _numkeys_at(2),
}
# EVAL, EVALSHA and FCALL are left out on purpose: a script may write keys it
# does not declare, so the cache treats them as unknown writes.


def key_bytes(key: Any) -> bytes:
    """A key argument as the bytes the server sees (how invalidations name it)."""
    kind = key.__class__
    if kind is bytes:
        return key  # type: ignore[no-any-return]
    if kind is str:
        return key.encode()  # type: ignore[no-any-return]
    if isinstance(key, (bytearray, memoryview)):
        return bytes(key)
    if isinstance(key, float):
        return repr(key).encode()
    return str(key).encode()
