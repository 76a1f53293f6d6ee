"""The package's shared type aliases and its one "not given" sentinel.

Every module that needs one of these imports it from here, so each is defined
once.  :data:`NOT_GIVEN` is the default of every optional ``timeout`` (and
similar) parameter whose ``None`` already means something: across asyncpool,
``timeout=None`` means *no timeout* and leaving it out means *the configured
default*.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Final, TypeAlias

__all__ = ["NOT_GIVEN", "Callback", "EncodableT", "KeyT", "NotGiven"]


class NotGiven(enum.Enum):
    """The type of :data:`NOT_GIVEN` (an enum, so type checkers narrow ``is NOT_GIVEN``)."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: "Not given": use the configured default.  Distinct from ``None`` ("no limit").
NOT_GIVEN: Final = NotGiven.NOT_GIVEN

#: What may be sent as a command argument (the encoder accepts exactly these).
EncodableT: TypeAlias = bytes | bytearray | memoryview | str | int | float
#: A key name.
KeyT: TypeAlias = bytes | str | memoryview
#: Turns a raw reply into the documented Python shape.
Callback: TypeAlias = Callable[[Any], Any]
