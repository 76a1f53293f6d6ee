"""Differential test: the same calls through asyncpool and redis-py give equal results.

Each case runs on one private server twice, from the same starting data
(flushed, then the case's setup run through asyncpool): once through an
asyncpool client (RESP2 and RESP3, decoding or not) and once through a
``redis.asyncio.Redis`` with its defaults (RESP2, ``legacy_responses``) and
the same ``decode_responses``.  The results must be equal (``==``).

Every method both clients have is either compared here, or named in
:data:`DIFFERENCES` (asyncpool deliberately differs; docs/migrating.md lists
each one) or :data:`NOT_COMPARED` (the result cannot be the same twice, or
the call would disturb the server).  ``test_every_shared_method_is_accounted_for``
keeps the three lists complete.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import asyncpool
from asyncpool.client.commands import Commands
from asyncpool.testing import RedisServer
from asyncpool.testing.discovery import find_redis_binary

redis_asyncio = pytest.importorskip("redis.asyncio")


@dataclass(frozen=True)
class Case:
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    setup: tuple[tuple[str, tuple[Any, ...], dict[str, Any]], ...] = ()
    since: tuple[int, ...] = (0,)
    #: only on servers older than this
    before: tuple[int, ...] = (99,)
    #: asyncpool deliberately answers differently (the method is in DIFFERENCES)
    differs: bool | str = False


def S(method: str, *args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """One setup call, made through asyncpool before each side runs."""
    return (method, args, kwargs)


STR = (S("set", "k", "hello"),)
NUM = (S("set", "n", 10),)
LIST = (S("rpush", "l", "a", "b", "c", "b"),)
TWO_LISTS = (*LIST, S("rpush", "l2", "x"))
HASH = (S("hset", "h", mapping={"f1": "v1", "f2": "22"}),)
SET = (S("sadd", "s", "a", "b", "c"), S("sadd", "s2", "b", "c", "d"))
ZSET = (S("zadd", "z", {"a": 1, "b": 2, "c": 3}), S("zadd", "z2", {"b": 5, "d": 4}))
LEX = (S("zadd", "zl", {"a": 0, "b": 0, "c": 0}),)
GEO = (S("geoadd", "g", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"]),)
STREAM = (
    S("xadd", "x", {"f": "1"}, id="1-0"),
    S("xadd", "x", {"f": "2"}, id="2-0"),
    S("xadd", "x", {"f": "3"}, id="3-0"),
    S("xgroup_create", "x", "g", id="0"),
)
READ = (*STREAM, S("xreadgroup", "g", "alice", {"x": ">"}, count=2))
HLL = (S("pfadd", "p", "a", "b", "c"), S("pfadd", "p2", "c", "d"))
LUA = "return {KEYS[1], ARGV[1], 3}"
LIB = "#!lua name=difflib\nredis.register_function('f', function(k, a) return a[1] end)"
FUNC = (S("function_load", LIB),)
ACL_USER = (
    S("acl_setuser", "diff-user", enabled=True, commands=["+get", "+@hash"], keys=["k*"],
      channels=["c*"], reset_channels=True),  # 6.2 starts a user with every channel
)  # fmt: skip

CASES: list[Case] = [
    # strings
    Case("get", ("k",), setup=STR),
    Case("get", ("missing",)),
    Case("set", ("k", "v")),
    Case("set", ("k", "v"), {"nx": True}, setup=STR),
    Case("set", ("k", "v"), {"get": True}, setup=STR),
    Case("set", ("k", "v"), {"ex": 100, "xx": True}, setup=STR),
    Case("mget", (["k", "missing"],), setup=STR),
    Case("mset", ({"a": "1", "b": "2"},)),
    Case("msetnx", ({"k": "1", "b": "2"},), setup=STR),
    Case("setex", ("k", 100, "v")),
    Case("psetex", ("k", 100_000, "v")),
    Case("setnx", ("k", "v"), setup=STR),
    Case("getset", ("k", "v"), setup=STR),
    Case("getdel", ("k",), setup=STR),
    Case("getex", ("k",), {"ex": 100}, setup=STR),
    Case("getrange", ("k", 1, 3), setup=STR),
    Case("setrange", ("k", 1, "EL"), setup=STR),
    Case("substr", ("k", 1, 3), setup=STR),
    Case("strlen", ("k",), setup=STR),
    Case("append", ("k", "!"), setup=STR),
    Case("incr", ("n",), setup=NUM),
    Case("incrby", ("n", 5), setup=NUM),
    Case("incrbyfloat", ("n", 1.5), setup=NUM),
    Case("decr", ("n",), setup=NUM),
    Case("decrby", ("n", 3), setup=NUM),
    Case("lcs", ("k", "k2"), setup=(*STR, S("set", "k2", "yellow")), since=(7,)),
    Case("lcs", ("k", "k2"), {"len": True}, setup=(*STR, S("set", "k2", "yellow")), since=(7,)),
    # bits
    Case("setbit", ("b", 7, 1)),
    Case("getbit", ("k", 1), setup=STR),
    Case("bitcount", ("k",), setup=STR),
    Case("bitcount", ("k", 1, 2), setup=STR),
    Case("bitop", ("AND", "dest", "k", "k"), setup=STR),
    Case("bitpos", ("k", 1), setup=STR),
    Case("bitfield_ro", ("k", "u8", 0), {"items": [("u4", 4)]}, setup=STR),
    # keys
    Case("delete", ("k", "missing"), setup=STR),
    Case("unlink", ("k",), setup=STR),
    Case("exists", ("k", "missing"), setup=STR),
    Case("expire", ("k", 100), setup=STR),
    Case("pexpire", ("k", 100_000), setup=STR),
    Case("expireat", ("k", 4_000_000_000), setup=STR),
    Case("pexpireat", ("k", 4_000_000_000_000), setup=STR),
    Case("expiretime", ("k",), setup=(*STR, S("expireat", "k", 4_000_000_000)), since=(7,)),
    Case("pexpiretime", ("k",), setup=(*STR, S("expireat", "k", 4_000_000_000)), since=(7,)),
    Case("ttl", ("k",), setup=(*STR, S("expire", "k", 100))),
    Case("pttl", ("missing",)),
    Case("persist", ("k",), setup=(*STR, S("expire", "k", 100))),
    Case("rename", ("k", "k3"), setup=STR),
    Case("renamenx", ("k", "n"), setup=(*STR, *NUM)),
    Case("copy", ("k", "k3"), setup=STR),
    Case("move", ("k", 1), setup=STR),
    Case("touch", ("k", "missing"), setup=STR),
    Case("randomkey", (), setup=STR),
    Case("type", ("k",), setup=STR, differs="bytes"),
    Case("keys", ("*",), setup=STR),
    Case("scan", (0,), setup=STR),
    Case("dump", ("missing",)),
    Case("dump", ("k",), setup=STR, differs="str"),
    Case("restore", ("k2", 0, b"\x00\x01x\x0b\x00\x8f\x81\x9a\x14\x1b\x1d\xb7\xc2")),
    Case("object", ("encoding", "n"), setup=NUM),
    Case("object", ("refcount", "n"), setup=NUM),
    Case("sort", ("l",), {"alpha": True}, setup=LIST),
    Case("sort", ("l",), {"alpha": True, "desc": True, "start": 0, "num": 2}, setup=LIST),
    Case("sort_ro", ("l",), {"alpha": True}, setup=LIST, since=(7,)),
    # lists
    Case("lpush", ("l", "z"), setup=LIST),
    Case("rpush", ("l", "z"), setup=LIST),
    Case("lpushx", ("missing", "z")),
    Case("rpushx", ("l", "z"), setup=LIST),
    Case("lpop", ("l",), setup=LIST),
    Case("lpop", ("l", 2), setup=LIST),
    Case("rpop", ("l",), setup=LIST),
    Case("rpop", ("missing", 2)),
    Case("lrange", ("l", 0, -1), setup=LIST),
    Case("llen", ("l",), setup=LIST),
    Case("lrem", ("l", 0, "b"), setup=LIST),
    Case("ltrim", ("l", 0, 1), setup=LIST),
    Case("lindex", ("l", 1), setup=LIST),
    Case("lset", ("l", 0, "A"), setup=LIST),
    Case("linsert", ("l", "BEFORE", "b", "x"), setup=LIST),
    Case("lpos", ("l", "b"), setup=LIST),
    Case("lpos", ("l", "b"), {"count": 0}, setup=LIST),
    Case("lmove", ("l", "l2", "RIGHT", "LEFT"), setup=TWO_LISTS),
    Case("blmove", ("l", "l2", 1, "LEFT", "RIGHT"), setup=TWO_LISTS),
    Case("rpoplpush", ("l", "l2"), setup=TWO_LISTS),
    Case("brpoplpush", ("l", "l2", 1), setup=TWO_LISTS),
    Case("blpop", (["missing", "l"], 1), setup=LIST),
    Case("brpop", (["l"], 1), setup=LIST),
    Case("lmpop", (2, "missing", "l"), {"direction": "LEFT", "count": 2}, setup=LIST, since=(7,)),
    Case("blmpop", (1, 1, "l"), {"direction": "RIGHT"}, setup=LIST, since=(7,)),
    # hashes
    Case("hset", ("h", "f3", "v3"), setup=HASH),
    Case("hset", ("h",), {"mapping": {"f1": "x", "f9": "y"}}, setup=HASH),
    Case("hsetnx", ("h", "f1", "x"), setup=HASH),
    Case("hmset", ("h", {"f1": "x"}), setup=HASH),
    Case("hget", ("h", "f1"), setup=HASH),
    Case("hmget", ("h", ["f1", "nope"]), setup=HASH),
    Case("hgetall", ("h",), setup=HASH),
    Case("hgetall", ("missing",)),
    Case("hdel", ("h", "f1", "nope"), setup=HASH),
    Case("hincrby", ("h", "f2", 3), setup=HASH),
    Case("hincrbyfloat", ("h", "f2", 0.5), setup=HASH),
    Case("hexists", ("h", "f1"), setup=HASH),
    Case("hkeys", ("h",), setup=HASH),
    Case("hvals", ("h",), setup=HASH),
    Case("hlen", ("h",), setup=HASH),
    Case("hstrlen", ("h", "f2"), setup=HASH),
    Case("hscan", ("h",), setup=HASH),
    Case("hrandfield", ("missing",)),
    Case("hexpire", ("h", 100, "f1", "nope"), setup=HASH, since=(7, 4)),
    Case("hpexpire", ("h", 100_000, "f1"), setup=HASH, since=(7, 4)),
    Case("hexpireat", ("h", 4_000_000_000, "f1"), setup=HASH, since=(7, 4)),
    Case("hpexpireat", ("h", 4_000_000_000_000, "f1"), setup=HASH, since=(7, 4)),
    Case("httl", ("h", "f1"), setup=HASH, since=(7, 4)),
    Case("hpttl", ("h", "f1"), setup=HASH, since=(7, 4)),
    Case("hexpiretime", ("h", "f1"), setup=HASH, since=(7, 4)),
    Case("hpexpiretime", ("h", "f1"), setup=HASH, since=(7, 4)),
    Case("hpersist", ("h", "f1"), setup=HASH, since=(7, 4)),
    Case("hgetdel", ("h", "f1", "nope"), setup=HASH, since=(8,)),
    Case("hgetex", ("h", "f1"), {"ex": 100}, setup=HASH, since=(8,)),
    Case("hsetex", ("h", "f5", "v"), {"ex": 100}, setup=HASH, since=(8,)),
    # sets
    Case("sadd", ("s", "a", "z"), setup=SET),
    Case("srem", ("s", "a", "z"), setup=SET),
    Case("smembers", ("s",), setup=SET),
    Case("sismember", ("s", "a"), setup=SET),
    Case("smismember", ("s", ["a", "z"]), setup=SET),
    Case("scard", ("s",), setup=SET),
    Case("sinter", (["s", "s2"],), setup=SET),
    Case("sunion", (["s", "s2"],), setup=SET),
    Case("sdiff", (["s", "s2"],), setup=SET),
    Case("sinterstore", ("out", ["s", "s2"]), setup=SET),
    Case("sunionstore", ("out", ["s", "s2"]), setup=SET),
    Case("sdiffstore", ("out", ["s", "s2"]), setup=SET),
    Case("sintercard", (2, ["s", "s2"]), setup=SET, since=(7,)),
    Case("smove", ("s", "s2", "a"), setup=SET),
    Case("spop", ("missing",)),
    Case("spop", ("s", 3), setup=SET, differs=True),
    Case("srandmember", ("missing",)),
    Case("sscan", ("s",), {"match": "nothing*"}, setup=SET, differs=True),
    # sorted sets
    Case("zadd", ("z", {"a": 5, "q": 1}), setup=ZSET),
    Case("zadd", ("z", {"a": 5}), {"incr": True}, setup=ZSET),
    Case("zrange", ("z", 0, -1), setup=ZSET),
    Case("zrange", ("z", 0, -1), {"withscores": True}, setup=ZSET),
    Case("zrange", ("z", 3, 1), {"desc": True, "byscore": True, "withscores": True}, setup=ZSET),
    Case("zrangebyscore", ("z", 1, 2), setup=ZSET),
    Case("zrangebyscore", ("z", "-inf", "+inf", 1, 1), {"withscores": True}, setup=ZSET),
    Case("zrevrangebyscore", ("z", 3, 2), {"withscores": True}, setup=ZSET),
    Case("zrevrange", ("z", 0, 1), setup=ZSET),
    Case("zrevrange", ("z", 0, 1), {"withscores": True}, setup=ZSET),
    Case("zrangebylex", ("zl", "[b", "+"), setup=LEX),
    Case("zrevrangebylex", ("zl", "+", "-", 0, 2), setup=LEX),
    Case("zlexcount", ("zl", "-", "+"), setup=LEX),
    Case("zremrangebylex", ("zl", "[a", "[b"), setup=LEX),
    Case("zremrangebyscore", ("z", 1, 2), setup=ZSET),
    Case("zremrangebyrank", ("z", 0, 0), setup=ZSET),
    Case("zrangestore", ("out", "z", 0, 1), setup=ZSET),
    Case("zrem", ("z", "a", "nope"), setup=ZSET),
    Case("zscore", ("z", "b"), setup=ZSET),
    Case("zmscore", ("z", ["a", "nope"]), setup=ZSET),
    Case("zincrby", ("z", 2.5, "a"), setup=ZSET),
    Case("zcard", ("z",), setup=ZSET),
    Case("zcount", ("z", 2, "+inf"), setup=ZSET),
    Case("zrank", ("z", "c"), setup=ZSET),
    Case("zrevrank", ("z", "c"), setup=ZSET),
    Case("zpopmin", ("z",), setup=ZSET),
    Case("zpopmax", ("z", 2), setup=ZSET),
    Case("bzpopmin", (["missing", "z"], 1), setup=ZSET),
    Case("bzpopmax", (["z"], 1), setup=ZSET),
    Case("zunionstore", ("out", ["z", "z2"]), setup=ZSET),
    Case("zinterstore", ("out", {"z": 1, "z2": 2}), {"aggregate": "MAX"}, setup=ZSET),
    Case("zdiffstore", ("out", ["z", "z2"]), setup=ZSET),
    Case("zunion", (["z", "z2"],), setup=ZSET),
    Case("zunion", (["z", "z2"],), {"withscores": True}, setup=ZSET),
    Case("zinter", (["z", "z2"],), {"withscores": True}, setup=ZSET),
    Case("zdiff", (["z", "z2"],), setup=ZSET),
    Case("zdiff", (["z", "z2"],), {"withscores": True}, setup=ZSET, differs=True),
    Case("zintercard", (2, ["z", "z2"]), setup=ZSET, since=(7,)),
    Case(
        "zmpop",
        (2, ["missing", "z"]),
        {"min": True, "count": 2},
        setup=ZSET,
        since=(7,),
        differs=True,
    ),
    Case("bzmpop", (1, 1, ["z"]), {"max": True}, setup=ZSET, since=(7,), differs=True),
    Case("zrandmember", ("missing",)),
    # score_cast_func is given a float, not the raw reply
    Case(
        "zrange",
        ("z", 0, -1),
        {"withscores": True, "score_cast_func": str},
        setup=ZSET,
        differs=True,
    ),
    Case(
        "zrangebyscore",
        ("z", 0, 9),
        {"withscores": True, "score_cast_func": str},
        setup=ZSET,
        differs=True,
    ),
    Case(
        "zrevrangebyscore",
        ("z", 9, 0),
        {"withscores": True, "score_cast_func": str},
        setup=ZSET,
        differs=True,
    ),
    Case(
        "zrevrange",
        ("z", 0, -1),
        {"withscores": True, "score_cast_func": str},
        setup=ZSET,
        differs=True,
    ),
    Case(
        "zunion",
        (["z", "z2"],),
        {"withscores": True, "score_cast_func": str},
        setup=ZSET,
        differs=True,
    ),
    Case("zscan", ("z",), {"score_cast_func": str}, setup=ZSET, differs=True),
    Case(
        "zrank",
        ("z", "b"),
        {"withscore": True, "score_cast_func": str},
        setup=ZSET,
        since=(7, 2),
        differs=True,
    ),
    Case(
        "zrevrank",
        ("z", "b"),
        {"withscore": True, "score_cast_func": str},
        setup=ZSET,
        since=(7, 2),
        differs=True,
    ),
    Case("zscan", ("z",), setup=ZSET),
    # hyperloglog
    Case("pfadd", ("p", "z"), setup=HLL),
    Case("pfcount", ("p", "p2"), setup=HLL),
    Case("pfmerge", ("p3", "p", "p2"), setup=HLL),
    # geo
    Case("geoadd", ("g", [13.0, 38.0, "Palermo"]), {"ch": True}, setup=GEO),
    Case("geodist", ("g", "Palermo", "Catania", "km"), setup=GEO),
    Case("geohash", ("g", "Palermo", "nope"), setup=GEO),
    Case("georadius", ("g", 15, 37, 200, "km"), {"sort": "ASC"}, setup=GEO),
    Case("georadiusbymember", ("g", "Palermo", 300, "km"), {"sort": "DESC"}, setup=GEO),
    Case("georadius", ("g", 15, 37, 200, "km"), {"store": "out"}, setup=GEO),
    Case(
        "geosearch",
        ("g",),
        {"member": "Palermo", "radius": 300, "unit": "km", "sort": "ASC"},
        setup=GEO,
    ),
    Case(
        "geosearchstore",
        ("out", "g"),
        {"longitude": 15, "latitude": 37, "radius": 100, "unit": "km"},
        setup=GEO,
    ),
    # streams
    Case("xadd", ("x", {"f": "4"}), {"id": "9-0"}, setup=STREAM),
    Case("xrange", ("x",), setup=STREAM),
    Case("xrange", ("x", "2-0", "+", 1), setup=STREAM),
    Case("xrevrange", ("x",), setup=STREAM),
    Case("xlen", ("x",), setup=STREAM),
    Case("xdel", ("x", "1-0", "9-0"), setup=STREAM),
    Case("xtrim", ("x", 1), {"approximate": False}, setup=STREAM),
    Case("xread", ({"x": "1-0"},), setup=STREAM, differs=True),
    Case("xread", ({"x": "$"},), {"block": 10}, setup=STREAM, differs=True),
    Case("xreadgroup", ("g", "bob", {"x": ">"}), {"count": 1}, setup=STREAM, differs=True),
    Case("xgroup_create", ("x", "g2"), {"id": "0"}, setup=STREAM),
    Case("xgroup_destroy", ("x", "g"), setup=STREAM),
    Case("xgroup_setid", ("x", "g", "0"), setup=STREAM),
    Case("xgroup_createconsumer", ("x", "g", "zed"), setup=STREAM),
    Case("xgroup_delconsumer", ("x", "g", "alice"), setup=READ),
    Case("xack", ("x", "g", "1-0", "9-0"), setup=READ),
    Case("xpending", ("x", "g"), setup=READ),
    Case("xclaim", ("x", "g", "bob", 0, ["1-0"]), {"justid": True}, setup=READ),
    Case("xinfo_groups", ("x",), setup=READ),
    Case("xinfo_stream", ("x",), setup=READ),
    Case("acl_getuser", ("diff-user",), setup=ACL_USER, since=(7,)),
    # Redis 6.2 sends key and channel patterns as arrays, which redis-py leaves as bytes
    Case("acl_getuser", ("diff-user",), setup=ACL_USER, before=(7,), differs="bytes"),
    Case("function_list", (), setup=FUNC, since=(7,), differs=True),
    Case("xautoclaim", ("x", "g", "bob", 0), {"justid": True}, setup=READ, differs=True),
    Case("xdelex", ("x", "1-0"), setup=STREAM, since=(8, 2)),
    Case("xackdel", ("x", "g", "1-0"), setup=READ, since=(8, 2)),
    # scripting, functions, pub/sub
    Case("eval", (LUA, 1, "key", "arg")),
    Case("eval_ro", (LUA, 1, "key", "arg"), since=(7,)),
    Case(
        "evalsha",
        ("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", 1, "key", "arg"),
        setup=(S("script_load", LUA),),
    ),
    Case(
        "evalsha_ro",
        ("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", 1, "key", "arg"),
        setup=(S("script_load", LUA),),
        since=(7,),
    ),
    Case("script_load", (LUA,)),
    Case(
        "script_exists",
        ("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0" * 40),
        setup=(S("script_load", LUA),),
    ),
    Case("fcall", ("f", 0, "x"), setup=FUNC, since=(7,)),
    Case("fcall_ro", ("f", 0, "x"), setup=FUNC, since=(7,)),
    Case("function_load", (LIB,), since=(7,)),
    Case("function_delete", ("difflib",), setup=FUNC, since=(7,)),
    Case("function_flush", (), setup=FUNC, since=(7,)),
    Case("function_dump", (), setup=FUNC, since=(7,), differs="str"),
    Case("publish", ("nobody-listens", "m")),
    Case("spublish", ("nobody-listens", "m"), since=(7,)),
    Case("pubsub_channels", ("nobody*",)),
    Case("pubsub_shardchannels", ("nobody*",), since=(7,)),
    Case("pubsub_numsub", ("a", "b")),
    Case("pubsub_shardnumsub", ("a",), since=(7,)),
    Case("pubsub_numpat", ()),
    # server
    Case("ping", ()),
    Case("echo", ("hi",)),
    Case("dbsize", (), setup=STR),
    Case("flushdb", (), setup=STR),
    Case("config_get", ("maxmemory",)),
    Case("config_set", ("maxmemory-samples", 5)),
    Case("command_count", ()),
    Case("command_getkeys", ("MSET", "a", "1", "b", "2")),
    Case("command_getkeysandflags", ("LMOVE", "a", "b", "LEFT", "RIGHT"), since=(7,), differs=True),
    Case("command_list", (), {"pattern": "xinfo*"}, since=(7,)),
    Case("acl_cat", ("hyperloglog",)),
    Case("acl_whoami", ()),
    Case("acl_users", ()),
    Case("acl_list", ()),
    Case("acl_deluser", ("nobody",)),
    Case("acl_dryrun", ("default", "GET", "k"), since=(7,)),
    Case("acl_setuser", ("diff-user",), {"enabled": True, "commands": ["+get"], "keys": ["k*"]}),
    Case("memory_usage", ("missing",)),
    Case("client_getname", ()),
    Case("client_setname", ("differential",)),
    Case("client_getredir", ()),
    Case("client_unblock", (999_999,)),
    Case("client_kill_filter", (), {"_id": 999_999}),
    Case("latency_latest", ()),
    Case("latency_reset", ()),
    Case("slowlog_len", (), setup=(S("slowlog_reset"),)),
    Case("wait", (0, 1)),
    Case("role", ()),
    Case("module_list", ()),
    Case("script_flush", ()),
    Case("swapdb", (0, 1)),
    Case("lastsave", ()),
    Case("memory_purge", ()),
    Case("config_resetstat", ()),
    Case("client_no_evict", ("off",)),
    Case("client_no_touch", ("off",), since=(7, 2)),
    Case("client_setinfo", ("lib-name", "x"), since=(7, 2)),
    Case("acl_log_reset", ()),
    Case("slowlog_reset", ()),
]

#: Methods whose results differ from redis-py's on purpose (docs/migrating.md).
DIFFERENCES: dict[str, str] = {
    "type": "TYPE is a str ('string', 'hash', ...) whatever decode_responses says",
    "sscan": "a batch of members is a set (as smembers), not a list",
    "spop": "with count: a set of members (as smembers), not a list",
    "zdiff": "withscores gives (member, float score) pairs, as zrange does",
    "zmpop": "scores are float, as in every other sorted-set reply",
    "bzmpop": "scores are float, as in every other sorted-set reply",
    "xread": "a dict {stream: entries} in both protocols (redis-py: RESP2 a list of pairs)",
    "xreadgroup": "a dict {stream: entries} in both protocols, as xread",
    "xautoclaim": "always (next id, claimed, deleted ids), also with justid",
    "command_getkeysandflags": "each key's flags are a set of str, in both protocols",
    "function_list": "one dict per library (str keys), not RESP2's nested flat lists",
    "acl_getuser": "keys and channels are lists of str on every server version",
    "dump": "binary payload: DecodeError (or str) with decode_responses=True, not bytes",
    "function_dump": "binary payload: DecodeError (or str) with decode_responses=True",
    "zrange": "score_cast_func is given a float, not the raw reply",
    "zrangebyscore": "score_cast_func is given a float, not the raw reply",
    "zrevrangebyscore": "score_cast_func is given a float, not the raw reply",
    "zrevrange": "score_cast_func is given a float, not the raw reply",
    "zunion": "score_cast_func is given a float, not the raw reply",
    "zscan": "score_cast_func is given a float, not the raw reply",
    "zrank": "score_cast_func is given a float, not the raw reply",
    "zrevrank": "score_cast_func is given a float, not the raw reply",
}

#: Methods not compared, and why (the result cannot repeat, or the call disturbs the server).
NOT_COMPARED: dict[str, str] = {
    "info": "counters change between the two calls",
    "time": "the clock moves between the two calls",
    "client_id": "each client has its own connection id",
    "client_info": "each client has its own connection",
    "client_list": "each client has its own connections",
    "client_kill": "would close one of the two clients' connections",
    "client_pause": "pauses the server for both clients",
    "client_unpause": "paired with client_pause",
    "client_trackinginfo": "per connection",
    "memory_stats": "allocator figures change between calls",
    "memory_malloc_stats": "allocator figures change between calls",
    "memory_doctor": "text that depends on the moment",
    "memory_help": "help text, no shape to compare",
    "latency_doctor": "text that depends on the moment",
    "latency_graph": "needs a latency event (tested in test_commands_server_more)",
    "latency_histogram": "counts change with every command",
    "latency_history": "needs a latency event (tested in test_commands_server_more)",
    "slowlog_get": "entries hold each client's own address and timing",
    "lolwut": "random art",
    "acl_genpass": "random",
    "acl_help": "help text, no shape to compare",
    "acl_log": "ages and client ids differ",
    "acl_load": "needs an ACL file (an error both ways)",
    "acl_save": "needs an ACL file (an error both ways)",
    "command": "the same table; redis-py's own parsing of COMMAND changes between releases",
    "command_docs": "redis-py leaves RESP2 COMMAND DOCS as nested flat lists",
    "flushall": "used between the runs",
    "save": "disk I/O; tested in test_commands_server_more",
    "bgsave": "races with the other run's background save",
    "bgrewriteaof": "races with the other run's background rewrite",
    "config_rewrite": "writes the config file; tested in test_commands_server_more",
    "debug_object": "needs enable-debug-command; addresses differ",
    "replicaof": "changes replication; tested in test_commands_server_more",
    "slaveof": "changes replication; tested in test_commands_server_more",
    "migrate": "needs a second server; tested in test_commands_server_more",
    "module_load": "no module to load (an error both ways)",
    "module_loadex": "no module to load (an error both ways)",
    "module_unload": "no module to unload (an error both ways)",
    "waitaof": "needs appendonly",
    "script_kill": "needs a busy script (tested in test_commands_functions)",
    "function_kill": "needs a busy function",
    "function_restore": "tested in test_commands_functions",
    "function_stats": "running-script state changes",
    "hrandfield": "random; the missing-key case is compared",
    "zrandmember": "random; the missing-key case is compared",
    "bitfield": "a builder object, not a reply; its BITFIELD reply is compared via bitfield_ro",
    "scan_iter": "an async iterator; scan is compared",
    "sscan_iter": "an async iterator; sscan is compared",
    "zscan_iter": "an async iterator; zscan is compared",
    "hscan_iter": "an async iterator; hscan is compared",
    "xinfo_consumers": "idle times differ between the two runs",
    "xpending_range": "idle times differ between the two runs",
    "geopos": "floats differ in the last digits between parsers",
}


def _covered() -> set[str]:
    return {case.method for case in CASES}


def test_every_shared_method_is_accounted_for() -> None:
    shared = {n for n in dir(Commands) if not n.startswith("_")} & {
        n for n in dir(redis_asyncio.Redis) if not n.startswith("_")
    }
    accounted = _covered() | set(DIFFERENCES) | set(NOT_COMPARED)
    assert sorted(shared - accounted) == []
    assert sorted(set(DIFFERENCES) & set(NOT_COMPARED)) == []
    shown = {case.method for case in CASES if case.differs}
    assert shown == set(DIFFERENCES)  # each difference is demonstrated by a case


@pytest.fixture(scope="module")
def diff_server() -> Iterator[RedisServer]:
    binary = find_redis_binary()
    if binary is None:
        pytest.skip("no redis-server binary")
    server = RedisServer(binary).start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(params=[False, True], ids=["bytes", "str"])
def decode(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
async def pair(
    diff_server: RedisServer, protocol: int, decode: bool
) -> AsyncIterator[tuple[asyncpool.Redis, Any]]:
    ours = asyncpool.Redis.from_url(diff_server.url, protocol=protocol, decode_responses=decode)
    theirs = redis_asyncio.Redis.from_url(diff_server.url, decode_responses=decode)
    async with ours:
        try:
            yield ours, theirs
        finally:
            await theirs.aclose()


async def _run(client: Any, case: Case, ours: asyncpool.Redis) -> Any:
    """Reset the server, run the setup through asyncpool, then the call through ``client``."""
    await ours.flushall()
    await ours.script_flush()
    version = await _version(ours)
    if version >= (7,):
        await ours.function_flush()
    for method, args, kwargs in case.setup:
        await getattr(ours, method)(*args, **kwargs)
    try:
        return await getattr(client, case.method)(*case.args, **case.kwargs)
    except Exception as exc:  # both must fail alike: same class name, same message
        message = str(exc)
        code, _, rest = message.partition(" ")
        if client is ours and code.isupper():  # asyncpool keeps Redis's error code
            message = rest
        return ("error", type(exc).__name__, message)


async def _version(client: asyncpool.Redis) -> tuple[int, ...]:
    info = await client.info("server")
    return tuple(int(p) for p in str(info["redis_version"]).split("."))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.method}-{i}" for i, c in enumerate(CASES)])
async def test_same_result_as_redis_py(pair: tuple[asyncpool.Redis, Any], case: Case) -> None:
    ours, theirs = pair
    version = await _version(ours)
    if not case.since <= version < case.before:
        pytest.skip(f"{case.method}: this case is for Redis {case.since} to {case.before}")
    expected = await _run(theirs, case, ours)
    got = await _run(ours, case, ours)
    decoding = ours.pool.connection_options.decode_responses
    if case.differs is True or case.differs == ("str" if decoding else "bytes"):
        assert case.method in DIFFERENCES
        assert got != expected, f"{case.method} no longer differs: drop it from DIFFERENCES"
    else:
        assert got == expected
