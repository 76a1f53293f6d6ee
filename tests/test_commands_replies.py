"""Unit tests of the reply callbacks and argument helpers (no server needed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from asyncpool.client import replies
from asyncpool.client.commands._util import expiry_args, keys_list, mapping_args
from asyncpool.errors import ConfigError


@pytest.mark.parametrize("reply", [b"OK", "OK"])
def test_ok_accepts_bytes_and_str(reply: object) -> None:
    assert replies.ok(reply) is True


def test_ok_rejects_other_replies() -> None:
    assert replies.ok(b"QUEUED") is False
    assert replies.ok(None) is False


def test_to_dict_from_flat_array_and_map() -> None:
    assert replies.to_dict([b"a", b"1", b"b", b"2"]) == {b"a": b"1", b"b": b"2"}
    assert replies.to_dict({"a": "1"}) == {"a": "1"}
    assert replies.to_dict(None) == {}
    assert replies.to_dict([]) == {}


def test_to_set_from_array_and_set() -> None:
    assert replies.to_set([b"x", b"y"]) == {b"x", b"y"}
    assert replies.to_set({"x"}) == {"x"}
    assert replies.to_set(None) == set()


def test_floats_from_strings_and_doubles() -> None:
    assert replies.to_float(b"2.5") == 2.5
    assert replies.to_float("-inf") == float("-inf")
    assert replies.to_float(1.0) == 1.0
    assert replies.to_float_or_none(None) is None


@pytest.mark.parametrize(
    "reply",
    [
        [b"a", b"1", b"b", b"2.5"],  # RESP2 flat
        [[b"a", 1.0], [b"b", 2.5]],  # RESP3 pairs
    ],
    ids=["resp2", "resp3"],
)
def test_zset_pairs_same_shape_in_both_protocols(reply: list[object]) -> None:
    assert replies.zset_pairs(reply) == [(b"a", 1.0), (b"b", 2.5)]


def test_zset_pairs_single_flat_pair_and_empty() -> None:
    # RESP3 ZPOPMIN without a count sends one flat [member, score]
    assert replies.zset_pairs([b"m", 3.0]) == [(b"m", 3.0)]
    assert replies.zset_pairs([]) == []
    assert replies.zset_pairs(None) == []


def test_zpop_blocking() -> None:
    assert replies.zpop_blocking([b"k", b"m", b"1.5"]) == (b"k", b"m", 1.5)
    assert replies.zpop_blocking(["k", "m", 1.5]) == ("k", "m", 1.5)
    assert replies.zpop_blocking(None) is None


def test_scan_callbacks() -> None:
    assert replies.scan_list([b"17", [b"a", b"b"]]) == (17, [b"a", b"b"])
    assert replies.scan_set(["0", ["a", "a"]]) == (0, {"a"})
    assert replies.scan_dict([b"0", [b"f", b"v"]]) == (0, {b"f": b"v"})
    assert replies.scan_pairs([b"3", [b"m", b"2"]]) == (3, [(b"m", 2.0)])


def test_parse_info_numbers_nested_and_ids() -> None:
    text = (
        "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n"
        "uptime_in_seconds:12\r\nmem_fragmentation_ratio:1.25\r\n\r\n"
        "# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\n"
        "executable:/usr/bin/redis-server\r\n"
    )
    info = replies.parse_info(text.encode())
    assert info["redis_version"] == "7.0.15"
    assert info["redis_git_sha1"] == "00000000"
    assert info["uptime_in_seconds"] == 12
    assert info["mem_fragmentation_ratio"] == 1.25
    assert info["db0"] == {"keys": 3, "expires": 1, "avg_ttl": 0}
    assert info["executable"] == "/usr/bin/redis-server"
    assert replies.parse_info(text) == info


def test_parse_client_list() -> None:
    text = b"id=3 addr=127.0.0.1:5000 name= cmd=client|list\nid=4 addr=[::1]:6000 name=w1 cmd=get\n"
    clients = replies.parse_client_list(text)
    assert clients == [
        {"id": "3", "addr": "127.0.0.1:5000", "name": "", "cmd": "client|list"},
        {"id": "4", "addr": "[::1]:6000", "name": "w1", "cmd": "get"},
    ]


def test_stream_entries_and_deleted_entry() -> None:
    reply = [[b"1-1", [b"f", b"v", b"g", b"w"]], [b"1-2", None]]
    assert replies.stream_entries(reply) == [(b"1-1", {b"f": b"v", b"g": b"w"}), (b"1-2", None)]


@pytest.mark.parametrize(
    "reply",
    [
        [[b"s", [[b"1-1", [b"f", b"v"]]]]],  # RESP2
        {b"s": [[b"1-1", [b"f", b"v"]]]},  # RESP3
    ],
    ids=["resp2", "resp3"],
)
def test_parse_xread_both_protocols(reply: object) -> None:
    assert replies.parse_xread(reply) == {b"s": [(b"1-1", {b"f": b"v"})]}


def test_parse_xread_timeout_is_empty_dict() -> None:
    assert replies.parse_xread(None) == {}


def test_xpending_summary_and_range() -> None:
    summary = replies.parse_xpending_summary([2, b"1-1", b"1-2", [[b"c", b"2"]]])
    assert summary == {
        "pending": 2,
        "min": b"1-1",
        "max": b"1-2",
        "consumers": [{"name": b"c", "pending": 2}],
    }
    empty = replies.parse_xpending_summary([0, None, None, None])
    assert empty == {"pending": 0, "min": None, "max": None, "consumers": []}
    detail = replies.parse_xpending_range([[b"1-1", b"c", 15, 1]])
    assert detail == [
        {"message_id": b"1-1", "consumer": b"c", "time_since_delivered": 15, "times_delivered": 1}
    ]


def test_xautoclaim_redis7_and_62() -> None:
    entries = [[b"1-1", [b"f", b"v"]]]
    assert replies.parse_xautoclaim([b"0-0", entries, [b"1-0"]]) == (
        b"0-0",
        [(b"1-1", {b"f": b"v"})],
        [b"1-0"],
    )
    assert replies.parse_xautoclaim([b"0-0", [b"1-1"]], justid=True) == (b"0-0", [b"1-1"], [])


def test_to_str_and_bools() -> None:
    assert replies.to_str(b"abc") == "abc"
    assert replies.to_str("abc") == "abc"
    assert replies.to_bool_list([1, 0]) == [True, False]
    assert replies.to_tuple_or_none([b"k", b"v"]) == (b"k", b"v")
    assert replies.to_tuple_or_none(None) is None


# -- argument helpers ------------------------------------------------------------------------
def test_expiry_args_forms() -> None:
    assert expiry_args("set", 5, None, None, None) == ["EX", 5]
    assert expiry_args("set", timedelta(seconds=2), None, None, None) == ["EX", 2]
    assert expiry_args("set", timedelta(milliseconds=1500), None, None, None) == ["PX", 1500]
    assert expiry_args("set", None, timedelta(seconds=1), None, None) == ["PX", 1000]
    when = datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert expiry_args("set", None, None, when, None) == ["EXAT", 1893456000]
    assert expiry_args("set", None, None, None, when) == ["PXAT", 1893456000000]
    assert expiry_args("set", None, None, None, None) == []


def test_expiry_args_refuses_two_expiries() -> None:
    with pytest.raises(ConfigError, match="ex and px"):
        expiry_args("set", 1, 1000, None, None)


def test_keys_list_and_mapping_args() -> None:
    assert keys_list("a", ("b",)) == ["a", "b"]
    assert keys_list(b"a") == [b"a"]
    assert keys_list(["a", "b"], ("c",)) == ["a", "b", "c"]
    assert mapping_args("mset", {"a": 1, "b": 2}) == ["a", 1, "b", 2]
    with pytest.raises(ConfigError):
        mapping_args("mset", {})
