#!/usr/bin/env python3
"""Regenerate ``asyncpool/keyspec_table.py`` from real servers' ``COMMAND INFO``.

    python scripts/gen_keyspec.py /usr/bin/redis-server path/to/redis-server-8.2 ...

Each binary is started on a free loopback port (``asyncpool.testing``), asked
``COMMAND INFO`` (every command and subcommand with its key specifications,
flags and tips), and stopped.  Later binaries win for commands several know,
so list them oldest first.  The output is a plain Python module of literals.
"""

from __future__ import annotations

import pprint
import sys
from pathlib import Path
from typing import Any

from asyncpool.testing.discovery import redis_version
from asyncpool.testing.server import RedisServer

OUT = Path(__file__).resolve().parent.parent / "asyncpool" / "keyspec_table.py"

HEADER = '''"""Key specifications of every Redis command (generated; do not edit).

Regenerate with ``python scripts/gen_keyspec.py <redis-server binaries...>``.
Source: ``COMMAND INFO`` of {sources}.

``SPECS`` maps a lower-case command name (``"object|encoding"`` for a
subcommand) to its key specs, each a tuple
``(begin, startfrom, find, a, b, c, incomplete)``: ``begin`` is the index
(``int``) or the keyword (``str``, searched from ``startfrom``) after which
keys start; ``find`` is ``"range"`` (``a``=lastkey, ``b``=keystep,
``c``=limit) or ``"keynum"`` (``a``=keynumidx, ``b``=firstkey, ``c``=keystep);
``incomplete`` marks specs that cannot find every key by themselves.
"""

# fmt: off
'''


def _pairs(flat: list[Any]) -> dict[str, Any]:
    return {str(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def _spec(raw: list[Any]) -> tuple[Any, ...] | None:
    spec = _pairs(raw)
    flags = [str(f).lower() for f in spec.get("flags", [])]
    begin, find = _pairs(spec["begin_search"]), _pairs(spec["find_keys"])
    bspec, fspec = _pairs(begin["spec"] or []), _pairs(find["spec"] or [])
    if begin["type"] == "index":
        start: int | str = int(bspec["index"])
        startfrom = 0
    elif begin["type"] == "keyword":
        start, startfrom = str(bspec["keyword"]).upper(), int(bspec["startfrom"])
    else:
        return None  # "unknown": left to the hand-written special cases
    if find["type"] == "range":
        abc = (int(fspec["lastkey"]), int(fspec["keystep"]), int(fspec["limit"]))
    elif find["type"] == "keynum":
        abc = (int(fspec["keynumidx"]), int(fspec["firstkey"]), int(fspec["keystep"]))
    else:
        return None
    return (start, startfrom, find["type"], *abc, "incomplete" in flags)


def collect(binary: str) -> tuple[dict[str, Any], set[str], dict[str, str], dict[str, str]]:
    """Ask one server for its command table."""
    specs: dict[str, Any] = {}
    readonly: set[str] = set()
    request: dict[str, str] = {}
    response: dict[str, str] = {}
    with RedisServer(binary) as server:
        table = _text(server.command("COMMAND", "INFO", timeout=10))
    assert isinstance(table, list)

    def visit(entry: list[Any]) -> None:
        name = str(entry[0]).lower()
        flags = {str(f).lower() for f in entry[2]}
        if "readonly" in flags:
            readonly.add(name)
        for tip in entry[7] if len(entry) > 7 else []:
            kind, _, value = str(tip).partition(":")
            if kind == "request_policy":
                request[name] = value
            elif kind == "response_policy":
                response[name] = value
        raw_specs = entry[8] if len(entry) > 8 else []
        specs[name] = tuple(s for s in (_spec(r) for r in raw_specs) if s is not None)
        for sub in entry[9] if len(entry) > 9 else []:
            visit(sub)

    for entry in table:
        if entry:
            visit(entry)
    return specs, readonly, request, response


def main(binaries: list[str]) -> int:
    if not binaries:
        print(__doc__)
        return 2
    specs: dict[str, Any] = {}
    readonly: set[str] = set()
    request: dict[str, str] = {}
    response: dict[str, str] = {}
    sources = []
    for binary in (str(Path(b).absolute()) for b in binaries):
        s, ro, req, resp = collect(binary)
        for name in s:  # the newer server's view of a command replaces the older one's
            readonly.discard(name)
            request.pop(name, None)
            response.pop(name, None)
        specs.update(s)
        readonly |= ro
        request.update(req)
        response.update(resp)
        sources.append("Redis " + ".".join(map(str, redis_version(binary))))
    containers = sorted({n.split("|")[0] for n in specs if "|" in n})
    body = [
        HEADER.format(sources=", ".join(sources)),
        f"SPECS = {pprint.pformat(dict(sorted(specs.items())), width=100)}\n",
        f"CONTAINERS = {pprint.pformat(frozenset(containers), width=100)}\n",
        f"READONLY = {pprint.pformat(frozenset(sorted(readonly)), width=100)}\n",
        f"REQUEST_POLICY = {pprint.pformat(dict(sorted(request.items())), width=100)}\n",
        f"RESPONSE_POLICY = {pprint.pformat(dict(sorted(response.items())), width=100)}\n",
        "# fmt: on\n",
    ]
    OUT.write_text("\n".join(body))
    print(f"wrote {OUT}: {len(specs)} commands from {', '.join(sources)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
