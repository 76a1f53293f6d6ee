"""The RESP command encoder: exact bytes, binary safety and clear errors for bad arguments."""

from __future__ import annotations

import enum

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from asyncpool.resp import NEED_MORE, encode_command, encode_commands, make_parser


def test_exact_bytes() -> None:
    assert encode_command(("SET", "key", b"val", 10, 1.5)) == (
        b"*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\nval\r\n$2\r\n10\r\n$3\r\n1.5\r\n"
    )


def test_str_is_utf8_and_numbers_are_decimal() -> None:
    assert encode_command(["GET", "clé"]) == b"*2\r\n$3\r\nGET\r\n$4\r\ncl\xc3\xa9\r\n"
    assert encode_command(["X", -7, 2**70]) == (
        b"*3\r\n$1\r\nX\r\n$2\r\n-7\r\n$22\r\n1180591620717411303424\r\n"
    )
    assert encode_command(["X", float("inf"), float("-inf"), 1e300, 0.1]) == (
        b"*5\r\n$1\r\nX\r\n$3\r\ninf\r\n$4\r\n-inf\r\n$6\r\n1e+300\r\n$3\r\n0.1\r\n"
    )


def test_buffer_types() -> None:
    expected = b"*3\r\n$1\r\nX\r\n$3\r\nabc\r\n$3\r\ndef\r\n"
    assert encode_command(["X", bytearray(b"abc"), memoryview(b"def")]) == expected
    wide = memoryview(bytes(range(8))).cast("H")  # a 4-item view of 8 bytes
    assert encode_command([b"X", wide]) == b"*2\r\n$1\r\nX\r\n$8\r\n" + bytes(range(8)) + b"\r\n"


def test_subclasses_of_str_and_int() -> None:
    class Color(str, enum.Enum):
        RED = "red"

    class Level(enum.IntEnum):
        HIGH = 3

    assert encode_command(["X", Color.RED, Level.HIGH]) == (
        b"*3\r\n$1\r\nX\r\n$3\r\nred\r\n$1\r\n3\r\n"
    )


def test_long_commands_and_large_values() -> None:
    args: list[bytes | int] = [b"RPUSH", b"k", *range(2000)]
    encoded = encode_command(args)
    assert encoded.startswith(b"*2002\r\n")
    big = b"\x00\r\n" * 10_000
    assert encode_command([b"SET", b"k", big]).endswith(b"$30000\r\n" + big + b"\r\n")


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [(True, "bool"), (None, "NoneType"), ([1], "list"), ({"a": 1}, "dict"), (object(), "object")],
)
def test_bad_types_name_the_argument(bad: object, type_name: str) -> None:
    with pytest.raises(TypeError, match=rf"argument 2\b.*{type_name}"):
        encode_command(["SET", "k", bad])  # type: ignore[list-item]


def test_nan_and_empty_command_are_refused() -> None:
    with pytest.raises(ValueError, match="argument 1"):
        encode_command(["X", float("nan")])
    with pytest.raises(ValueError, match="empty"):
        encode_command([])


def test_encode_commands_is_the_concatenation() -> None:
    commands = [("GET", "a"), ("INCR", "b"), ("SET", "c", b"\xff")]
    assert encode_commands(commands) == b"".join(encode_command(c) for c in commands)
    assert encode_commands([]) == b""


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=64),
            st.text(max_size=16),
            st.integers(),
            st.floats(allow_nan=False),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_round_trip_through_the_parser(args: list[bytes | str | int | float]) -> None:
    """A command is a RESP array of bulk strings, so our own parser reads it back."""
    parser = make_parser("python")
    parser.feed(encode_command(args))
    decoded = parser.gets()
    assert parser.gets() is NEED_MORE
    expected = []
    for arg in args:
        if isinstance(arg, bytes):
            expected.append(arg)
        elif isinstance(arg, str):
            expected.append(arg.encode())
        elif isinstance(arg, int):
            expected.append(str(arg).encode())
        else:
            assert float(decoded[len(expected)]) == arg  # type: ignore[index]
            expected.append(decoded[len(expected)])  # type: ignore[index]
    assert decoded == expected


@given(
    st.lists(
        st.one_of(st.binary(max_size=64), st.text(max_size=16), st.integers()),
        min_size=1,
        max_size=8,
    )
)
def test_the_c_fast_path_writes_what_the_python_path_writes(
    args: list[bytes | str | int],
) -> None:
    """A tuple of exact bytes/str/int is packed by hiredis; a list takes the Python path."""
    packed = encode_command(tuple(args))
    assert packed == encode_command(args)
    parser = make_parser("python")
    parser.feed(packed)
    assert parser.gets() == [a if isinstance(a, bytes) else str(a).encode() for a in args]


def test_what_the_c_fast_path_would_get_wrong_takes_the_python_path() -> None:
    """NaN (hiredis sends ``nan``), bool and buffer types behave as without hiredis."""
    with pytest.raises(ValueError, match="NaN"):
        encode_command(("SET", "k", float("nan")))
    with pytest.raises(TypeError, match="argument 2: bool"):
        encode_command(("SET", "k", True))
    assert encode_command(("SET", "k", bytearray(b"v"))) == encode_command(["SET", "k", b"v"])
    assert (
        encode_command(("INCRBYFLOAT", "k", 1.5))
        == b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\nk\r\n$3\r\n1.5\r\n"
    )
    with pytest.raises(ValueError, match="empty"):
        encode_command(())


@given(
    st.text(min_size=1, max_size=12),
    st.lists(st.one_of(st.binary(max_size=1100), st.text(max_size=40)), min_size=1, max_size=2),
)
@example("SET", [b"k" * 1023, b"v" * 1024])  # either side of the cached header table's end
@example("GET", [b"k" * 1024])
@example("HGET", ["clé", "é" * 600])  # 1200 bytes once encoded
def test_short_commands_from_cached_headers_match_the_python_path(
    name: str, rest: list[bytes | str]
) -> None:
    """A str name and one or two bytes/str arguments are joined from cached headers."""
    args = (name, *rest)
    assert encode_command(args) == encode_command(list(args))  # a list: the Python path


def test_short_commands_past_the_header_cache_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from asyncpool.resp import encoder

    monkeypatch.setattr(encoder, "_MAX_HEADS", 0)  # full: new names are not cached
    assert encode_command(("NEVERSEEN", b"k")) == b"*2\r\n$9\r\nNEVERSEEN\r\n$1\r\nk\r\n"
    assert "NEVERSEEN" not in encoder._HEADS
