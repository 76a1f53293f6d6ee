"""Run uvicorn servers inside the current event loop, on loopback, on free ports.

Used by the demo and the tests.  The listening socket is bound here (port 0
picks a free one), so there is no window in which another process can take
the port.  Uvicorn's signal handling is left to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

__all__ = ["BackgroundServer"]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # several servers share one process: Ctrl-C belongs to the caller


class BackgroundServer:
    """An ASGI app served by uvicorn as an asyncio task on ``127.0.0.1``.

    ``await server.start()`` returns once it accepts connections;
    ``await server.stop()`` shuts it down gracefully, ``await server.kill()``
    at once (open connections are dropped, as in a crash).
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", name: str = "server") -> None:
        self.name = name
        self.app = app
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the
        # protocol number says TCP; with proto 0 every keep-alive reply would wait ~40 ms
        # for a delayed ACK (Nagle).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.host: str = host
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="auto", timeout_graceful_shutdown=2
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`stop` / :meth:`kill`."""
        return self._task is not None and not self._task.done()

    async def start(self) -> BackgroundServer:
        """Serve in a task; wait until started (raises if startup failed)."""
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._sock]), name=f"uvicorn:{self.name}"
        )
        while not self._server.started:
            if self._task.done():  # lifespan startup failed: surface the error
                await self._task
                raise RuntimeError(f"{self.name} exited during startup")
            await asyncio.sleep(0.01)  # uvicorn offers no startup event to wait on
        return self

    async def stop(self) -> None:
        """Graceful shutdown: finish in-flight requests, run the lifespan shutdown."""
        self._server.should_exit = True
        await self._wait()

    async def kill(self) -> None:
        """Stop at once, like a crash: stop listening and drop every open connection."""
        self._server.should_exit = True
        self._server.force_exit = True
        await self._wait()
        # A connection accepted just before the listener closed may only now be set up:
        # let it, then cut everything still open (no response will come on it).
        await asyncio.sleep(0)
        for connection in list(self._server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        # A forced exit skips the app's lifespan shutdown; run it so nothing is left pending.
        lifespan = getattr(self._server, "lifespan", None)
        if lifespan is not None:
            await lifespan.shutdown()

    async def _wait(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._sock.close()

    async def __aenter__(self) -> BackgroundServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
