"""Where the keys of a Redis command are: positions from Redis's own key specs.

:func:`key_indices` answers for every command and subcommand Redis 7.0 and
8.2 know, from the generated table in :mod:`asyncpool.keyspec_table` (see
``scripts/gen_keyspec.py``).  It follows the server's own algorithm
(``getKeysUsingKeySpecs``): a spec begins at an index or after a keyword
(``XREAD ... STREAMS``), then takes a range of keys (to the end, or half the
rest for ``XREAD``) or a counted run (``EVAL``'s ``numkeys``).  The few
commands whose specs say they are incomplete (``SORT ... STORE``,
``MIGRATE ... KEYS``) get the server's hand-written rules.

Shard channels (``SPUBLISH``, ``SSUBSCRIBE``) count as keys: they hash to a
slot like keys do.  This module is the lowest layer: it imports nothing from
asyncpool, and a lookup is one dict access for most commands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from .keyspec_table import CONTAINERS, READONLY, REQUEST_POLICY, RESPONSE_POLICY, SPECS

__all__ = [
    "command_key",
    "is_known",
    "is_readonly",
    "key_indices",
    "request_policy",
    "response_policy",
]

_Spec = tuple[Any, ...]
_Special = Callable[[Sequence[Any]], tuple[int, ...]]
#: int: one key at that index; tuple: specs to search; callable: special rule;
#: dict: a container command, by lower-case subcommand name.
_Entry: TypeAlias = "int | tuple[_Spec, ...] | _Special | dict[str, Any]"


def _word(arg: Any) -> str | None:
    """``arg`` upper-cased when it is text, else ``None``."""
    if isinstance(arg, str):
        return arg.upper()
    if isinstance(arg, (bytes, bytearray, memoryview)):
        try:
            return bytes(arg).decode("ascii").upper()
        except UnicodeDecodeError:
            return None
    return None


def _int(arg: Any) -> int | None:
    if isinstance(arg, int) and not isinstance(arg, bool):
        return arg
    try:
        if isinstance(arg, (bytes, bytearray, memoryview)):
            return int(bytes(arg))
        if isinstance(arg, str):
            return int(arg)
    except ValueError:
        return None
    return None


def _search(specs: tuple[_Spec, ...], args: Sequence[Any]) -> tuple[int, ...]:
    """Redis's ``getKeysUsingKeySpecs`` over ``args`` (``args[0]`` is the name)."""
    argc = len(args)
    out: list[int] = []
    for begin, startfrom, find, a, b, c, _incomplete in specs:
        if isinstance(begin, int):
            first = begin
        else:  # a keyword, searched forward from startfrom or backward from the end
            first = 0
            if startfrom > 0:
                indices: range = range(startfrom, argc)
            else:
                indices = range(argc + startfrom, 0, -1)
            for i in indices:
                if 1 <= i < argc and _word(args[i]) == begin:
                    first = i + 1
                    break
            if not first:
                continue
        if find == "range":
            step = b
            if a >= 0:
                last = first + a
            elif not c:
                last = argc + a
            else:
                last = first + ((argc - first) // c + a)
        else:  # keynum
            step = c
            if first + a >= argc:
                continue
            count = _int(args[first + a])
            if count is None or count < 0:
                continue
            first += b
            last = first + count - 1
        if last >= argc or last < first or first >= argc:
            continue
        out.extend(range(first, last + 1, step))
    return tuple(out)


def _sort_keys(args: Sequence[Any]) -> tuple[int, ...]:
    """SORT: the key, and the last ``STORE`` destination (BY/GET/LIMIT values skipped)."""
    if len(args) < 2:
        return ()
    store = None
    skip = {"LIMIT": 2, "GET": 1, "BY": 1}
    i = 2
    while i < len(args):
        word = _word(args[i])
        if word in skip:
            i += skip[word]
        elif word == "STORE" and i + 1 < len(args):
            store = i + 1
        i += 1
    return (1,) if store is None else (1, store)


def _migrate_keys(args: Sequence[Any]) -> tuple[int, ...]:
    """MIGRATE: the key at 3, or the keys after ``KEYS`` (AUTH/AUTH2 values skipped)."""
    skip = {"COPY": 0, "REPLACE": 0, "AUTH": 1, "AUTH2": 2}
    i = 6
    while i < len(args):
        word = _word(args[i])
        if word == "KEYS":
            return tuple(range(i + 1, len(args)))
        i += skip.get(word or "", 0) + 1
    return (3,) if len(args) > 3 else ()


_SPECIAL: dict[str, _Special] = {"sort": _sort_keys, "migrate": _migrate_keys}


def _compile(name: str) -> _Entry:
    if name in _SPECIAL:
        return _SPECIAL[name]
    specs = SPECS.get(name, ())
    if len(specs) == 1 and isinstance(specs[0][0], int):
        first: int = specs[0][0]
        shape = specs[0][1:]
        if shape == (0, "range", 0, 1, 0, False):
            return first  # the common case: one key at a fixed index
        if shape[:3] == (0, "range", -1) and shape[4:] == (0, False):
            step: int = shape[3]  # MGET, DEL, MSET ...: every step-th argument to the end
            return lambda args: tuple(range(first, len(args), step))
    return specs


def _forms(name: str) -> tuple[Any, ...]:
    return (name, name.upper(), name.encode(), name.upper().encode())


_TABLE: dict[Any, _Entry] = {}
_CANONICAL: dict[Any, str] = {}
for _name in SPECS:
    if "|" in _name:
        continue
    _entry: _Entry
    if _name in CONTAINERS:
        _entry = {
            sub.partition("|")[2]: _compile(sub) for sub in SPECS if sub.startswith(_name + "|")
        }
    else:
        _entry = _compile(_name)
    for _form in _forms(_name):
        _TABLE[_form] = _entry
        _CANONICAL[_form] = _name


def _entry_of(name: Any) -> _Entry | None:
    entry = _TABLE.get(name)
    if entry is None:
        word = _word(name)
        if word is not None:
            entry = _TABLE.get(word)
    return entry


def key_indices(args: Sequence[Any]) -> tuple[int, ...]:
    """Positions in ``args`` of the keys of this command (``args[0]`` is its name).

    Names match in any case, as ``str`` or ``bytes``.  Unknown commands and
    commands without keys give ``()``; so do arguments too short to hold keys.
    """
    if not args:
        return ()
    entry = _TABLE.get(args[0])
    if entry is None:
        entry = _entry_of(args[0])
        if entry is None:
            return ()
    if entry.__class__ is int:
        return (entry,) if len(args) > entry else ()
    if isinstance(entry, dict):
        if len(args) < 2:
            return ()
        sub = _word(args[1])
        entry = entry.get(sub.lower()) if sub is not None else None
        if entry is None:
            return ()
        if isinstance(entry, int):
            return (entry,) if len(args) > entry else ()
    if isinstance(entry, tuple):
        return _search(entry, args) if entry else ()
    return entry(args)  # type: ignore[operator]


def command_key(args: Sequence[Any]) -> str:
    """The table name of a command: ``"get"``, or ``"object|encoding"`` for a subcommand.

    ``""`` when ``args`` is empty; unknown names are returned lower-cased.
    """
    if not args:
        return ""
    name = _CANONICAL.get(args[0])
    if name is None:
        name = (_word(args[0]) or str(args[0])).lower()
    if name in CONTAINERS and len(args) > 1:
        sub = _word(args[1])
        if sub is not None:
            return f"{name}|{sub.lower()}"
    return name


def is_known(args: Sequence[Any]) -> bool:
    """Whether the table knows this command (or subcommand)."""
    return command_key(args) in SPECS


def is_readonly(args: Sequence[Any]) -> bool:
    """Whether Redis flags this command ``readonly`` (it may run on a replica)."""
    return command_key(args) in READONLY


def request_policy(args: Sequence[Any]) -> str | None:
    """Redis's ``request_policy`` tip: ``"all_shards"``, ``"all_nodes"``, ``"multi_shard"``..."""
    return REQUEST_POLICY.get(command_key(args))


def response_policy(args: Sequence[Any]) -> str | None:
    """Redis's ``response_policy`` tip: ``"agg_sum"``, ``"all_succeeded"``, ..."""
    return RESPONSE_POLICY.get(command_key(args))
