"""The documentation cannot rot: its code runs, its tables match the code.

* Every ```` ```python ```` block of ``docs/*.md`` and ``README.md`` runs against
  the session's real redis-server: ``redis://localhost:6379`` (and
  ``host="localhost", port=6379``) in a block are replaced by the fixture's
  address.  A block is a complete program, run in a fresh namespace as a
  module (``__name__`` is not ``"__main__"``, so ``if __name__ == "__main__":``
  server starts are skipped), except:

  - a block right after ``<!-- continue -->`` runs after the block before it,
    in the same namespace (an app, then a snippet that exercises it);
  - a block with top-level ``await`` runs inside a coroutine whose namespace
    already holds ``asyncio``, ``asyncpool`` and ``redis`` (a client on the
    test server), so short snippets need no boilerplate;
  - a block right after ``<!-- no-run -->`` is only compiled.

* The configuration reference lists every option of
  :class:`~asyncpool.ConnectionOptions`, :class:`~asyncpool.PoolOptions`,
  :class:`~asyncpool.ReplyLimits` and :class:`~asyncpool.Retry` with its real
  default, and every URL query name the parser accepts.
* Every test the reliability page names exists.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import dataclasses
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import asyncpool
from asyncpool import url as url_module

from ._util import MULTIPLEX_OVERRIDE

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]

_FENCE = re.compile(r"^```python[^\n]*\n(?P<code>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_MARKER = re.compile(r"<!--\s*(?P<name>no-run|continue)\s*-->\s*$")


@dataclasses.dataclass
class Block:
    page: Path
    line: int
    code: str
    mode: str  # "run", "continue" or "no-run"

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _blocks(page: Path) -> Iterator[Block]:
    text = page.read_text(encoding="utf-8")
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _MARKER.search(before)
        mode = marker["name"] if marker else "run"
        line = text.count("\n", 0, match.start()) + 2
        yield Block(page, line, match["code"], mode)


def _programs() -> list[list[Block]]:
    """Runnable units: a block plus the ``continue`` blocks that follow it."""
    programs: list[list[Block]] = []
    for page in PAGES:
        for block in _blocks(page):
            if block.mode == "continue":
                if not programs or programs[-1][0].page != page:
                    raise AssertionError(
                        f"{block.name}: <!-- continue --> needs a block before it on the same page"
                    )
                programs[-1].append(block)
            else:
                programs.append([block])
    return programs


PROGRAMS = _programs()


def _localize(code: str, redis_url: str) -> str:
    parts = urlsplit(redis_url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    code = code.replace("redis://localhost:6379", f"redis://{netloc}")
    return code.replace('host="localhost", port=6379', f'host="{host}", port={port}')


def _has_top_level_await(code: str) -> bool:
    try:
        compile(code, "<doc>", "exec")
    except SyntaxError:
        compile(code, "<doc>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        return True
    return False


def test_the_docs_have_code_to_run() -> None:
    assert len(PROGRAMS) >= 20
    # cluster examples need a cluster, which the docs test does not start
    assert sum(1 for p in PROGRAMS if p[0].mode == "no-run") <= 7, "keep no-run blocks rare"


@pytest.mark.parametrize("program", PROGRAMS, ids=[p[0].name for p in PROGRAMS])
def test_code_block_runs(program: list[Block], redis_url: str) -> None:
    first = program[0]
    if first.mode == "no-run":
        compile(first.code, first.name, "exec")
        return
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for block in program:
            code = _localize(block.code, redis_url)
            if _has_top_level_await(code):
                asyncio.run(_run_awaiting(code, block.name, namespace, redis_url))
            else:
                exec(compile(code, block.name, "exec"), namespace)


async def _run_awaiting(code: str, name: str, namespace: dict[str, Any], redis_url: str) -> None:
    compiled = compile(code, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    async with asyncpool.Redis.from_url(redis_url) as redis:
        namespace.update(asyncio=asyncio, asyncpool=asyncpool, redis=redis)
        result = eval(compiled, namespace)
        if result is not None:
            await result


# -- the configuration reference -----------------------------------------------------------

_ROW = re.compile(r"^\|\s*`(?P<name>[a-z_]+)`\s*\|\s*(?P<default>[^|]*?)\s*\|", re.MULTILINE)


def _documented_defaults() -> dict[str, str]:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for match in _ROW.finditer(text):
        found.setdefault(match["name"], match["default"])
    return found


def _shown(value: Any) -> str:
    """How a default is written in the table: ``None``, ``True``, ``50``, ``"auto"``."""
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`"


def _fields_with_defaults() -> Iterator[tuple[str, Any]]:
    for cls in (
        asyncpool.ConnectionOptions,
        asyncpool.PoolOptions,
        asyncpool.ReplyLimits,
        asyncpool.Retry,
    ):
        instance = cls()
        for field in dataclasses.fields(cls):
            yield f"{cls.__name__}.{field.name}", getattr(instance, field.name)


@pytest.mark.parametrize(("qualified", "default"), list(_fields_with_defaults()))
def test_configuration_reference_lists_the_real_default(qualified: str, default: Any) -> None:
    if qualified == "PoolOptions.multiplex" and MULTIPLEX_OVERRIDE is not None:
        pytest.skip("ASYNCPOOL_TEST_MULTIPLEX overrides this default")
    documented = _documented_defaults()
    name = qualified.split(".", 1)[1]
    if qualified == "ConnectionOptions.limits":
        assert name in documented, "docs/configuration.md has no row for `limits`"
        return
    if qualified == "Retry.attempts":
        name = "attempts"
    assert name in documented, f"docs/configuration.md has no table row for `{name}`"
    cell = documented[name]
    if qualified == "ConnectionOptions.ssl":
        assert "None" in cell
        return
    assert _shown(default) in cell, f"`{name}`: the docs say {cell!r}, the code says {default!r}"


def test_configuration_reference_names_every_url_query_key() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    names = (
        (
            (asyncpool.options.CONNECTION_FIELDS | asyncpool.options.POOL_FIELDS)
            - url_module._NOT_IN_QUERY
        )
        | url_module._LIMITS
        | url_module.CLIENT_KEYS
        | url_module._SSL_KEYS
        | set(url_module._ALIASES)
    )
    missing = sorted(n for n in names if f"`?{n}=" not in text and f"`{n}=" not in text)
    assert not missing, f"URL query names missing from docs/configuration.md: {missing}"


# -- the reliability page -------------------------------------------------------------------

_TEST_REF = re.compile(r"`(?P<file>tests/test_\w+\.py)(?:::(?P<func>test_\w+))?`")


def test_every_test_the_reliability_page_names_exists() -> None:
    text = (DOCS / "reliability.md").read_text(encoding="utf-8")
    refs = list(_TEST_REF.finditer(text))
    assert len(refs) >= 15
    for ref in refs:
        path = ROOT / ref["file"]
        assert path.exists(), f"docs/reliability.md names {ref['file']}, which does not exist"
        if ref["func"]:
            source = path.read_text(encoding="utf-8")
            assert re.search(rf"def {ref['func']}\b", source), (
                f"docs/reliability.md names {ref['file']}::{ref['func']}, which does not exist"
            )
