"""Noticing failovers: ``+switch-master`` on every sentinel, and a slow poll behind it.

Each known sentinel gets a :class:`~asyncpool.PubSub` subscribed to
``+switch-master``; the first sentinel to publish a switch moves the
service at once (the others' copies of the news are ignored).  A
subscriber that lost its connection may have missed an event, so when it
reconnects every service is rechecked.  The poll asks for each service's
primary every ``poll_interval`` seconds, in case every event was missed,
and refreshes the list of sentinels (``SENTINEL SENTINELS``), subscribing
to newly learnt ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .._log_throttle import LogThrottle
from ..client import RECONNECTED, PubSub
from ..errors import RedisError
from .nodes import Address, SentinelNodes, text
from .service import Service

__all__ = ["Watcher"]

log = logging.getLogger("asyncpool.sentinel")

SWITCH_CHANNEL = "+switch-master"


class Watcher:
    """Background tasks that keep every :class:`Service` pointed at its primary."""

    def __init__(
        self,
        nodes: SentinelNodes,
        services: Callable[[], list[Service]],
        *,
        subscribe: bool,
        poll_interval: float | None,
    ) -> None:
        self._nodes = nodes
        self._services = services
        self._subscribe = subscribe
        self._poll_interval = poll_interval
        self._listeners: dict[Address, asyncio.Task[None]] = {}
        self._pubsubs: dict[Address, PubSub] = {}
        self._poller: asyncio.Task[None] | None = None
        self._closed = False
        #: Sentinels whose ``+switch-master`` subscription is confirmed and open.
        self.subscribed_to: set[Address] = set()
        #: Poll failures repeat while sentinels are down: logged once per interval, counted.
        self._throttle = LogThrottle(log)
        self._poll_failures: dict[str, int] = {}

    @property
    def running(self) -> bool:
        """True once started and until closed."""
        return self._poller is not None or bool(self._listeners)

    def start(self) -> None:
        """Start listening and polling (idempotent; does nothing outside a running loop)."""
        if self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._subscribe:
            for address in self._nodes.addresses:
                self._listen_to(address)
        if self._poll_interval is not None and self._poller is None:
            self._poller = asyncio.ensure_future(self._poll(self._poll_interval))

    def _listen_to(self, address: Address) -> None:
        if address not in self._listeners:
            self._listeners[address] = asyncio.ensure_future(self._listen(address))

    async def _listen(self, address: Address) -> None:
        delay = 0.05
        while not self._closed:
            ps = self._nodes.client(address).pubsub(
                ignore_subscribe_messages=True, reconnect_backoff=0.05, reconnect_backoff_max=1.0
            )
            self._pubsubs[address] = ps
            try:
                await ps.subscribe(SWITCH_CHANNEL)
            except RedisError as exc:  # sentinel down: try again later
                log.debug("sentinel %s:%d: cannot subscribe yet: %s", *address, exc)
                await ps.aclose()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            self.subscribed_to.add(address)
            delay = 0.05
            try:
                async for message in ps:
                    self._handle(address, message["type"], message["data"])
            except RedisError as exc:
                log.info("sentinel %s:%d: subscription ended: %s", *address, exc)
            finally:
                self.subscribed_to.discard(address)
                await ps.aclose()

    def _handle(self, address: Address, kind: str, data: object) -> None:
        if kind == RECONNECTED:  # events may have been missed while disconnected
            for service in self._services():
                service.stale("poll")
            return
        if kind != "message":
            return
        parts = text(data).split()
        if len(parts) != 5:
            log.warning("sentinel %s:%d: odd +switch-master message %r", *address, data)
            return
        name, _old_host, _old_port, host, port = parts
        for service in self._services():
            if service.name == name:
                service.switch((host, int(port)), SWITCH_CHANNEL)

    async def _poll(self, interval: float) -> None:
        first = True
        while not self._closed:
            for service in self._services():
                try:
                    if not first:  # the first round only learns the other sentinels
                        await service.rediscover("poll")
                    await self._nodes.refresh(service.name)
                except RedisError as exc:
                    self._poll_failures[service.name] = self._poll_failures.get(service.name, 0) + 1
                    self._throttle.log(
                        ("poll", service.name),
                        logging.INFO,
                        "sentinel poll of %r failed: %s",
                        service.name,
                        exc,
                    )
                    continue
                failures = self._poll_failures.pop(service.name, 0)
                if self._throttle.forget(("poll", service.name)) is not None:
                    # "poll failed" was logged: say once that it is over
                    log.info(
                        "sentinel poll of %r works again (%d failed poll(s))",
                        service.name,
                        failures,
                    )
            if self._subscribe:
                for address in self._nodes.addresses:
                    self._listen_to(address)
                for address in list(self._listeners):
                    if address not in self._nodes.addresses:
                        self._listeners.pop(address).cancel()
            first = False
            await asyncio.sleep(interval)

    async def aclose(self) -> None:
        """Stop every task and subscription."""
        self._closed = True
        tasks = [*self._listeners.values()]
        if self._poller is not None:
            tasks.append(self._poller)
        self._listeners.clear()
        self._poller = None
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)  # never raises the tasks' own cancellation
        for ps in self._pubsubs.values():
            await ps.aclose()
        self._pubsubs.clear()
