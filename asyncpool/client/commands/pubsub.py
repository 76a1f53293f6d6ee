"""Publishing (subscribing lives in :class:`~asyncpool.PubSub`, on its own connection)."""

from __future__ import annotations

from typing import Any

from ..base import EncodableT
from ._base import CommandMixin, Reply, StrT

__all__ = ["PubSubCommands"]


class PubSubCommands(CommandMixin[StrT]):
    """PUBLISH, SPUBLISH and PUBSUB introspection."""

    __slots__ = ()

    def publish(self, channel: EncodableT, message: EncodableT) -> Reply[int]:
        """PUBLISH ``message`` on ``channel``: the number of subscribers that received it."""
        return self._cmd(("PUBLISH", channel, message))

    def spublish(self, shard_channel: EncodableT, message: EncodableT) -> Reply[int]:
        """SPUBLISH (Redis 7) on a shard channel: the number of subscribers reached."""
        return self._cmd(("SPUBLISH", shard_channel, message))

    def pubsub_channels(self, pattern: EncodableT = "*") -> Reply[list[StrT]]:
        """PUBSUB CHANNELS: the channels with subscribers, matching ``pattern``."""
        return self._cmd(("PUBSUB", "CHANNELS", pattern))

    def pubsub_shardchannels(self, pattern: EncodableT = "*") -> Reply[list[StrT]]:
        """PUBSUB SHARDCHANNELS (Redis 7): the shard channels with subscribers."""
        return self._cmd(("PUBSUB", "SHARDCHANNELS", pattern))

    def pubsub_numpat(self) -> Reply[int]:
        """PUBSUB NUMPAT: the number of pattern subscriptions."""
        return self._cmd(("PUBSUB", "NUMPAT"))

    def pubsub_numsub(self, *args: EncodableT) -> Reply[list[tuple[StrT, int]]]:
        """PUBSUB NUMSUB: ``[(channel, subscribers), ...]`` in the order given."""
        return self._cmd(("PUBSUB", "NUMSUB", *args), _pairs)

    def pubsub_shardnumsub(self, *args: EncodableT) -> Reply[list[tuple[StrT, int]]]:
        """PUBSUB SHARDNUMSUB (Redis 7): like :meth:`pubsub_numsub` for shard channels."""
        return self._cmd(("PUBSUB", "SHARDNUMSUB", *args), _pairs)


def _pairs(reply: Any) -> list[tuple[Any, int]]:
    items = reply.items() if isinstance(reply, dict) else zip(reply[::2], reply[1::2], strict=True)
    return [(name, int(count)) for name, count in items]
