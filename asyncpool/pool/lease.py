"""What ``pool.acquire()`` hands out: a lease on one connection."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from types import TracebackType
from typing import Any, Protocol

from .._types import NOT_GIVEN, NotGiven
from ..command import Command
from ..connection import Connection, ConnectionInfo
from ..errors import ConnectionError

__all__ = ["DEFAULT", "AcquireContext", "PooledConnection"]

#: Former name of :data:`asyncpool._types.NOT_GIVEN` (the same object), kept for callers.
DEFAULT: Any = NOT_GIVEN


class Releases(Protocol):
    """Takes a lent connection back (a :class:`~asyncpool.Pool`)."""

    async def release(self, conn: Connection) -> None: ...


class Lends(Releases, Protocol):
    """Lends connections (a :class:`~asyncpool.Pool`'s lending API)."""

    def try_lend(self) -> Connection | None: ...

    def release_now(self, conn: Connection) -> bool: ...

    async def lend(self, timeout: float | NotGiven | None = ...) -> Connection: ...


class PooledConnection:
    """A connection lent by a :class:`~asyncpool.Pool`.

    Valid until it is released; any use after release raises
    :class:`~asyncpool.ConnectionError` rather than touching a connection
    that another caller may hold by then.
    """

    __slots__ = ("_conn", "_pool")

    def __init__(self, pool: Releases, conn: Connection) -> None:
        self._pool = pool
        self._conn: Connection | None = conn

    def __repr__(self) -> str:
        state = "released" if self._conn is None else repr(self._conn)
        return f"<PooledConnection {state}>"

    @property
    def connection(self) -> Connection:
        """The underlying connection; raises once the lease was released."""
        conn = self._conn
        if conn is None:
            raise ConnectionError("this connection was released to the pool and may not be used")
        return conn

    @property
    def released(self) -> bool:
        """True once the lease was handed back."""
        return self._conn is None

    async def execute_command(
        self, *args: Any, timeout: float | NotGiven | None = NOT_GIVEN
    ) -> Any:
        """Run one command on the leased connection (see :meth:`Connection.execute_command`)."""
        return await self.connection.execute_command(*args, timeout=timeout)

    async def send_command(
        self, args: Command | Sequence[Any], *, timeout: float | NotGiven | None = NOT_GIVEN
    ) -> Any:
        """Run one command; an error reply is returned, not raised."""
        return await self.connection.send_command(args, timeout=timeout)

    async def send_many(
        self,
        commands: Sequence[Command | Sequence[Any]],
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> list[Any]:
        """Pipeline ``commands`` in one write; error replies are returned as values."""
        return await self.connection.send_many(commands, timeout=timeout)

    def info(self) -> ConnectionInfo:
        """Metadata of the leased connection."""
        return self.connection.info()

    async def release(self) -> None:
        """Hand the connection back to the pool (idempotent)."""
        conn = self._detach()
        if conn is not None:
            await self._pool.release(conn)

    def _detach(self) -> Connection | None:
        """End the lease: its connection, the first time only (``None`` once released)."""
        conn, self._conn = self._conn, None
        return conn


class AcquireContext:
    """``async with pool.acquire() as conn`` or ``conn = await pool.acquire()``."""

    __slots__ = ("_lease", "_pool", "_timeout")

    def __init__(self, pool: Lends, timeout: float | NotGiven | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._lease: PooledConnection | None = None

    def __await__(self) -> Generator[Any, None, PooledConnection]:
        return self.__aenter__().__await__()

    async def __aenter__(self) -> PooledConnection:
        pool = self._pool
        conn = pool.try_lend()  # no wait, so no timeout applies
        if conn is None:
            conn = await pool.lend(self._timeout)
        self._lease = PooledConnection(pool, conn)
        return self._lease

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            conn = lease._detach()  # not ``await lease.release()``: no coroutine without a hook
            if conn is not None and not self._pool.release_now(conn):
                await self._pool.release(conn)  # a release hook to await
