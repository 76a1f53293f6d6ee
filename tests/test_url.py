"""URL parsing: every scheme, option conversion, TLS setup, and secrets kept out of errors."""

from __future__ import annotations

import ssl

import pytest
import trustme

from asyncpool.errors import ConfigError, InvalidURL
from asyncpool.options import ReplyLimits
from asyncpool.url import parse_url, redact_url

SECRET = "s3cr3t-P4ss"


def test_plain_redis_url_with_everything() -> None:
    conn, pool, client = parse_url(f"redis://alice:{SECRET}@cache.example:6380/3")
    assert (conn.host, conn.port, conn.db) == ("cache.example", 6380, 3)
    assert (conn.username, conn.password) == ("alice", SECRET)
    assert conn.ssl is None
    assert pool.max_connections == 50
    assert client == {}


def test_defaults() -> None:
    conn, _, _ = parse_url("redis://localhost")
    assert (conn.host, conn.port, conn.db, conn.username, conn.password) == (
        "localhost",
        6379,
        0,
        None,
        None,
    )
    conn, _, _ = parse_url("redis://localhost/")
    assert conn.db == 0


def test_password_only_and_percent_decoding() -> None:
    conn, _, _ = parse_url("redis://:p%40ss%3Aw%2Fo%25rd@h")
    assert conn.username is None
    assert conn.password == "p@ss:w/o%rd"
    conn, _, _ = parse_url("redis://b%C3%B6b@h")
    assert conn.username == "böb"
    assert conn.password is None


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("redis://[::1]:7000/0", "::1", 7000),
        ("redis://[::1]", "::1", 6379),
        ("redis://u:p@[fe80::1%25eth0]:6390", "fe80::1%eth0", 6390),
        ("REDIS://127.0.0.1:1", "127.0.0.1", 1),
    ],
)
def test_hosts(url: str, host: str, port: int) -> None:
    conn, _, _ = parse_url(url)
    assert (conn.host, conn.port) == (host, port)


@pytest.mark.parametrize("scheme", ["unix", "redis+unix"])
def test_unix_socket(scheme: str) -> None:
    conn, _, _ = parse_url(f"{scheme}://:{SECRET}@/var/run/redis.sock?db=5&client_name=w1")
    assert conn.path == "/var/run/redis.sock"
    assert conn.db == 5
    assert conn.password == SECRET
    assert conn.client_name == "w1"
    assert conn.address == "unix:/var/run/redis.sock/5"


def test_query_parameters_are_converted_by_field_type() -> None:
    conn, pool, client = parse_url(
        "redis://h/1?socket_timeout=2.5&connect_timeout=none&protocol=2&keepalive=no"
        "&max_connections=7&min_idle=1&idle_timeout=&lifo=0&max_idle=3&acquire_timeout=1"
        "&decode_responses=yes&encoding=latin-1&retries=2&deadline=0.5&retry_on_timeout=true"
        "&max_bulk_length=1000&max_depth=8&parser=python&name=cache"
    )
    assert conn.socket_timeout == 2.5
    assert conn.connect_timeout is None
    assert conn.protocol == 2
    assert conn.keepalive is False
    assert conn.decode_responses is True
    assert conn.encoding == "latin-1"
    assert conn.parser == "python"
    assert conn.limits == ReplyLimits(max_bulk_length=1000, max_depth=8)
    assert (pool.max_connections, pool.min_idle, pool.max_idle) == (7, 1, 3)
    assert pool.idle_timeout is None
    assert pool.lifo is False
    assert pool.acquire_timeout == 1.0
    assert pool.name == "cache"
    assert client == {"retries": 2, "deadline": 0.5, "retry_on_timeout": True}


def test_aliases() -> None:
    conn, _, _ = parse_url("redis://h?timeout=3&socket_connect_timeout=4")
    assert conn.socket_timeout == 3.0
    assert conn.connect_timeout == 4.0


def test_overrides_win_over_the_url() -> None:
    conn, pool, client = parse_url(
        "redis://h:1/2?socket_timeout=1&max_connections=3&retries=1",
        port=2,
        db=4,
        socket_timeout=9.0,
        max_connections=11,
        retries=5,
    )
    assert (conn.port, conn.db, conn.socket_timeout) == (2, 4, 9.0)
    assert pool.max_connections == 11
    assert client == {"retries": 5}


def test_unknown_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bogus"):
        parse_url("redis://h", bogus=1)


def test_rediss_verifies_by_default() -> None:
    conn, _, _ = parse_url("rediss://h:6380")
    assert isinstance(conn.ssl, ssl.SSLContext)
    assert conn.ssl.verify_mode == ssl.CERT_REQUIRED
    assert conn.ssl.check_hostname is True


def test_rediss_cert_reqs_none_only_when_asked() -> None:
    conn, _, _ = parse_url("rediss://h?ssl_cert_reqs=none")
    assert conn.ssl is not None
    assert conn.ssl.verify_mode == ssl.CERT_NONE
    assert conn.ssl.check_hostname is False
    conn, _, _ = parse_url("rediss://h?ssl_cert_reqs=optional&ssl_check_hostname=false")
    assert conn.ssl is not None
    assert conn.ssl.verify_mode == ssl.CERT_OPTIONAL
    assert conn.ssl.check_hostname is False


def test_rediss_loads_ca_and_client_certificate(tmp_path: pytest.TempPathFactory) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    ca_file = tmp_path / "ca.pem"  # type: ignore[operator]
    cert_file = tmp_path / "cert.pem"  # type: ignore[operator]
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    conn, _, _ = parse_url(f"rediss://localhost?ssl_ca_certs={ca_file}&ssl_certfile={cert_file}")
    assert conn.ssl is not None
    assert conn.ssl.verify_mode == ssl.CERT_REQUIRED
    assert any("trustme" in str(c) for c in conn.ssl.get_ca_certs())


def test_missing_ca_file_is_invalid_url() -> None:
    with pytest.raises(InvalidURL, match="TLS files") as info:
        parse_url(f"rediss://:{SECRET}@h?ssl_ca_certs=/nonexistent/ca.pem")
    assert SECRET not in str(info.value)


def test_ssl_override() -> None:
    conn, _, _ = parse_url("redis://h", ssl=True)
    assert isinstance(conn.ssl, ssl.SSLContext)
    assert conn.ssl.verify_mode == ssl.CERT_REQUIRED
    mine = ssl.create_default_context()
    conn, _, _ = parse_url("rediss://h", ssl=mine)
    assert conn.ssl is mine
    conn, _, _ = parse_url("rediss://h", ssl=False)
    assert conn.ssl is None
    with pytest.raises(ConfigError):
        parse_url("redis://h", ssl="yes")
    with pytest.raises(InvalidURL):
        parse_url("rediss://h?ssl_cert_reqs=none", ssl=mine)
    with pytest.raises(InvalidURL, match="rediss"):
        parse_url("redis://h?ssl_cert_reqs=none")


@pytest.mark.parametrize(
    ("url", "names"),
    [
        (f"http://u:{SECRET}@h", "scheme"),
        (f"redis//u:{SECRET}@h", "scheme"),
        (f"redis://u:{SECRET}@h:abc/0", "port"),
        (f"redis://u:{SECRET}@h:0", "port"),
        (f"redis://u:{SECRET}@h:70000", "port"),
        (f"redis://u:{SECRET}@h:/0", "port"),
        (f"redis://u:{SECRET}@h/x", "database"),
        (f"redis://u:{SECRET}@h/1/2", "database"),
        (f"redis://u:{SECRET}@h/1?db=2", "database"),
        (f"redis://u:{SECRET}@h?db=-1", "db"),
        (f"redis://u:{SECRET}@h?db=x", "'db'"),
        (f"redis://u:{SECRET}@h?nope=1", "nope"),
        (f"redis://u:{SECRET}@h?socket_timeout=soon", "socket_timeout"),
        (f"redis://u:{SECRET}@h?socket_timeout=-1", "socket_timeout"),
        (f"redis://u:{SECRET}@h?keepalive=maybe", "keepalive"),
        (f"redis://u:{SECRET}@h?protocol=4", "protocol"),
        (f"redis://u:{SECRET}@h?host=x", "host"),
        (f"redis://u:{SECRET}@h?db=1&db=2", "twice"),
        (f"redis://u:{SECRET}@[::1/0", "IPv6"),
        (f"redis://u:{SECRET}@::1/0", "brackets"),
        (f"redis://u:{SECRET}@/0", "host"),
        (f"rediss://u:{SECRET}@h?ssl_cert_reqs=sometimes", "ssl_cert_reqs"),
        (f"unix://u:{SECRET}@host/tmp/sock", "no host"),
        (f"unix://u:{SECRET}@", "path"),
        (f"redis://u:{SECRET}@h#frag", "fragment"),
        (f"redis://u:{SECRET}@h?max_depth=0", "max_depth"),
        # Unescaped reserved characters inside the password.
        (f"redis://u:{SECRET}/x@h/0", "percent-encoded"),
        (f"redis://u:{SECRET}?x=1@h", "percent-encoded"),
        (f"redis://u:{SECRET}#x@h", "fragment"),
        (f"redis://h?password={SECRET}&bad=1", "bad"),
        (f"redis://h?password={SECRET}&socket_timeout=x", "socket_timeout"),
    ],
)
def test_bad_urls_name_the_part_and_hide_the_password(url: str, names: str) -> None:
    with pytest.raises(InvalidURL) as info:
        parse_url(url)
    message = str(info.value)
    assert names in message
    assert SECRET not in message
    assert SECRET[:4] not in message
    assert isinstance(info.value, ValueError)


def test_bad_password_value_is_not_echoed() -> None:
    with pytest.raises(InvalidURL) as info:
        parse_url(f"redis://h?password={SECRET}&password=again")
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"redis://alice:{SECRET}@h:1/0", "redis://alice:***@h:1/0"),
        (f"redis://:{SECRET}@h", "redis://:***@h"),
        ("redis://alice@h", "redis://alice@h"),
        ("redis://h:6379/0?db=1", "redis://h:6379/0?db=1"),
        (f"redis://:{SECRET}/x?y#z@h/0", "redis://:***@h/0"),
        (f"redis://h?a=1&password={SECRET}&b=2", "redis://h?a=1&password=***&b=2"),
        (f"unix://:{SECRET}@/tmp/s", "unix://:***@/tmp/s"),
        (f"nonsense:{SECRET}@h", "***@h"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_reprs_hold_no_password() -> None:
    conn, _, _ = parse_url(f"redis://u:{SECRET}@h")
    assert SECRET not in repr(conn)
