"""WS-Discovery (ONVIF Core §7): a Probe for NetworkVideoTransmitters, sent to the LAN's
multicast group and/or straight to given addresses, and the ProbeMatches collected.

Our own small prober rather than the `wsdiscovery` package: that one ignores loopback and
runs threads; this is one asyncio UDP socket, closed in a `finally`, answering only
replies that relate to our probe's MessageID (a LAN is not trusted: anything else on it
may send datagrams to the port).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote
from xml.etree import ElementTree

WS_DISCOVERY_GROUP = "239.255.255.250"
WS_DISCOVERY_PORT = 3702
# A datagram larger than this is no ProbeMatches we want to parse.
MAX_REPLY_BYTES = 16 * 1024
MAX_MATCHES = 256

_NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "d": "http://schemas.xmlsoap.org/ws/2005/04/discovery",
}
_PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"
 xmlns:dn="http://www.onvif.org/ver10/network/wsdl">
<s:Header>
<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>
<a:MessageID>urn:uuid:{message_id}</a:MessageID>
<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>
</s:Header>
<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>
</s:Envelope>"""


@dataclass(frozen=True)
class ProbeMatch:
    """One device that answered: its endpoint reference (a stable `urn:uuid:`), its
    device-service addresses, and the ONVIF scopes it advertises."""

    endpoint: str
    xaddrs: tuple[str, ...]
    scopes: tuple[str, ...]
    source: str

    def scope(self, kind: str) -> str | None:
        """`onvif://www.onvif.org/<kind>/<value>` → value (URL-decoded), e.g. name, hardware."""
        prefix = f"onvif://www.onvif.org/{kind}/"
        for scope in self.scopes:
            if scope.lower().startswith(prefix):
                return unquote(scope[len(prefix):]) or None
        return None


def probe_message(message_id: uuid.UUID) -> bytes:
    return _PROBE.format(message_id=message_id).encode()


def parse_probe_matches(data: bytes, message_id: uuid.UUID, source: str) -> list[ProbeMatch]:
    """The matches in a reply to our probe; [] for anything else (other messages, other
    probes' replies, garbage)."""
    if len(data) > MAX_REPLY_BYTES:
        return []
    try:
        # Python's expat refuses entity-expansion bombs and loads no external entities.
        root = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError:
        return []
    relates = root.findtext("s:Header/a:RelatesTo", default="", namespaces=_NS).strip()
    if relates.lower() not in (f"urn:uuid:{message_id}", f"uuid:{message_id}"):
        return []
    matches = []
    for match in root.iterfind("s:Body/d:ProbeMatches/d:ProbeMatch", _NS):
        endpoint = match.findtext("a:EndpointReference/a:Address", default="",
                                  namespaces=_NS).strip()
        xaddrs = tuple(match.findtext("d:XAddrs", default="", namespaces=_NS).split())
        if not endpoint or not xaddrs:
            continue
        scopes = tuple(match.findtext("d:Scopes", default="", namespaces=_NS).split())
        matches.append(ProbeMatch(endpoint[:200], xaddrs[:8], scopes[:64], source))
    return matches


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, message_id: uuid.UUID) -> None:
        self.message_id = message_id
        self.matches: dict[str, ProbeMatch] = {}

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        for match in parse_probe_matches(data, self.message_id, str(addr[0])):
            if len(self.matches) < MAX_MATCHES:
                self.matches.setdefault(match.endpoint, match)

    def error_received(self, exc: Exception) -> None:
        # An ICMP "port unreachable" from a unicast address: that host has no responder.
        return


def split_address(address: str, default_port: int = WS_DISCOVERY_PORT) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if sep and port.isdigit() and "]" not in port and host.count(":") == 0:
        return host, int(port)
    return address, default_port


async def probe(
    *,
    multicast: bool = True,
    addresses: Sequence[str] = (),
    wait_seconds: float = 3.0,
    port: int = WS_DISCOVERY_PORT,
    group: str = WS_DISCOVERY_GROUP,
    interface: str | None = None,
) -> list[ProbeMatch]:
    """Probe, wait `wait_seconds` for answers, return them (one per endpoint).
    `addresses` are probed by unicast ("host" or "host:port"); `interface` is the local
    IPv4 address multicast leaves from (None: the kernel's choice)."""
    loop = asyncio.get_running_loop()
    message_id = uuid.uuid4()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)  # this LAN only
    if interface:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
    sock.bind((interface or "0.0.0.0", 0))  # noqa: S104 — answers come back to this port
    transport, collector = await loop.create_datagram_endpoint(
        lambda: _Collector(message_id), sock=sock)
    try:
        message = probe_message(message_id)
        targets = [split_address(a, port) for a in addresses]
        if multicast:
            targets.insert(0, (group, port))
        # UDP may drop a datagram: each probe goes out twice (WS-Discovery's
        # MULTICAST_UDP_REPEAT is 1 repeat as well).
        for _ in range(2):
            for target in targets:
                with contextlib.suppress(OSError):  # an unroutable address: no answer
                    transport.sendto(message, target)
            await asyncio.sleep(min(0.2, wait_seconds / 4))
        await asyncio.sleep(max(0.0, wait_seconds - 0.4))
    finally:
        transport.close()
    return list(collector.matches.values())
