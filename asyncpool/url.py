"""Parse ``redis://``, ``rediss://`` and ``unix://`` URLs into validated options.

Forms::

    redis://[[username]:password@]host[:port][/db][?option=value&...]
    rediss://...                        TLS, certificate and host name verified
    unix://[[username]:password@]/path/to/socket[?db=N&...]   (also redis+unix://)

IPv6 hosts go in brackets (``redis://[::1]:6379``).  User name and password are
percent-decoded; ``/ ? # @`` inside them must be percent-encoded.  The
database comes from the path or from ``?db=`` (not both).

Query parameters set any :class:`~asyncpool.options.ConnectionOptions` or
:class:`~asyncpool.options.PoolOptions` field by its name (``socket_timeout``,
``max_connections``, ``protocol``, ``client_name``, ``decode_responses`` ...),
plus the :class:`~asyncpool.options.ReplyLimits` fields (``max_bulk_length``,
``max_aggregate_length``, ``max_depth``) and the client keys in
:data:`CLIENT_KEYS`, which are returned separately.  Values are converted to
the field's type: integers, floats, ``none`` or an empty value for an optional
field, booleans from ``true/false/1/0/yes/no/on/off``.  Two aliases exist:
``timeout`` for ``socket_timeout`` and ``socket_connect_timeout`` for
``connect_timeout``.

TLS parameters (``rediss://`` only): ``ssl_ca_certs`` (a CA bundle path),
``ssl_certfile`` and ``ssl_keyfile`` (a client certificate),
``ssl_cert_reqs=none|optional|required`` (``none`` turns verification *and*
the host name check off, and only when asked for) and
``ssl_check_hostname=true|false``.

Keyword ``overrides`` win over the URL.  ``ssl=True`` asks for a default
verifying context, an :class:`ssl.SSLContext` is used as is, ``ssl=False``
turns TLS off.  Every problem raises :class:`~asyncpool.InvalidURL` naming the
bad part; the password never appears in it (see :func:`redact_url`).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import ssl as _ssl
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import parse_qsl, unquote

from .errors import ConfigError, InvalidURL
from .options import (
    CACHE_FIELDS,
    CLIENT_FIELDS,
    ClientOptions,
    ConnectionOptions,
    PoolOptions,
    ReplyLimits,
)

__all__ = ["CLIENT_KEYS", "parse_url", "redact_url"]

#: Query keys handed back to the client (third item of :func:`parse_url`'s result):
#: the fields of :class:`~asyncpool.options.ClientOptions` and the client-side
#: cache's keys (``CacheConfig.from_params`` converts those).
CLIENT_KEYS = CLIENT_FIELDS | CACHE_FIELDS
_ALIASES = {"timeout": "socket_timeout", "socket_connect_timeout": "connect_timeout"}
_SSL_KEYS = frozenset(
    {"ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs", "ssl_check_hostname"}
)
#: Set from the URL's own parts (or need an object), never from the query.
_NOT_IN_QUERY = frozenset({"host", "port", "path", "ssl", "limits"})
_CONNECTION = {f.name: f for f in dataclasses.fields(ConnectionOptions)}
_POOL = {f.name: f for f in dataclasses.fields(PoolOptions)}
_LIMITS = {f.name for f in dataclasses.fields(ReplyLimits)}
_TCP_SCHEMES = ("redis", "rediss")
_UNIX_SCHEMES = ("unix", "redis+unix")
_PASSWORD_PARAM = re.compile(r"(?i)([?&]password=)[^&#]*")


def redact_url(url: str) -> str:
    """``url`` with its password (and any ``password=`` parameter) replaced by ``***``.

    Safe on malformed URLs: everything after the first ``:`` of the user
    information (up to the *last* ``@``) is hidden, so a password holding an
    unescaped ``/``, ``?`` or ``#`` is still hidden.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    userinfo, at, hostpart = rest.rpartition("@")
    if at:
        if not sep:
            rest = "***@" + hostpart
        else:
            user, colon, _ = userinfo.partition(":")
            rest = f"{user}:***@{hostpart}" if colon else rest
    rest = _PASSWORD_PARAM.sub(r"\1***", rest)
    return f"{scheme}://{rest}" if sep else rest


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on", "y"):
        return True
    if lowered in ("0", "false", "no", "off", "n"):
        return False
    raise ValueError("expected true/false/1/0/yes/no")


def _optional(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        return None if value.strip().lower() in ("", "none", "null") else convert(value)

    return parse


def _text_or_none(value: str) -> str | None:
    return value or None


_SCALARS: dict[Any, Callable[[str], Any]] = {int: int, float: float, bool: _bool, str: str}


def _converter_for(tp: Any) -> Callable[[str], Any] | None:
    """How to read a query value as type ``tp`` (``None``: not settable from text)."""
    if tp in _SCALARS:
        return _SCALARS[tp]
    origin = get_origin(tp)
    if origin is Literal:  # Literal[2, 3], Literal["auto", ...]: the option validates the value
        kinds = {type(value) for value in get_args(tp)}
        return _SCALARS.get(kinds.pop()) if len(kinds) == 1 else None
    if origin is Union or origin is types.UnionType:
        inner = [arg for arg in get_args(tp) if arg is not type(None)]
        if len(inner) != 1:
            return None
        if inner[0] is str:
            return _text_or_none
        convert = _converter_for(inner[0])
        return None if convert is None else _optional(convert)
    return None


def _converters(*classes: type) -> dict[str, Callable[[str], Any]]:
    """A converter per field of ``classes``, from their resolved type hints."""
    out: dict[str, Callable[[str], Any]] = {}
    for cls in classes:
        for name, tp in typing.get_type_hints(cls).items():
            convert = _converter_for(tp)
            if convert is not None:
                out[name] = convert
    return out


_CONVERTERS = _converters(ConnectionOptions, PoolOptions, ReplyLimits, ClientOptions)
_CONVERTERS.update({key: str for key in CACHE_FIELDS})  # the cache converts them itself


def _converter(name: str) -> Callable[[str], Any]:
    return _CONVERTERS[name]


def _split(url: str) -> tuple[str, str, str, str]:
    """(scheme, netloc, path, query) without urllib's lenient guessing."""
    if not isinstance(url, str):
        raise InvalidURL(f"URL must be a string, got {type(url).__name__}")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _TCP_SCHEMES + _UNIX_SCHEMES:
        shown = scheme if sep else "(none)"
        if scheme.endswith("+sentinel"):  # redact_url misses sentinel_password=: not shown
            raise InvalidURL(
                f"{scheme}:// URLs name sentinels, not a server:"
                " use asyncpool.Sentinel.from_url(url).master_for()"
            )
        raise InvalidURL(
            f"unsupported URL scheme {shown!r} in {redact_url(url)!r}: "
            "use redis://, rediss://, unix:// or redis+unix://"
        )
    rest, _, fragment = rest.partition("#")
    if fragment:
        raise InvalidURL(f"URL fragments (#...) are not supported: {redact_url(url)!r}")
    end = len(rest)
    for stop in "/?":
        found = rest.find(stop)
        if found != -1:
            end = min(end, found)
    if "@" in rest[end:]:
        raise InvalidURL(
            "'/', '?', '#' and '@' in a user name or password must be percent-encoded "
            f"(%2F, %3F, %23, %40): {redact_url(url)!r}"
        )
    netloc, remainder = rest[:end], rest[end:]
    path, _, query = remainder.partition("?")
    return scheme, netloc, path, query


def _host_port(hostport: str, url: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        close = hostport.find("]")
        if close == -1:
            raise InvalidURL(f"unclosed '[' in the IPv6 host of {redact_url(url)!r}")
        host, after = hostport[1:close], hostport[close + 1 :]
        if after and not after.startswith(":"):
            raise InvalidURL(f"unexpected text after the IPv6 host in {redact_url(url)!r}")
        port_text = after[1:] if after else None
    else:
        host, colon, port_text_raw = hostport.partition(":")
        if ":" in port_text_raw:
            raise InvalidURL(f"IPv6 hosts must be in brackets ([::1]): {redact_url(url)!r}")
        port_text = port_text_raw if colon else None
    host = unquote(host)
    if not host:
        raise InvalidURL(f"missing host in {redact_url(url)!r}")
    if port_text is None or port_text == "":
        if port_text == "":
            raise InvalidURL(f"empty port in {redact_url(url)!r}")
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidURL(f"invalid port {port_text!r} in {redact_url(url)!r} (expected 1-65535)")
    return host, int(port_text)


def _db_from_path(path: str, url: str) -> int | None:
    segment = path[1:] if path.startswith("/") else path
    if not segment:
        return None
    if not segment.isdigit():
        raise InvalidURL(
            f"invalid database in the path of {redact_url(url)!r} (expected /<number>)"
        )
    return int(segment)


def _query(query: str, url: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for raw_key, value in parse_qsl(query, keep_blank_values=True):
        key = _ALIASES.get(raw_key, raw_key)
        if key in params:
            raise InvalidURL(f"query parameter {raw_key!r} given twice in {redact_url(url)!r}")
        params[key] = value
    return params


def _convert(key: str, value: str, url: str) -> Any:
    known = (
        key in _CONNECTION or key in _POOL or key in _LIMITS or key in CLIENT_KEYS
    ) and key not in _NOT_IN_QUERY
    if not known:
        raise InvalidURL(f"unknown query parameter {key!r} in {redact_url(url)!r}")
    try:
        return _converter(key)(value)
    except ValueError:
        shown = "" if key in ("password", "username") else f" {value!r}"
        raise InvalidURL(f"invalid value{shown} for {key!r} in {redact_url(url)!r}") from None


def _ssl_context(params: dict[str, str], url: str) -> _ssl.SSLContext:
    context = _ssl.create_default_context()
    try:
        if "ssl_ca_certs" in params:
            context.load_verify_locations(cafile=params["ssl_ca_certs"])
        if "ssl_certfile" in params:
            context.load_cert_chain(params["ssl_certfile"], params.get("ssl_keyfile") or None)
        elif "ssl_keyfile" in params:
            raise InvalidURL(f"ssl_keyfile needs ssl_certfile in {redact_url(url)!r}")
    except (OSError, _ssl.SSLError) as exc:
        raise InvalidURL(
            f"cannot load TLS files named in {redact_url(url)!r}: {exc.strerror or exc}"
        ) from None
    if "ssl_check_hostname" in params:
        try:
            context.check_hostname = _bool(params["ssl_check_hostname"])
        except ValueError:
            raise InvalidURL(
                f"invalid value for 'ssl_check_hostname' in {redact_url(url)!r}"
            ) from None
    reqs = params.get("ssl_cert_reqs")
    if reqs is not None:
        mode = reqs.strip().lower()
        if mode == "none":
            context.check_hostname = False
            context.verify_mode = _ssl.CERT_NONE
        elif mode == "optional":
            context.verify_mode = _ssl.CERT_OPTIONAL
        elif mode != "required":
            raise InvalidURL(
                f"invalid ssl_cert_reqs {reqs!r} in {redact_url(url)!r} "
                "(expected none, optional or required)"
            )
    return context


def parse_url(url: str, **overrides: Any) -> tuple[ConnectionOptions, PoolOptions, dict[str, Any]]:
    """Parse ``url`` into (connection options, pool options, client options).

    Keyword ``overrides`` (any option name, plus ``ssl``) win over the URL.
    Raises :class:`~asyncpool.InvalidURL` (a ``ValueError``) on any bad part.
    """
    scheme, netloc, path, query = _split(url)
    conn: dict[str, Any] = {}
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        if user:
            conn["username"] = unquote(user)
        if colon and password:
            conn["password"] = unquote(password)
    if scheme in _UNIX_SCHEMES:
        if hostport:
            raise InvalidURL(
                f"unix socket URLs take no host; write unix:///path: {redact_url(url)!r}"
            )
        if not path or path == "/":
            raise InvalidURL(f"missing socket path in {redact_url(url)!r}")
        conn["path"] = unquote(path)
        path_db = None
    else:
        host, port = _host_port(hostport, url)
        conn["host"] = host
        if port is not None:
            conn["port"] = port
        path_db = _db_from_path(path, url)
    params = _query(query, url)
    ssl_params = {k: params.pop(k) for k in list(params) if k in _SSL_KEYS}
    if path_db is not None:
        if "db" in params:
            raise InvalidURL(f"database given in both the path and ?db= of {redact_url(url)!r}")
        conn["db"] = path_db
    pool: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    client: dict[str, Any] = {}
    for key, value in params.items():
        converted = _convert(key, value, url)
        if key in _CONNECTION:
            conn[key] = converted
        elif key in _POOL:
            pool[key] = converted
        elif key in _LIMITS:
            limits[key] = converted
        else:
            client[key] = converted

    ssl_override = overrides.pop("ssl", None)
    if ssl_override not in (None, True, False) and not isinstance(ssl_override, _ssl.SSLContext):
        raise ConfigError(f"ssl= must be True, False or an SSLContext, not {ssl_override!r}")
    if isinstance(ssl_override, _ssl.SSLContext):
        if ssl_params:
            raise InvalidURL(
                "ssl_* query parameters cannot change an SSLContext passed as ssl="
                f" ({redact_url(url)!r})"
            )
        conn["ssl"] = ssl_override
    elif ssl_override is True or (scheme == "rediss" and ssl_override is not False):
        conn["ssl"] = _ssl_context(ssl_params, url)
    elif ssl_params and ssl_override is not False:
        raise InvalidURL(f"ssl_* parameters need a rediss:// URL: {redact_url(url)!r}")

    for key, value in overrides.items():
        if key in _CONNECTION:
            conn[key] = value
        elif key in _POOL:
            pool[key] = value
        elif key in _LIMITS:
            limits[key] = value
        elif key in CLIENT_KEYS:
            client[key] = value
        else:
            raise ConfigError(f"unknown option {key!r}{_did_you_mean(key)}")
    try:
        if limits and "limits" not in overrides:
            conn["limits"] = ReplyLimits(**limits)
        return ConnectionOptions(**conn), PoolOptions(**pool), client
    except ConfigError as exc:
        if overrides or ssl_override is not None:
            parse_url(url)  # raises InvalidURL if the URL alone is bad
            # the URL alone is fine: a keyword argument is at fault, not the URL
            raise ConfigError(f"{exc} (a keyword argument, not the URL)") from None
        raise InvalidURL(f"{exc} (in {redact_url(url)!r})") from None
    except TypeError as exc:  # a wrongly typed override
        raise ConfigError(str(exc)) from None


def _did_you_mean(key: str) -> str:
    known = [*_CONNECTION, *_POOL, *_LIMITS, *CLIENT_KEYS, "ssl"]
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
