"""A Redis server in a Docker container (testcontainers), for machines with no binary.

Only used when :func:`~asyncpool.testing.discovery.find_redis_binary` finds
nothing and :func:`~asyncpool.testing.discovery.docker_available` is true.
``testcontainers`` is imported lazily, when a server starts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from asyncpool.testing._util import format_url
from asyncpool.testing.raw import RawError, Reply, sync_command
from asyncpool.testing.server import ServerStartError

__all__ = ["DEFAULT_IMAGE", "DockerRedisServer"]

DEFAULT_IMAGE = "redis:7"


class DockerRedisServer:
    """A ``redis-server`` container with the same basic surface as :class:`RedisServer`.

    Supports ``password``, ``users`` and ``extra_args``; not TLS, unix
    sockets or :meth:`restart` (Docker may remap the port).  :meth:`kill`,
    :meth:`pause` and :meth:`resume` act on the container.
    """

    binary: str | None = None
    tls = None
    tls_port = None
    unix_path: str | None = None

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        *,
        password: str | None = None,
        users: Mapping[str, str] | None = None,
        extra_args: Iterable[str] = (),
        startup_timeout: float = 60.0,
    ) -> None:
        self.image = image
        self.password = password
        self.users: dict[str, str] = dict(users or {})
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self.host = "127.0.0.1"
        self.port = 0
        self.version: tuple[int, int, int] | None = None
        self._container: Any = None

    @property
    def url(self) -> str:
        """``redis://host:port/0``; never includes credentials."""
        return format_url("redis", self.host, self.port)

    def _command_line(self) -> list[str]:
        args = ["redis-server", "--save", "", "--appendonly", "no", "--loglevel", "warning"]
        if self.password is not None:
            args += ["--requirepass", self.password]
        for name, secret in self.users.items():
            args += ["--user", name, "on", f">{secret}", "~*", "&*", "+@all"]
        return args + list(self.extra_args)

    def start(self) -> DockerRedisServer:
        """Pull (if needed) and start the container, then wait for ``PING``."""
        try:
            from testcontainers.core.container import DockerContainer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ServerStartError("testcontainers is not installed") from exc
        container = DockerContainer(self.image).with_exposed_ports(6379)
        container = container.with_command(self._command_line())
        self._container = container.start()
        self.host = str(container.get_container_host_ip())
        if self.host == "localhost":
            self.host = "127.0.0.1"
        self.port = int(container.get_exposed_port(6379))
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            try:
                reply = sync_command(self.host, self.port, "PING", timeout=1.0)
            except (OSError, EOFError):
                time.sleep(0.1)  # polling a container we do not control
                continue
            if not (isinstance(reply, RawError) and reply.startswith("LOADING")):
                self.version = self._read_version()
                return self
        self.stop()
        raise ServerStartError(f"{self!r} did not answer PING in {self.startup_timeout:.0f}s")

    def _read_version(self) -> tuple[int, int, int] | None:
        reply = self.command("INFO", "server")
        if isinstance(reply, bytes):
            for line in reply.decode().splitlines():
                if line.startswith("redis_version:"):
                    parts = line.split(":", 1)[1].strip().split(".")
                    return (int(parts[0]), int(parts[1]), int(parts[2]))
        return None

    def command(self, *args: str | bytes | int, timeout: float = 2.0) -> Reply:
        """Run one command on a fresh raw connection, authenticating if needed."""
        auth = (self.password,) if self.password else ()
        return sync_command(self.host, self.port, *args, timeout=timeout, auth=auth)

    def stop(self) -> None:
        """Stop and remove the container."""
        container, self._container = self._container, None
        if container is not None:
            container.stop()

    def kill(self) -> None:
        """Kill the container's process (it is then removed)."""
        if self._container is not None:
            self._container.get_wrapped_container().kill()
        self.stop()

    def pause(self) -> None:
        """Freeze the container."""
        self._container.get_wrapped_container().pause()

    def resume(self) -> None:
        """Unfreeze the container."""
        self._container.get_wrapped_container().unpause()

    def restart(self) -> DockerRedisServer:
        """Not supported: Docker may publish a restarted container on another port."""
        raise NotImplementedError("DockerRedisServer cannot restart on the same port")

    def cleanup(self) -> None:
        """Same as :meth:`stop`."""
        self.stop()

    def __enter__(self) -> DockerRedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<DockerRedisServer {self.image} {self.host}:{self.port}>"
