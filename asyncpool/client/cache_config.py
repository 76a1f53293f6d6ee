"""The options of the client-side cache: :class:`CacheConfig`, and its URL form."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..options import CACHE_FIELDS
from .cache_keys import CACHEABLE, DEFAULT_CACHED_COMMANDS

__all__ = ["URL_KEYS", "CacheConfig", "cache_config_from"]

#: URL query parameters that configure the cache (``?cache=true&cache_max_entries=...``).
URL_KEYS = CACHE_FIELDS


@dataclass(frozen=True)
class CacheConfig:
    """Turns on server-assisted client-side caching for one :class:`~asyncpool.Redis`.

    ``Redis(..., cache=CacheConfig(max_entries=50_000, max_bytes=64 * 2**20))``.
    Needs RESP3 and Redis >= 6.0 (``CLIENT TRACKING``); see docs/caching.md.
    """

    #: Most entries kept (one per distinct command and arguments); LRU beyond it.
    #: 10 000 is redis-py's default: hot sets of most services fit.
    max_entries: int = 10_000
    #: Most bytes kept (estimated size of arguments and replies); LRU beyond it.
    #: 64 MiB bounds a process's cache memory without tuning.
    max_bytes: int = 64 * 1024 * 1024
    #: Seconds an entry may be served, however fresh the server says it is
    #: (``None``: until the server invalidates it).  A safety net, not the
    #: consistency mechanism.
    ttl: float | None = None
    #: Command names to cache; a subset of the cacheable reads (docs/caching.md).
    commands: Iterable[str] = DEFAULT_CACHED_COMMANDS
    #: Cache (and track) only keys starting with one of these prefixes; empty:
    #: every key.  The server then sends invalidations for these prefixes only.
    prefixes: Iterable[str | bytes] = ()
    #: Seconds between PINGs on the tracking connection.  A PING unanswered
    #: for as long again counts as a lost invalidation stream: the cache is
    #: flushed.  It bounds staleness when the network silently drops traffic.
    health_check_interval: float = 1.0
    #: Largest single entry stored, in estimated bytes (default: ``max_bytes // 8``).
    max_entry_bytes: int | None = field(default=None)

    def __post_init__(self) -> None:
        for name in ("max_entries", "max_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"cache {name} must be a positive integer, got {value!r}")
        if self.ttl is not None and not self.ttl > 0:
            raise ConfigError(f"cache ttl must be a positive number of seconds, got {self.ttl!r}")
        if not self.health_check_interval > 0:
            raise ConfigError("cache health_check_interval must be > 0")
        if self.max_entry_bytes is not None and self.max_entry_bytes < 1:
            raise ConfigError("cache max_entry_bytes must be a positive integer")
        names = _names(self.commands)
        unknown = names - set(CACHEABLE)
        if unknown:
            raise ConfigError(
                f"cannot cache {', '.join(sorted(unknown))}: not a cacheable read"
                f" (cacheable: {', '.join(sorted(CACHEABLE))})"
            )
        if not names:
            raise ConfigError("cache commands must name at least one command")
        object.__setattr__(self, "commands", frozenset(names))
        prefixes = tuple(_prefix(p) for p in self.prefixes)
        object.__setattr__(self, "prefixes", prefixes)

    @property
    def command_names(self) -> frozenset[str]:
        """:attr:`commands` as a frozenset of upper-case names."""
        return frozenset(self.commands)

    @property
    def prefix_bytes(self) -> tuple[bytes, ...]:
        """:attr:`prefixes` as bytes."""
        return tuple(self.prefixes)  # type: ignore[arg-type]

    @property
    def entry_limit(self) -> int:
        """The largest entry stored (``max_entry_bytes`` or ``max_bytes // 8``)."""
        if self.max_entry_bytes is not None:
            return min(self.max_entry_bytes, self.max_bytes)
        return max(1, self.max_bytes // 8)

    def replace(self, **changes: Any) -> CacheConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CacheConfig | None:
        """The config given by URL query values (``cache=true``, ``cache_max_entries=...``).

        ``None`` when the parameters leave the cache off.  Raises
        :class:`~asyncpool.ConfigError` for a bad value.
        """
        given = {k: v for k, v in params.items() if k in URL_KEYS}
        switch = given.pop("cache", None)
        if switch is not None and not isinstance(switch, bool):
            switch = _bool("cache", str(switch))
        if switch is False:
            if given:
                raise ConfigError(f"{', '.join(sorted(given))} given but cache=false")
            return None
        if switch is None and not given:
            return None
        kwargs: dict[str, Any] = {}
        for key, raw in given.items():
            name = key[len("cache_") :]
            text = str(raw).strip()
            try:
                if name in ("max_entries", "max_bytes"):
                    kwargs[name] = _size(text)
                elif name == "ttl":
                    kwargs[name] = None if text.lower() in ("", "none") else float(text)
                elif name == "health_check_interval":
                    kwargs[name] = float(text)
                elif name == "commands":
                    kwargs[name] = frozenset(w for w in text.replace(" ", ",").split(",") if w)
                else:  # prefixes
                    kwargs[name] = tuple(w for w in text.split(",") if w)
            except ValueError:
                raise ConfigError(f"invalid value {text!r} for {key!r}") from None
        return cls(**kwargs)


def cache_config_from(value: Any, options: Mapping[str, Any]) -> CacheConfig | None:
    """The cache config of a client: ``cache=`` (a config, True/False) or URL parameters."""
    if value is None:
        value = options.get("cache")
    if isinstance(value, CacheConfig):
        return value
    if value is True:
        return CacheConfig.from_params({**options, "cache": True})
    if value is None or value is False:
        return None if value is False else CacheConfig.from_params(options)
    if isinstance(value, str):
        return CacheConfig.from_params({**options, "cache": value})
    raise ConfigError(f"cache= must be a CacheConfig, True or False, not {value!r}")


def _names(commands: Iterable[Any]) -> set[str]:
    if isinstance(commands, (str, bytes)):
        commands = [commands]
    out = set()
    for name in commands:
        if isinstance(name, bytes):
            name = name.decode("ascii", "replace")
        out.add(str(name).upper())
    return out


def _prefix(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise ConfigError(f"cache prefixes must be str or bytes, got {value!r}")


def _bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"invalid value {text!r} for {name!r} (expected true or false)")


_UNITS = {"k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def _size(text: str) -> int:
    """``1000``, ``64mb``, ``512k``: a count or a byte size."""
    lowered = text.lower().replace("_", "")
    for unit in sorted(_UNITS, key=len, reverse=True):
        if lowered.endswith(unit):
            return int(float(lowered[: -len(unit)]) * _UNITS[unit])
    return int(lowered)
