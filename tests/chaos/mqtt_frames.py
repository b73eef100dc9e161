"""MQTT framing: a control packet is a fixed header (one byte of type and flags, then the
remaining length as a 1–4 byte varint) and that many bytes. Enough to cut a TCP stream
into whole frames and name them; the bodies are never parsed."""

from __future__ import annotations

from dataclasses import dataclass

MAX_REMAINING_LENGTH = 268_435_455  # 4 varint bytes of 7 bits

PACKET_TYPES: dict[int, str] = {
    1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL",
    7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK",
    12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH",
}


class FrameError(ValueError):
    """The stream is not MQTT (a reserved type or a varint longer than 4 bytes)."""


@dataclass(frozen=True)
class Frame:
    raw: bytes

    @property
    def type_code(self) -> int:
        return self.raw[0] >> 4

    @property
    def name(self) -> str:
        return PACKET_TYPES[self.type_code]


def encode_remaining_length(length: int) -> bytes:
    if not 0 <= length <= MAX_REMAINING_LENGTH:
        raise FrameError(f"remaining length {length} out of range")
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def decode_remaining_length(buffer: bytes | bytearray, start: int = 1) -> tuple[int, int] | None:
    """(length, varint size) read at `start`, or None while the varint is incomplete."""
    value = 0
    for i in range(4):
        if start + i >= len(buffer):
            return None
        byte = buffer[start + i]
        value += (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, i + 1
    raise FrameError("remaining length longer than 4 bytes")


def build(type_name: str, body: bytes = b"", flags: int = 0) -> bytes:
    """A frame of the given type around `body` (for tests and for a proxy's own frames)."""
    code = next(code for code, name in PACKET_TYPES.items() if name == type_name)
    return bytes([code << 4 | flags]) + encode_remaining_length(len(body)) + body


class FrameReader:
    """Feed it TCP reads of any size; it returns the frames completed by each read."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held of a frame not yet complete."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while self._buffer:
            if self._buffer[0] >> 4 == 0:
                raise FrameError("reserved packet type 0")
            header = decode_remaining_length(self._buffer)
            if header is None:
                break
            length, size = header
            end = 1 + size + length
            if len(self._buffer) < end:
                break
            frames.append(Frame(bytes(self._buffer[:end])))
            del self._buffer[:end]
        return frames
