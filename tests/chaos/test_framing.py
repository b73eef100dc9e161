"""MQTT framing without a broker: varints of 1–4 bytes, frames cut anywhere by TCP."""

from __future__ import annotations

import pytest

from tests.chaos.mqtt_frames import (
    FrameError,
    FrameReader,
    build,
    decode_remaining_length,
    encode_remaining_length,
)


@pytest.mark.parametrize(("length", "size"), [
    (0, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (2_097_151, 3), (2_097_152, 4),
    (268_435_455, 4),
])
def test_remaining_length_round_trips_in_one_to_four_bytes(length: int, size: int) -> None:
    encoded = encode_remaining_length(length)
    assert len(encoded) == size
    assert decode_remaining_length(b"\x30" + encoded) == (length, size)


def test_remaining_length_beyond_four_bytes_is_refused() -> None:
    with pytest.raises(FrameError):
        encode_remaining_length(268_435_456)
    with pytest.raises(FrameError):
        decode_remaining_length(b"\x30\xff\xff\xff\xff\x01")


def test_an_incomplete_varint_waits_for_more() -> None:
    assert decode_remaining_length(b"\x30") is None
    assert decode_remaining_length(b"\x30\x80\x80") is None


def test_frames_fed_one_byte_at_a_time_come_out_whole() -> None:
    stream = build("CONNECT", b"\x00\x04MQTT\x05") + build("PUBLISH", b"t" * 300, flags=2) \
        + build("PINGREQ")
    reader, frames = FrameReader(), []
    for byte in stream:
        frames += reader.feed(bytes([byte]))
    assert [f.name for f in frames] == ["CONNECT", "PUBLISH", "PINGREQ"]
    assert b"".join(f.raw for f in frames) == stream
    assert reader.pending == 0


def test_a_frame_split_anywhere_across_two_segments_is_one_frame() -> None:
    frame = build("PUBLISH", bytes(range(256)) * 2, flags=2)  # a 2-byte varint
    for cut in range(1, len(frame)):
        reader = FrameReader()
        assert reader.feed(frame[:cut]) == []
        assert reader.pending == cut
        (whole,) = reader.feed(frame[cut:])
        assert whole.raw == frame and whole.name == "PUBLISH"


def test_several_frames_and_a_partial_one_in_one_segment() -> None:
    a, b, c = build("PUBACK", b"\x00\x01"), build("PINGRESP"), build("PUBLISH", b"x" * 20_000)
    reader = FrameReader()
    frames = reader.feed(a + b + c[:5])
    assert [f.raw for f in frames] == [a, b]
    assert reader.pending == 5
    assert [f.raw for f in reader.feed(c[5:])] == [c]


def test_a_frame_with_a_four_byte_length_is_read_whole() -> None:
    frame = build("PUBLISH", b"\xab" * 2_097_152)
    assert frame[1:5] == encode_remaining_length(2_097_152)
    reader = FrameReader()
    frames: list[bytes] = []
    for start in range(0, len(frame), 65_536):
        frames += [f.raw for f in reader.feed(frame[start:start + 65_536])]
    assert frames == [frame]


def test_a_reserved_packet_type_is_not_mqtt() -> None:
    with pytest.raises(FrameError):
        FrameReader().feed(b"\x00\x00")
