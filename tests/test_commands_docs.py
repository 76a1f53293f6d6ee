"""docs/commands.md (written by docs/gen_commands.py) names real methods, and all of them."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpool
from asyncpool.client.commands import Commands

PAGE = Path(__file__).resolve().parent.parent / "docs" / "commands.md"
_ROW = re.compile(r"^\| `(?P<command>[^`]+)` \| [^|]* \| [^|]* \| (?P<method>.*) \|$", re.M)


def _table() -> dict[str, str]:
    return {m["command"]: m["method"] for m in _ROW.finditer(PAGE.read_text())}


def test_the_table_names_real_methods() -> None:
    table = _table()
    assert len(table) > 300
    owners = {"Redis": asyncpool.Redis, "Pipeline": asyncpool.Pipeline, "PubSub": asyncpool.PubSub}
    for command, cell in table.items():
        if cell.startswith("—"):
            assert len(cell) > 5, f"{command}: a reason is needed"
            continue
        for name in re.findall(r"[A-Za-z_.]+", re.split(r"\s?\(", cell)[0]):
            owner, _, attr = name.rpartition(".")
            assert hasattr(owners.get(owner, Commands), attr), f"{command}: no {name}"


def test_every_command_method_is_in_the_table() -> None:
    named = " ".join(_table().values())
    methods = {n for n in dir(Commands) if not n.startswith("_") and not n.endswith("_iter")}
    missing = sorted(m for m in methods if not re.search(rf"\b{m}\b", named))
    assert missing == []


MIGRATING = PAGE.parent / "migrating.md"


def _block(marker: str, lead_only: bool = False) -> set[str]:
    """The method names of a marked list of docs/migrating.md (with ``lead_only``, only
    those before each bullet's first colon)."""
    text = MIGRATING.read_text()
    start = text.index(f"<!-- {marker}")
    body = text[start : text.index("<!-- end", start)]
    if lead_only:
        bullets = re.split(r"\n- ", "\n" + body)[1:]
        body = "\n".join(bullet.split(":")[0] for bullet in bullets)
    return set(re.findall(r"`([a-z_]+)`", body))


def test_migrating_lists_every_reply_difference_and_nothing_else() -> None:
    from .test_commands_differential import DIFFERENCES

    assert _block("differences", lead_only=True) == set(DIFFERENCES)


def test_migrating_lists_every_missing_method_and_nothing_else() -> None:
    redis_asyncio = __import__("pytest").importorskip("redis.asyncio")
    theirs = {n for n in dir(redis_asyncio.Redis) if not n.startswith("_")}
    ours = {n for n in dir(asyncpool.Redis) if not n.startswith("_")}
    named = _block("not provided")
    assert sorted((theirs - ours) - named) == []  # every missing method is listed
    # nothing listed as missing exists (but the replacements the list points to)
    assert sorted(named & ours) == ["aclose", "command", "execute_command", "lcs", "retry"]
