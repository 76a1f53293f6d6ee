"""Typed command methods, grouped by family, combined into :class:`Commands`.

Each method only builds a command's arguments and picks a reply callback
(:mod:`asyncpool.client.replies`), then hands both to ``self._cmd``; what
that does (run on a pooled connection, queue in a pipeline, run on a pinned
connection) is up to the class that mixes :class:`Commands` in.
"""

from __future__ import annotations

from ._base import StrT
from .acl import AclCommands
from .bits import BitCommands
from .functions import FunctionCommands
from .geo import GeoCommands
from .hash_fields import HashFieldCommands
from .hashes import HashCommands
from .hyperloglog import HyperLogLogCommands
from .keys import KeyCommands
from .keys_more import KeyMoreCommands
from .lists import ListCommands
from .pubsub import PubSubCommands
from .scripting import ScriptingCommands
from .server import ServerCommands
from .server_more import ServerMoreCommands
from .sets import SetCommands
from .sorted_sets import SortedSetCommands
from .sorted_sets_more import SortedSetMoreCommands
from .streams import StreamCommands
from .streams_more import StreamMoreCommands
from .strings import StringCommands

__all__ = [
    "AclCommands",
    "BitCommands",
    "Commands",
    "FunctionCommands",
    "GeoCommands",
    "HashCommands",
    "HashFieldCommands",
    "HyperLogLogCommands",
    "KeyCommands",
    "KeyMoreCommands",
    "ListCommands",
    "PubSubCommands",
    "ScriptingCommands",
    "ServerCommands",
    "ServerMoreCommands",
    "SetCommands",
    "SortedSetCommands",
    "SortedSetMoreCommands",
    "StreamCommands",
    "StreamMoreCommands",
    "StringCommands",
]


class Commands(
    ServerCommands[StrT],
    KeyCommands[StrT],
    StringCommands[StrT],
    HashCommands[StrT],
    ListCommands[StrT],
    SetCommands[StrT],
    SortedSetCommands[StrT],
    StreamCommands[StrT],
    ScriptingCommands[StrT],
    HyperLogLogCommands[StrT],
    PubSubCommands[StrT],
    AclCommands[StrT],
    BitCommands[StrT],
    FunctionCommands[StrT],
    GeoCommands[StrT],
    HashFieldCommands[StrT],
    KeyMoreCommands[StrT],
    ServerMoreCommands[StrT],
    SortedSetMoreCommands[StrT],
    StreamMoreCommands[StrT],
):
    """Every typed command method, generic in the string reply type ``StrT``.

    Subclasses implement ``_cmd``.  A subclass that queues commands rather
    than running them (a pipeline) sets ``_queues_commands = True`` so the
    ``*scan_iter`` helpers refuse it with a clear ``TypeError``.
    """

    __slots__ = ()

    #: ``True`` on runners that queue commands (pipelines); see ``scan_iter``.
    _queues_commands: bool = False
