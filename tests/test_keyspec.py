"""Key positions from the generated key-spec table, checked against a real server.

Each sample command is sent to ``COMMAND GETKEYS`` on the session server; the
keys the server names must be exactly the arguments at ``key_indices``.
"""

from __future__ import annotations

import pytest

from asyncpool.keyspec import (
    command_key,
    is_known,
    is_readonly,
    key_indices,
    request_policy,
    response_policy,
)
from asyncpool.testing.raw import RawError

SAMPLES: list[tuple[str, ...]] = [
    ("GET", "k"),
    ("SET", "k", "v", "EX", "10"),
    ("MGET", "a", "b", "c"),
    ("MSET", "a", "1", "b", "2", "c", "3"),
    ("MSETNX", "a", "1", "b", "2"),
    ("DEL", "a", "b"),
    ("UNLINK", "a", "b", "c"),
    ("EXISTS", "a", "b"),
    ("TOUCH", "a"),
    ("RENAME", "a", "b"),
    ("COPY", "a", "b", "REPLACE"),
    ("SMOVE", "s1", "s2", "m"),
    ("LMOVE", "l1", "l2", "LEFT", "RIGHT"),
    ("BLMOVE", "l1", "l2", "LEFT", "RIGHT", "0"),
    ("RPOPLPUSH", "l1", "l2"),
    ("BLPOP", "l1", "l2", "l3", "0"),
    ("BRPOP", "l1", "0"),
    ("BZPOPMIN", "z1", "z2", "1"),
    ("LMPOP", "2", "l1", "l2", "LEFT", "COUNT", "3"),
    ("BLMPOP", "0", "3", "l1", "l2", "l3", "RIGHT"),
    ("ZMPOP", "1", "z", "MIN"),
    ("BZMPOP", "0.5", "2", "z1", "z2", "MAX"),
    ("SINTERCARD", "2", "s1", "s2", "LIMIT", "5"),
    ("ZINTERCARD", "3", "z1", "z2", "z3"),
    ("ZUNIONSTORE", "dest", "2", "z1", "z2", "WEIGHTS", "1", "2"),
    ("ZINTERSTORE", "dest", "1", "z1"),
    ("ZDIFFSTORE", "dest", "2", "z1", "z2"),
    ("ZUNION", "2", "z1", "z2", "WITHSCORES"),
    ("ZDIFF", "2", "z1", "z2"),
    ("ZRANGESTORE", "dst", "src", "0", "-1"),
    ("SUNIONSTORE", "dest", "s1", "s2", "s3"),
    ("SDIFF", "s1", "s2"),
    ("BITOP", "AND", "dest", "k1", "k2", "k3"),
    ("BITCOUNT", "k", "0", "-1"),
    ("PFCOUNT", "h1", "h2"),
    ("PFMERGE", "dest", "h1", "h2"),
    ("EVAL", "return 1", "2", "k1", "k2", "a1", "a2"),
    ("EVAL", "return 1", "0"),
    ("EVALSHA", "0123456789abcdef0123456789abcdef01234567", "1", "k1", "arg"),
    ("EVAL_RO", "return 1", "1", "k1"),
    ("FCALL", "f", "2", "k1", "k2", "x"),
    ("FCALL_RO", "f", "1", "k1"),
    ("XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"),
    ("XREAD", "BLOCK", "0", "STREAMS", "s1", "$"),
    ("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s1", "s2", ">", ">"),
    ("XADD", "s", "*", "f", "v"),
    ("XACK", "s", "g", "1-0"),
    ("XINFO", "STREAM", "s", "FULL"),
    ("XINFO", "GROUPS", "s"),
    ("XINFO", "CONSUMERS", "s", "g"),
    ("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
    ("XGROUP", "DESTROY", "s", "g"),
    ("XAUTOCLAIM", "s", "g", "c", "10", "0"),
    ("OBJECT", "ENCODING", "k"),
    ("OBJECT", "FREQ", "k"),
    ("MEMORY", "USAGE", "k", "SAMPLES", "5"),
    ("MIGRATE", "127.0.0.1", "7000", "k", "0", "1000"),
    ("MIGRATE", "127.0.0.1", "7000", "", "0", "1000", "COPY", "KEYS", "a", "b"),
    ("MIGRATE", "127.0.0.1", "7000", "", "0", "1000", "AUTH", "keys", "KEYS", "a"),
    ("MIGRATE", "127.0.0.1", "7000", "", "0", "1000", "AUTH2", "u", "p", "KEYS", "a", "b"),
    ("SORT", "k"),
    ("SORT", "k", "BY", "w_*", "LIMIT", "0", "10", "GET", "o_*", "STORE", "dst"),
    ("SORT", "k", "GET", "store", "ALPHA"),
    ("SORT", "k", "STORE", "d1", "STORE", "d2"),
    ("SORT_RO", "k", "BY", "w_*"),
    ("GEORADIUS", "g", "0", "0", "10", "km", "STORE", "dst"),
    ("GEORADIUS", "g", "0", "0", "10", "km", "STOREDIST", "dst"),
    ("GEORADIUSBYMEMBER", "g", "m", "10", "km"),
    ("GEOSEARCHSTORE", "dst", "src", "FROMMEMBER", "m", "BYRADIUS", "1", "km"),
    ("LCS", "a", "b"),
    ("WATCH", "a", "b"),
    ("RESTORE", "k", "0", "payload"),
    ("HSET", "h", "f", "v"),
    ("HMGET", "h", "f1", "f2"),
    ("ZADD", "z", "1", "m"),
    ("LPUSH", "l", "a", "b"),
    ("SETRANGE", "k", "0", "v"),
    ("GETEX", "k", "PERSIST"),
    ("EXPIRE", "k", "10"),
    ("PUBLISH", "ch", "msg"),
    ("PING",),
    ("INFO", "server"),
    ("DBSIZE",),
]


def _server_keys(redis_server: object, args: tuple[str, ...]) -> list[str] | None:
    reply = redis_server.command("COMMAND", "GETKEYS", *args)  # type: ignore[attr-defined]
    if isinstance(reply, RawError):
        return None  # keyless: the server refuses GETKEYS for it
    assert isinstance(reply, list)
    return [k.decode() if isinstance(k, bytes) else str(k) for k in reply]


@pytest.mark.parametrize("args", SAMPLES, ids=lambda a: " ".join(a)[:40])
def test_key_indices_match_command_getkeys(redis_server: object, args: tuple[str, ...]) -> None:
    known = redis_server.command("COMMAND", "INFO", args[0])  # type: ignore[attr-defined]
    if known == [None]:
        pytest.skip(f"this server does not know {args[0]}")
    expected = _server_keys(redis_server, args) or []
    got = [args[i] for i in key_indices(args)]
    if _major(redis_server) < 7:  # before key specs: other order, and AUTH's value not skipped
        if "AUTH" in args:
            pytest.skip("Redis 6 takes AUTH's value for the KEYS keyword")
        got, expected = sorted(got), sorted(expected)
    assert got == expected


def _major(redis_server: object) -> int:
    info = redis_server.command("INFO", "server")  # type: ignore[attr-defined]
    assert isinstance(info, bytes)
    version = info.split(b"redis_version:")[1].split(b".")[0]
    return int(version)


def test_names_match_in_any_case_as_str_or_bytes() -> None:
    args = ("zunionstore", "d", "2", "a", "b")
    assert key_indices(args) == (1, 3, 4)
    assert key_indices(("ZunionStore", "d", "2", "a", "b")) == (1, 3, 4)
    assert key_indices((b"ZUNIONSTORE", b"d", b"2", b"a", b"b")) == (1, 3, 4)
    assert key_indices((b"xInfo", b"stream", b"s")) == (2,)
    assert key_indices((b"get", b"k")) == (1,)


def test_shard_channels_route_like_keys() -> None:
    # COMMAND GETKEYS leaves out "not_key" specs, but a shard channel hashes to a slot.
    assert key_indices(("SPUBLISH", "ch", "msg")) == (1,)
    assert key_indices(("SSUBSCRIBE", "a", "b")) == (1, 2)


def test_numkeys_may_be_an_int() -> None:
    assert key_indices(("EVALSHA", "sha", 2, "k1", "k2", "a")) == (3, 4)


def test_unknown_short_and_malformed_commands_have_no_keys() -> None:
    assert key_indices(()) == ()
    assert key_indices(("NOSUCHCOMMAND", "a")) == ()
    assert key_indices(("GET",)) == ()
    assert key_indices(("OBJECT",)) == ()
    assert key_indices(("OBJECT", "NOSUCH", "k")) == ()
    assert key_indices(("EVAL", "s", "notanumber", "k")) == ()
    assert key_indices(("EVAL", "s", "5", "k")) == ()  # numkeys beyond the arguments
    assert key_indices(("XREAD", "COUNT", "1")) == ()


def test_newer_commands_come_from_the_newer_server() -> None:
    assert key_indices(("HGETEX", "h", "EX", "10", "FIELDS", "1", "f")) == (1,)
    assert key_indices(("WAITAOF", "1", "0", "0")) == ()
    assert is_known(("XACKDEL", "s", "g", "IDS", "1", "1-0"))


def test_flags_and_tips() -> None:
    assert is_readonly(("GET", "k"))
    assert is_readonly((b"xinfo", b"stream", b"s"))
    assert not is_readonly(("SET", "k", "v"))
    assert not is_readonly(("EVAL", "s", "0"))
    assert request_policy(("DBSIZE",)) == "all_shards"
    assert response_policy(("DBSIZE",)) == "agg_sum"
    assert request_policy(("SCRIPT", "LOAD", "x")) == "all_nodes"
    assert request_policy(("GET", "k")) is None
    assert command_key((b"Object", b"Encoding", b"k")) == "object|encoding"
    assert command_key(("nosuch",)) == "nosuch"
