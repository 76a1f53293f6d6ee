"""Option mistakes a new user makes get a clear, documented error (or just work)."""

from __future__ import annotations

from typing import Any

import pytest

import asyncpool

URL = "redis://localhost:6379/0"


async def test_a_port_from_the_environment_is_a_numeric_string(redis_server: Any) -> None:
    if redis_server.password or redis_server.tls_port:
        pytest.skip("needs a plain server")
    async with asyncpool.Redis(host=redis_server.host, port=str(redis_server.port)) as redis:
        assert redis.pool.connection_options.port == redis_server.port
        assert await redis.ping() is True
    redis = asyncpool.Redis.from_url(URL, port=" 6380 ", db="2")
    assert redis.pool.connection_options.port == 6380
    assert redis.pool.connection_options.db == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": "63x9"}, r"^port must be an integer or a numeric string, got '63x9'$"),
        ({"port": 6379.5}, r"^port must be an integer or a numeric string"),
        ({"db": "one"}, r"^db must be an integer or a numeric string"),
        ({"max_connections": "20"}, r"^max_connections must be an integer, got '20'$"),
        ({"socket_timeout": "1.5"}, r"^socket_timeout must be a positive number of seconds"),
        ({"dial_backoff": "0.1"}, r"^dial_backoff must be a number of seconds"),
        ({"max_bulk_length": "big"}, r"^max_bulk_length must be an integer"),
    ],
)
def test_a_wrongly_typed_option_is_named(options: dict[str, Any], message: str) -> None:
    build = asyncpool.ReplyLimits if "max_bulk_length" in options else asyncpool.Redis
    with pytest.raises(asyncpool.ConfigError, match=message) as caught:
        build(**options)
    assert isinstance(caught.value, ValueError)  # never a bare TypeError


def test_a_bad_keyword_to_from_url_is_not_a_bad_url() -> None:
    with pytest.raises(asyncpool.ConfigError) as caught:
        asyncpool.Redis.from_url(URL, max_connections=0)
    assert not isinstance(caught.value, asyncpool.InvalidURL)
    assert "max_connections must be >= 1, got 0" in str(caught.value)
    assert "keyword argument" in str(caught.value)
    assert URL not in str(caught.value)

    with pytest.raises(asyncpool.ConfigError) as typed:
        asyncpool.Pool.from_url(URL, socket_timeout="soon")
    assert not isinstance(typed.value, asyncpool.InvalidURL)
    assert "socket_timeout" in str(typed.value)

    # the same mistake in the URL itself is the URL's
    with pytest.raises(asyncpool.InvalidURL, match=r"max_connections must be >= 1.*in 'redis"):
        asyncpool.Redis.from_url(URL + "?max_connections=0")
    # a keyword argument that fixes the URL's value is not mistaken for a culprit
    fixed = asyncpool.Redis.from_url(URL + "?min_idle=60", max_connections=100)
    assert fixed.pool.options.min_idle == 60


def test_a_misspelt_keyword_suggests_the_option() -> None:
    with pytest.raises(asyncpool.ConfigError, match=r"unknown option 'socket_timout'") as caught:
        asyncpool.Redis.from_url(URL, socket_timout=1)
    assert "did you mean 'socket_timeout'?" in str(caught.value)
    with pytest.raises(asyncpool.ConfigError, match=r"^unknown option 'zzz'$"):
        asyncpool.Redis.from_url(URL, zzz=1)


@pytest.mark.parametrize(
    "make",
    [
        lambda: asyncpool.Pool(health_check_interval=0),
        lambda: asyncpool.Pool(health_check_interval=0.0),
        lambda: asyncpool.Pool.from_url(URL + "?health_check_interval=0"),
        lambda: asyncpool.Redis.from_url(URL, health_check_interval=0).pool,
    ],
)
def test_health_check_interval_zero_means_off(make: Any) -> None:
    pool = make()
    assert pool.options.health_check_interval is None  # exactly what None means
    assert pool.options == asyncpool.PoolOptions(health_check_interval=None)
    with pytest.raises(asyncpool.ConfigError, match="health_check_interval"):
        asyncpool.Pool(health_check_interval=-1)
