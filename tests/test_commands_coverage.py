"""Every command method is exercised by a command-family test module.

A guard, not a behaviour test: adding a method without a test of its own
against a real server fails here, naming the method.
"""

from __future__ import annotations

import re
from pathlib import Path

from asyncpool.client.commands import Commands

HERE = Path(__file__).parent


def _called_names() -> set[str]:
    text = "\n".join(p.read_text() for p in HERE.glob("test_*.py"))
    return set(re.findall(r"\.(\w+)\(", text))


def test_every_command_method_has_a_test() -> None:
    methods = {name for name in dir(Commands) if not name.startswith("_")}
    untested = sorted(methods - _called_names())
    assert untested == []
