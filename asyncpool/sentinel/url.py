"""The ``redis+sentinel://`` URL form.

::

    redis+sentinel://[[username]:password@]host[:port][,host[:port]...]/service[/db][?option=value&...]
    rediss+sentinel://...          TLS to the data nodes and to the sentinels

* the hosts are the sentinels (port 26379 when left out), tried in that order;
  IPv6 hosts go in brackets;
* ``service`` is the monitored master's name (``sentinel monitor <service> ...``);
* the user information and ``db`` are for the **data nodes** (primary and
  replicas), as in a ``redis://`` URL;
* the sentinels' own credentials go in the query: ``sentinel_username`` and
  ``sentinel_password`` (percent-encoded); ``sentinel_timeout`` (seconds) bounds
  each question to a sentinel;
* every other query parameter is a data-node option, exactly as in
  ``redis://`` URLs (``max_connections``, ``socket_timeout``, ``protocol`` ...).

Problems raise :class:`~asyncpool.InvalidURL`; no password (of either kind)
appears in the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from ..errors import InvalidURL
from ..options import ConnectionOptions, PoolOptions
from ..url import parse_url, redact_url
from .nodes import Address

__all__ = ["DEFAULT_SENTINEL_PORT", "SentinelURL", "parse_sentinel_url", "redact_sentinel_url"]

DEFAULT_SENTINEL_PORT = 26379
SCHEMES = ("redis+sentinel", "rediss+sentinel")
_SENTINEL_KEYS = ("sentinel_username", "sentinel_password", "sentinel_timeout")
_SECRET_PARAM = re.compile(r"(?i)([?&](?:sentinel_)?password=)[^&#]*")


@dataclass(frozen=True)
class SentinelURL:
    """What a ``redis+sentinel://`` URL says."""

    sentinels: tuple[Address, ...]
    service_name: str
    connection_options: ConnectionOptions
    pool_options: PoolOptions
    client_options: dict[str, Any]
    sentinel_username: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)
    sentinel_timeout: float | None = None


def redact_sentinel_url(url: str) -> str:
    """``url`` with the data-node password and ``sentinel_password`` hidden."""
    return _SECRET_PARAM.sub(r"\1***", redact_url(url))


def _host_port(item: str, url: str) -> Address:
    if item.startswith("["):
        close = item.find("]")
        if close == -1:
            raise InvalidURL(f"unclosed '[' in a sentinel host of {redact_sentinel_url(url)!r}")
        host, rest = item[1:close], item[close + 1 :]
        if rest and not rest.startswith(":"):
            raise InvalidURL(f"unexpected text after an IPv6 host in {redact_sentinel_url(url)!r}")
        port_text = rest[1:] if rest else ""
    else:
        host, _, port_text = item.partition(":")
        if ":" in port_text:
            raise InvalidURL(f"IPv6 hosts must be in brackets: {redact_sentinel_url(url)!r}")
    host = unquote(host)
    if not host:
        raise InvalidURL(f"empty sentinel host in {redact_sentinel_url(url)!r}")
    if not port_text:
        return host, DEFAULT_SENTINEL_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidURL(f"invalid sentinel port {port_text!r} in {redact_sentinel_url(url)!r}")
    return host, int(port_text)


def parse_sentinel_url(url: str, **overrides: Any) -> SentinelURL:
    """Parse a ``redis+sentinel://`` URL; keyword ``overrides`` win over its query."""
    if not isinstance(url, str):
        raise InvalidURL(f"URL must be a string, got {type(url).__name__}")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise InvalidURL(
            f"not a Sentinel URL {redact_sentinel_url(url)!r}: use redis+sentinel:// or"
            " rediss+sentinel://"
        )
    if "#" in rest:
        raise InvalidURL(f"URL fragments (#...) are not supported: {redact_sentinel_url(url)!r}")
    rest, _, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    userinfo, at, hostlist = netloc.rpartition("@")
    if not hostlist:
        raise InvalidURL(f"no sentinel host in {redact_sentinel_url(url)!r}")
    sentinels = tuple(_host_port(item, url) for item in hostlist.split(","))
    segments = path.split("/") if slash else []
    if not segments or not segments[0]:
        raise InvalidURL(
            f"missing service name in {redact_sentinel_url(url)!r} (…/<service>[/<db>])"
        )
    if len(segments) > 2 or (len(segments) == 2 and not segments[1].isdigit()):
        raise InvalidURL(
            f"invalid path in {redact_sentinel_url(url)!r}: expected /<service>[/<db>]"
        )
    service = unquote(segments[0])
    db = segments[1] if len(segments) == 2 else ""
    params = parse_qsl(query, keep_blank_values=True)
    sentinel: dict[str, str] = {}
    data_params = []
    for key, value in params:
        if key in _SENTINEL_KEYS:
            if key in sentinel:
                raise InvalidURL(f"{key!r} given twice in {redact_sentinel_url(url)!r}")
            sentinel[key] = value
        else:
            data_params.append((key, value))
    timeout: float | None = None
    if "sentinel_timeout" in sentinel:
        try:
            timeout = float(sentinel["sentinel_timeout"])
        except ValueError:
            raise InvalidURL(f"invalid sentinel_timeout in {redact_sentinel_url(url)!r}") from None
        if not timeout > 0:
            raise InvalidURL(f"sentinel_timeout must be > 0 in {redact_sentinel_url(url)!r}")
    data_scheme = "rediss" if scheme.lower().startswith("rediss") else "redis"
    # the data nodes' part, checked by the redis:// parser (host: replaced on each dial)
    data_url = f"{data_scheme}://{userinfo}{at}{sentinels[0][0]!s}/{db}"
    if ":" in sentinels[0][0]:
        data_url = f"{data_scheme}://{userinfo}{at}[{sentinels[0][0]}]/{db}"
    if data_params:
        data_url += "?" + urlencode(data_params)
    try:
        copts, popts, client = parse_url(data_url, **overrides)
    except InvalidURL as exc:
        message = str(exc).split(" (in ")[0].split(" in '")[0]
        raise InvalidURL(f"{message} (in {redact_sentinel_url(url)!r})") from None
    return SentinelURL(
        sentinels=sentinels,
        service_name=service,
        connection_options=copts,
        pool_options=popts,
        client_options=client,
        sentinel_username=sentinel.get("sentinel_username") or None,
        sentinel_password=sentinel.get("sentinel_password") or None,
        sentinel_timeout=timeout,
    )
