"""Slot hashing: CRC16 and hash tags, checked against ``CLUSTER KEYSLOT``."""

from __future__ import annotations

import pytest

from asyncpool.cluster.slots import crc16, hash_slot
from asyncpool.testing import LocalCluster

KEYS = [
    "",
    "a",
    "foo",
    "user:1000",
    "{user1000}.following",
    "{user1000}.followers",
    "foo{}{bar}",
    "foo{{bar}}zap",
    "foo{bar}{zap}",
    "{}",
    "}{",
    "{a",
    "a}",
    "ключ",
    "123456789",
    "x" * 300,
]


def test_crc16_reference_value() -> None:
    assert crc16(b"123456789") == 0x31C3  # CRC16/XMODEM check value


@pytest.mark.parametrize("key", KEYS)
def test_slot_matches_the_server(redis_cluster: LocalCluster, key: str) -> None:
    reply = redis_cluster.nodes[0].command("CLUSTER", "KEYSLOT", key)
    assert isinstance(reply, int)
    assert hash_slot(key) == reply
    assert hash_slot(key.encode()) == reply


def test_hash_tags_share_a_slot() -> None:
    assert hash_slot("{user:1}:name") == hash_slot("{user:1}:mail") == hash_slot("user:1")
    assert hash_slot("foo{}{bar}") != hash_slot("bar")  # an empty tag hashes the whole key
    assert hash_slot(12) == hash_slot("12") == hash_slot(b"12")
