"""Lua scripts run by their SHA1: :class:`Script`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import NoScriptError, ResponseError
from .base import CommandRunner
from .pipeline import Pipeline

if TYPE_CHECKING:
    from .base import EncodableT, KeyT

__all__ = ["Script"]


class Script:
    """A Lua script bound to a client, run with ``EVALSHA``.

    The SHA1 is computed locally, so the first call costs no round trip when
    the server already knows the script.  When it does not (a fresh server,
    ``SCRIPT FLUSH``, a failover), the call loads it with ``SCRIPT LOAD`` and
    runs ``EVALSHA`` again::

        incr_by = redis.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        value = await incr_by(keys=["counter"], args=[5])

    ``client=`` runs it elsewhere: another client, a pinned connection, or a
    :class:`~asyncpool.Pipeline`, where it queues ``EVALSHA`` (and the call
    returns the pipeline); the pipeline sends ``SCRIPT LOAD`` ahead of the
    queued commands when it executes, so the script is always there.
    """

    __slots__ = ("client", "sha", "source")

    def __init__(self, client: CommandRunner | None, source: str | bytes) -> None:
        #: The default client the script runs on.
        self.client = client
        #: The Lua source, as given.
        self.source = source
        body = source.encode("utf-8") if isinstance(source, str) else bytes(source)
        #: The hex SHA1 of the source, as ``SCRIPT LOAD`` returns it.
        self.sha = hashlib.sha1(body).hexdigest()

    def __repr__(self) -> str:
        return f"<Script sha={self.sha}>"

    async def __call__(
        self,
        keys: Sequence[KeyT] = (),
        args: Sequence[EncodableT] = (),
        client: CommandRunner | None = None,
    ) -> Any:
        """Run the script with ``keys`` and ``args`` and return its reply."""
        runner = self.client if client is None else client
        if runner is None:
            raise TypeError("this Script has no client; pass client=")
        command = ("EVALSHA", self.sha, len(keys), *keys, *args)
        if isinstance(runner, Pipeline) and not _runs_immediately(runner):
            runner._add_script(self)
            return runner._cmd(command)
        try:
            return await runner._cmd(command)
        except NoScriptError:
            pass
        sha = await runner._cmd(("SCRIPT", "LOAD", self.source))
        if isinstance(sha, bytes):
            sha = sha.decode("ascii", "replace")
        if str(sha).lower() != self.sha:
            raise ResponseError(f"SCRIPT LOAD returned {sha!r}, expected {self.sha}")
        return await runner._cmd(command)


def _runs_immediately(pipe: Pipeline) -> bool:
    """True while a pipeline in watch mode runs commands at once instead of queueing."""
    return pipe._lease is not None and not pipe._explicit_multi
