"""Both RESP parsers against generated replies, cut at random byte boundaries.

Unit tests of the wire codec: no server is involved, the bytes are built here.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncpool.errors import (
    MovedError,
    NoScriptError,
    ProtocolError,
    ResponseError,
    WrongTypeError,
)
from asyncpool.options import ReplyLimits
from asyncpool.resp import HIREDIS_AVAILABLE, NEED_MORE, Parser, PushMessage, make_parser
from asyncpool.resp.base import MAX_LINE, read_replies

KINDS = ["python", "hiredis"] if HIREDIS_AVAILABLE else ["python"]
Expected = Any


# -- building replies ---------------------------------------------------------


def _bulk(kind: bytes, payload: bytes) -> bytes:
    return kind + b"%d\r\n" % len(payload) + payload + b"\r\n"


class _Err:
    """Expected error reply: compared by class and message."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"_Err({self.message!r})"


def same(actual: object, expected: Expected) -> bool:
    """Deep equality that also checks types (list vs PushMessage, int vs bool, ...)."""
    if isinstance(expected, _Err):
        return isinstance(actual, ResponseError) and str(actual) == expected.message
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, float):
        return (math.isnan(expected) and math.isnan(actual)) or actual == expected  # type: ignore[arg-type]
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(  # type: ignore[arg-type]
            same(a, e)
            for a, e in zip(actual, expected, strict=True)  # type: ignore[call-overload]
        )
    if isinstance(expected, set):
        return len(actual) == len(expected) and all(  # type: ignore[arg-type]
            any(same(a, e) for a in actual)  # type: ignore[attr-defined]
            for e in expected
        )
    if isinstance(expected, dict):
        a_items, e_items = list(actual.items()), list(expected.items())  # type: ignore[attr-defined]
        return len(a_items) == len(e_items) and all(
            same(ak, ek) and same(av, ev)
            for (ak, av), (ek, ev) in zip(a_items, e_items, strict=True)
        )
    return actual == expected


text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
line_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=12
)
int64 = st.integers(-(2**63), 2**63 - 1)


def scalars(decode: bool) -> st.SearchStrategy[tuple[bytes, Expected]]:
    """(wire bytes, expected value) for every non-aggregate type."""

    def s(raw: bytes) -> Expected:
        return raw.decode() if decode else raw

    payload = text.map(str.encode) if decode else st.binary(max_size=24)
    return st.one_of(
        line_text.map(lambda t: (b"+" + t.encode() + b"\r\n", s(t.encode()))),
        line_text.map(lambda t: (b"-ERR " + t.encode() + b"\r\n", _Err("ERR " + t))),
        int64.map(lambda n: (b":%d\r\n" % n, n)),
        payload.map(lambda p: (_bulk(b"$", p), s(p))),
        st.sampled_from([b"$-1\r\n", b"*-1\r\n", b"_\r\n"]).map(lambda w: (w, None)),
        st.floats(allow_nan=True).map(lambda f: (b"," + repr(f).encode() + b"\r\n", f)),
        st.integers().map(lambda n: (b"(%d\r\n" % n, n)),
        st.booleans().map(lambda b: (b"#t\r\n" if b else b"#f\r\n", b)),
        line_text.map(lambda t: (_bulk(b"!", b"WRONGTYPE " + t.encode()), _Err("WRONGTYPE " + t))),
        payload.map(lambda p: (_bulk(b"=", b"txt:" + p), s(p))),
    )


def hashables(decode: bool) -> st.SearchStrategy[tuple[bytes, Expected]]:
    def s(raw: bytes) -> Expected:
        return raw.decode() if decode else raw

    payload = text.map(str.encode) if decode else st.binary(max_size=12)
    return st.one_of(
        payload.map(lambda p: (_bulk(b"$", p), s(p))),
        int64.map(lambda n: (b":%d\r\n" % n, n)),
        st.booleans().map(lambda b: (b"#t\r\n" if b else b"#f\r\n", b)),
    )


def _key(pair: Any) -> Any:
    """Distinct map keys: hiredis mis-builds a map with repeated keys (Redis never sends one)."""
    return pair[0][1]


def _array(children: list[tuple[bytes, Expected]]) -> tuple[bytes, Expected]:
    return b"*%d\r\n" % len(children) + b"".join(c[0] for c in children), [c[1] for c in children]


def _push(children: list[tuple[bytes, Expected]]) -> tuple[bytes, Expected]:
    return (
        b">%d\r\n" % len(children) + b"".join(c[0] for c in children),
        PushMessage(c[1] for c in children),
    )


def _set(children: list[tuple[bytes, Expected]]) -> tuple[bytes, Expected]:
    wire = b"~%d\r\n" % len(children) + b"".join(c[0] for c in children)
    values = [c[1] for c in children]
    try:
        return wire, set(values)
    except TypeError:
        return wire, values


def _map(pairs: list[tuple[tuple[bytes, Expected], tuple[bytes, Expected]]]) -> Any:
    wire = b"%%%d\r\n" % len(pairs) + b"".join(k[0] + v[0] for k, v in pairs)
    return wire, dict((k[1], v[1]) for k, v in pairs)


def _attributed(pair: Any) -> tuple[bytes, Expected]:
    attrs, (wire, value) = pair
    head = b"|%d\r\n" % len(attrs) + b"".join(k[0] + v[0] for k, v in attrs)
    return head + wire, value


def replies(decode: bool = False) -> st.SearchStrategy[tuple[bytes, Expected]]:
    keys = hashables(decode)

    def extend(children: st.SearchStrategy[tuple[bytes, Expected]]) -> Any:
        small = st.lists(children, max_size=4)
        return st.one_of(
            small.map(_array),
            small.map(_push),
            small.map(_set),
            st.lists(st.tuples(keys, children), max_size=3, unique_by=_key).map(_map),
            st.tuples(
                st.lists(st.tuples(keys, children), max_size=2, unique_by=_key), children
            ).map(_attributed),
        )

    return st.recursive(scalars(decode), extend, max_leaves=12)


def _sets_only(children: list[tuple[bytes, Expected]]) -> tuple[bytes, Expected]:
    return _set(children)


# -- driving parsers --------------------------------------------------------------


def read_all(
    parser: Parser, chunks: list[bytes], *, batch: bool = True
) -> tuple[list[object], ProtocolError | None]:
    """Feed ``chunks``; the replies read, and the error that ended the stream, if any.

    ``batch``: one ``replies()`` per chunk, as the transport reads; else
    ``read_replies()``: ``gets()`` until ``NEED_MORE``, one reply at a time.
    """
    out: list[object] = []
    try:
        for chunk in chunks:
            parser.feed(chunk)
            out.extend(parser.replies() if batch else read_replies(parser))
            if parser.failed is not None:
                raise parser.failed
    except ProtocolError as exc:
        return out, exc
    return out, None


def drain(parser: Parser, chunks: list[bytes]) -> list[object]:
    """Every reply of ``chunks``, read as the transport reads; raises ``ProtocolError``."""
    out, error = read_all(parser, chunks)
    if error is not None:
        raise error
    return out


def cut(stream: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({p % (len(stream) + 1) for p in points} | {0, len(stream)})
    return [stream[a:b] for a, b in itertools.pairwise(edges) if b > a]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(replies(), min_size=1, max_size=4),
    points=st.lists(st.integers(min_value=0), max_size=12),
)
def test_generated_replies_parse_identically(
    items: list[tuple[bytes, Expected]], points: list[int]
) -> None:
    stream = b"".join(w for w, _ in items)
    expected = [e for _, e in items]
    chunks = cut(stream, points)
    for kind in KINDS:
        got = drain(make_parser(kind), chunks)  # type: ignore[arg-type]
        assert len(got) == len(expected), kind
        for g, e in zip(got, expected, strict=True):
            assert same(g, e), (kind, g, e)


@settings(max_examples=80, deadline=None)
@given(items=st.lists(replies(decode=True), min_size=1, max_size=3), data=st.data())
def test_generated_replies_decoded(
    items: list[tuple[bytes, Expected]], data: st.DataObject
) -> None:
    stream = b"".join(w for w, _ in items)
    chunks = cut(stream, data.draw(st.lists(st.integers(min_value=0), max_size=6)))
    for kind in KINDS:
        got = drain(make_parser(kind, encoding="utf-8"), chunks)  # type: ignore[arg-type]
        assert len(got) == len(items)
        for g, (_, e) in zip(got, items, strict=True):
            assert same(g, e), (kind, g, e)


def canon(reply: object) -> object:
    """A comparable form of a parsed reply (errors by type and message, containers by type)."""
    if isinstance(reply, BaseException):
        return ("error", type(reply).__name__, str(reply))
    if isinstance(reply, list):
        return (type(reply).__name__, [canon(r) for r in reply])
    if isinstance(reply, dict):
        return ("dict", [(canon(k), canon(v)) for k, v in reply.items()])
    if isinstance(reply, (set, frozenset)):
        return (type(reply).__name__, sorted(repr(canon(r)) for r in reply))
    if isinstance(reply, float) and math.isnan(reply):
        return ("nan",)
    return (type(reply).__name__, reply)


#: A bulk that is not UTF-8: a DecodeError in its place, the stream stays in sync.
NOT_UTF8 = (b"$2\r\n\xff\xfe\r\n", None)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(st.one_of(replies(decode=True), st.just(NOT_UTF8)), min_size=1, max_size=5),
    points=st.lists(st.integers(min_value=0), max_size=10),
    shallow=st.booleans(),
)
def test_replies_reads_what_gets_reads(
    items: list[tuple[bytes, Expected]], points: list[int], shallow: bool
) -> None:
    """One ``replies()`` per chunk gives what ``gets()`` gives, errors and depth limit included."""
    stream = b"".join(w for w, _ in items)
    chunks = cut(stream, points)
    limits = ReplyLimits(max_depth=2) if shallow else None  # deep replies fail the stream
    for kind in KINDS:
        got, error = read_all(make_parser(kind, encoding="utf-8", limits=limits), chunks)  # type: ignore[arg-type]
        want, want_error = read_all(
            make_parser(kind, encoding="utf-8", limits=limits),  # type: ignore[arg-type]
            chunks,
            batch=False,
        )
        assert [canon(r) for r in got] == [canon(r) for r in want], kind
        assert (error is None) == (want_error is None), (kind, error, want_error)
        if error is None:
            assert len(got) == len(items)


@pytest.mark.parametrize("kind", KINDS)
def test_replies_returns_what_came_before_a_malformed_reply(kind: str) -> None:
    parser = make_parser(kind)  # type: ignore[arg-type]
    parser.feed(b"+first\r\n:2\r\n?bad\r\n+never\r\n")
    assert [canon(r) for r in parser.replies()] == [canon(b"first"), canon(2)]
    assert isinstance(parser.failed, ProtocolError)
    with pytest.raises(ProtocolError):
        parser.replies()
    with pytest.raises(ProtocolError):
        parser.feed(b"+more\r\n")


@pytest.mark.parametrize("kind", KINDS)
def test_byte_by_byte_mixed_stream(kind: str) -> None:
    stream = (
        b"+OK\r\n$5\r\nhello\r\n*2\r\n~2\r\n:1\r\n:2\r\n(123456789012345678901234567890\r\n"
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n*3\r\n:1\r\n|1\r\n+ttl\r\n:5\r\n:2\r\n:3\r\n"
        b"%1\r\n+k\r\n,1.5\r\n=9\r\ntxt:hello\r\n"
    )
    got = drain(make_parser(kind), [stream[i : i + 1] for i in range(len(stream))])  # type: ignore[arg-type]
    assert got == [
        b"OK",
        b"hello",
        [{1, 2}, 123456789012345678901234567890],
        [b"message", b"ch", b"x"],
        [1, 2, 3],
        {b"k": 1.5},
        b"hello",
    ]
    assert isinstance(got[3], PushMessage)
    assert not isinstance(got[4], PushMessage)


@pytest.mark.parametrize("kind", KINDS)
def test_error_replies_map_to_subclasses_and_are_returned(kind: str) -> None:
    parser = make_parser(kind)  # type: ignore[arg-type]
    parser.feed(
        b"-WRONGTYPE Operation against a key\r\n-NOSCRIPT No matching script\r\n"
        b"*2\r\n-MOVED 3999 127.0.0.1:6381\r\n:1\r\n!10\r\nERR blob e\r\n"
    )
    first, second, third, fourth = (parser.gets() for _ in range(4))
    assert isinstance(first, WrongTypeError)
    assert first.code == "WRONGTYPE"
    assert isinstance(second, NoScriptError)
    assert isinstance(third, list)
    assert isinstance(third[0], MovedError)
    assert third[1] == 1
    assert type(fourth) is ResponseError
    assert str(fourth) == "ERR blob e"
    assert parser.gets() is NEED_MORE


@pytest.mark.parametrize("kind", KINDS)
def test_set_with_unhashable_members_is_a_list(kind: str) -> None:
    parser = make_parser(kind)  # type: ignore[arg-type]
    parser.feed(b"~2\r\n*1\r\n:1\r\n:2\r\n")
    assert parser.gets() == [[1], 2]


@pytest.mark.parametrize("kind", KINDS)
def test_decode_error_consumes_the_reply_and_parser_stays_usable(kind: str) -> None:
    parser = make_parser(kind, encoding="utf-8")  # type: ignore[arg-type]
    parser.feed(b"*2\r\n$2\r\n\xff\xfe\r\n+ok\r\n:7\r\n")
    with pytest.raises(UnicodeDecodeError):
        parser.gets()
    assert parser.gets() == 7
    assert parser.gets() is NEED_MORE


@pytest.mark.parametrize("kind", KINDS)
def test_errors_replace_decodes_leniently(kind: str) -> None:
    parser = make_parser(kind, encoding="utf-8", errors="replace")  # type: ignore[arg-type]
    parser.feed(b"$2\r\n\xffa\r\n")
    assert parser.gets() == "\ufffda"


# -- malformed and oversized input ---------------------------------------------------

MALFORMED = [
    b"x\r\n",
    b"\r\n",
    b":abc\r\n",
    b":+5\r\n",
    b": 5\r\n",
    b":05\r\n",
    b":1_0\r\n",
    b":99999999999999999999999\r\n",
    b"$abc\r\n",
    b"$ 3\r\nabc\r\n",
    b"$-2\r\n",
    b"*-2\r\n",
    b"*x\r\n",
    b"$3\r\nabcd\r\n",
    b",abc\r\n",
    b",1_0\r\n",
    b"#x\r\n",
    b"(abc\r\n",
    b"(\r\n",
    b"_x\r\n",
    b"+a\nb\r\n",
    b"=3\r\nabc\r\n",
    b"~-2\r\n",
    b"%1\r\n*1\r\n:1\r\n:2\r\n",
    b"!-1\r\n",
    b"*2\r\n:1\r\n?\r\n",
    # a bulk payload must be followed by CRLF (hiredis alone skips those two bytes unread)
    b"$3\r\nabcXX:1\r\n",
    b"$3\r\nabc\rX:1\r\n",
    b"$3\r\nabcX\n:1\r\n",
    b"$0\r\nXX:1\r\n",
    b"*2\r\n$3\r\nabcXX:1\r\n",
    b"$1000\r\n" + b"x" * 1000 + b"XX:1\r\n",
    b"*2\r\n$1\r\na\r\n$2000\r\n" + b"y" * 2000 + b"XY:1\r\n",
    b"=7\r\ntxt:abcXX:1\r\n",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("wire", MALFORMED)
def test_malformed_input_raises_protocol_error(kind: str, wire: bytes) -> None:
    for chunks in ([wire], [wire[i : i + 1] for i in range(len(wire))]):
        with pytest.raises(ProtocolError):
            drain(make_parser(kind), [*chunks, b"+next\r\n"])  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_parser_is_unusable_after_protocol_error(kind: str) -> None:
    parser = make_parser(kind)  # type: ignore[arg-type]
    parser.feed(b"?\r\n")
    with pytest.raises(ProtocolError):
        parser.gets()
    with pytest.raises(ProtocolError):
        drain(parser, [b"+OK\r\n"])


SMALL = ReplyLimits(max_bulk_length=100, max_aggregate_length=10, max_depth=3)
OVER_LIMIT = [
    b"$101\r\n",
    b"=101\r\n",
    b"!101\r\n",
    b"*11\r\n",
    b"~11\r\n",
    b">11\r\n",
    b"%6\r\n",  # a map counts its pairs twice
    b"|6\r\n",
    b"*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",  # depth 4
    b"*1\r\n%1\r\n:1\r\n*1\r\n*0\r\n",  # depth 4 through a map value
    b"$99999999999999999999\r\n",
    b"+" + b"x" * 200,  # an unterminated line longer than max_bulk_length
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("wire", OVER_LIMIT)
def test_over_limit_raises_protocol_error(kind: str, wire: bytes) -> None:
    for chunks in ([wire], [wire[i : i + 1] for i in range(len(wire))]):
        with pytest.raises(ProtocolError):
            drain(make_parser(kind, limits=SMALL), chunks)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_within_limits_is_accepted(kind: str) -> None:
    wire = _bulk(b"$", b"x" * 100) + b"*10\r\n" + b":1\r\n" * 10 + b"*1\r\n*1\r\n*0\r\n"
    got = drain(make_parser(kind, limits=SMALL), [wire])  # type: ignore[arg-type]
    assert got == [b"x" * 100, [1] * 10, [[[]]]]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "header", [b"*2000000000\r\n", b"%2000000000\r\n", b"*4294967295\r\n", b"$536870912\r\n"]
)
def test_huge_headers_within_default_limits_allocate_nothing(kind: str, header: bytes) -> None:
    """hiredis would pre-allocate a list this long; the guard must keep it from seeing it."""
    parser = make_parser(kind)  # type: ignore[arg-type]
    parser.feed(header)
    assert parser.gets() is NEED_MORE
    parser.feed(b":1\r\n" if header[:1] != b"$" else b"abc")
    assert parser.gets() is NEED_MORE


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("header", [b"*4294967296\r\n", b"$536870913\r\n", b"%2147483648\r\n"])
def test_headers_over_default_limits_fail_fast(kind: str, header: bytes) -> None:
    parser = make_parser(kind)  # type: ignore[arg-type]
    with pytest.raises(ProtocolError):
        drain(parser, [header])


@pytest.mark.parametrize("kind", KINDS)
def test_deep_nesting_within_default_limit(kind: str) -> None:
    wire = b"*1\r\n" * 64 + b":1\r\n"
    value = drain(make_parser(kind), [wire])[0]  # type: ignore[arg-type]
    for _ in range(64):
        assert isinstance(value, list)
        value = value[0]
    assert value == 1
    with pytest.raises(ProtocolError):
        drain(make_parser(kind), [b"*1\r\n" + wire])  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_deep_nesting_counted_across_chunks(kind: str) -> None:
    """The nesting arrives after the first chunk that crossed the depth threshold."""
    pad = _bulk(b"$", b"x" * 300)  # the first chunk alone is past 4 * (max_depth + 1) bytes

    def chunks(levels: int) -> list[bytes]:
        nested = b"*1\r\n" * levels + b":1\r\n"
        return [b"*2\r\n" + pad] + [nested[i : i + 16] for i in range(0, len(nested), 16)]

    value = drain(make_parser(kind), chunks(63))[0]  # type: ignore[arg-type]
    assert len(value) == 2  # depth 64: the limit
    assert value[0] == b"x" * 300
    with pytest.raises(ProtocolError):
        drain(make_parser(kind), chunks(64))  # type: ignore[arg-type]


def test_hiredis_parser_goes_back_to_fast_path() -> None:
    """After a RESP3 set or push the guard hands the stream back to hiredis."""
    if not HIREDIS_AVAILABLE:
        pytest.skip("hiredis not installed")
    from asyncpool.resp.hiredis_parser import HiredisParser

    parser = HiredisParser()
    parser.feed(b"~1\r\n:1\r\n$3\r\nabc\r\n")
    assert parser.gets() == {1}
    assert parser.gets() == b"abc"
    assert parser._py is None  # a private detail, checked so the fast path is not lost
    parser.feed(b"$4\r\nab")
    assert parser.gets() is NEED_MORE
    parser.feed(b"cd\r\n")
    assert parser.gets() == b"abcd"
    assert parser._py is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payloads=st.lists(st.binary(max_size=1200), min_size=1, max_size=6),
    victim=st.integers(min_value=0),
    junk=st.binary(min_size=2, max_size=2).filter(lambda b: b != b"\r\n"),
    points=st.lists(st.integers(min_value=0), max_size=8),
)
def test_a_bulk_without_its_crlf_is_never_returned(
    payloads: list[bytes], victim: int, junk: bytes, points: list[int]
) -> None:
    """One bulk's terminator is replaced: replies before it come out, then ProtocolError."""
    victim %= len(payloads)
    wire = [b"$%d\r\n%s\r\n" % (len(p), p) for p in payloads]
    wire[victim] = wire[victim][:-2] + junk
    stream = b"".join(wire) + b":1\r\n"
    for kind in KINDS:
        parser = make_parser(kind)  # type: ignore[arg-type]
        got: list[object] = []

        def read_all(parser: Parser = parser, got: list[object] = got) -> None:
            for chunk in cut(stream, points):
                parser.feed(chunk)
                while (reply := parser.gets()) is not NEED_MORE:
                    got.append(reply)

        with pytest.raises(ProtocolError, match="CRLF"):
            read_all()
        assert got == payloads[:victim], kind


@pytest.mark.parametrize("kind", KINDS)
def test_payload_that_looks_like_a_broken_bulk_is_data(kind: str) -> None:
    """Header-like bytes inside a payload are not checked as headers (and cost no fallback)."""
    tricky = b"x\r\n$3\r\nabXY\n$5\r\n"
    wire = _bulk(b"$", tricky) + b"*2\r\n" + _bulk(b"$", tricky * 300) + b":7\r\n"
    for chunks in ([wire], [wire[i : i + 7] for i in range(0, len(wire), 7)]):
        parser = make_parser(kind)  # type: ignore[arg-type]
        assert drain(parser, chunks) == [tricky, [tricky * 300, 7]]
        if kind == "hiredis":
            assert parser._py is None  # type: ignore[attr-defined]


LINE_KINDS = [b"+", b"-ERR ", b":", b",", b"(", b"$", b"*"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("start", LINE_KINDS)
@pytest.mark.parametrize("step", [65536 + 64, 4096, 1000])
def test_unterminated_line_fails_past_max_line(kind: str, start: bytes, step: int) -> None:
    """A line that never ends costs MAX_LINE bytes, not max_bulk_length (512 MiB)."""
    parser = make_parser(kind)  # type: ignore[arg-type]
    parser.feed(b"+OK\r\n$2\r\nhi\r\n")  # some clean replies first: hiredis is on its fast path
    assert [parser.gets(), parser.gets()] == [b"OK", b"hi"]
    line = start + b"9" * (MAX_LINE - len(start)) + b"\r"  # could still end in "\n"
    for i in range(0, len(line), step):
        parser.feed(line[i : i + step])
        assert parser.gets() is NEED_MORE
    parser.feed(b"9")  # past MAX_LINE without CRLF
    with pytest.raises(ProtocolError, match="longer than"):
        parser.gets()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("step", [None, 4096, 1])
def test_line_length_bound_does_not_depend_on_chunking(kind: str, step: int | None) -> None:
    longest = b"-ERR " + b"e" * (MAX_LINE - 5) + b"\r\n"
    too_long = b"+" + b"s" * MAX_LINE + b"\r\n"
    for wire, ok in ((longest + b":1\r\n", True), (too_long + b":1\r\n", False)):
        chunks = [wire] if step is None else [wire[i : i + step] for i in range(0, len(wire), step)]
        parser = make_parser(kind)  # type: ignore[arg-type]
        if ok:
            got = drain(parser, chunks)
            assert isinstance(got[0], ResponseError)
            assert got[1:] == [1]
        else:
            with pytest.raises(ProtocolError, match="longer than"):
                drain(parser, chunks)


def test_make_parser_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="parser"):
        make_parser("fast")  # type: ignore[arg-type]


def clean_replies() -> st.SearchStrategy[tuple[bytes, Expected]]:
    """Replies hiredis parses natively (no set, push, attribute, big number, blob error)."""
    keys = hashables(False)
    leaves = scalars(False).filter(lambda item: item[0][:1] not in (b"(", b"!"))

    def extend(children: st.SearchStrategy[tuple[bytes, Expected]]) -> Any:
        return st.one_of(
            st.lists(children, max_size=5).map(_array),
            st.lists(st.tuples(keys, children), max_size=3, unique_by=_key).map(_map),
        )

    return st.recursive(leaves, extend, max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(clean_replies(), min_size=1, max_size=6),
    points=st.lists(st.integers(min_value=0), max_size=8),
)
def test_clean_streams_stay_on_hiredis(
    items: list[tuple[bytes, Expected]], points: list[int]
) -> None:
    if not HIREDIS_AVAILABLE:
        pytest.skip("hiredis not installed")
    from asyncpool.resp.hiredis_parser import HiredisParser

    parser = HiredisParser()
    got = drain(parser, cut(b"".join(w for w, _ in items), points))
    assert len(got) == len(items)
    for g, (_, e) in zip(got, items, strict=True):
        assert same(g, e), (g, e)
    assert parser._py is None
