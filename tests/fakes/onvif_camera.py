"""A fake ONVIF Profile S camera: the device and media SOAP services over real HTTP, with
WS-Security UsernameToken PasswordDigest checked as the ONVIF Core spec requires (digest
= Base64(SHA-1(nonce + created + password)), Created within ±5 minutes of the camera's
clock, a nonce used once), and a WS-Discovery responder on UDP (multicast group and
unicast). Written from the ONVIF Core / Media WSDLs, independently of the client under
test. Serves GetSystemDateAndTime and GetServices before authentication (ONVIF access
class PRE_AUTH), then GetDeviceInformation, GetNetworkInterfaces, GetProfiles and
GetStreamUri."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import select
import socket
import struct
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "d": "http://schemas.xmlsoap.org/ws/2005/04/discovery",
}
PRE_AUTH = {"GetSystemDateAndTime", "GetServices", "GetWsdlUrl", "GetServiceCapabilities"}
CREATED_WINDOW = timedelta(minutes=5)
_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
    ' xmlns:tds="http://www.onvif.org/ver10/device/wsdl"'
    ' xmlns:trt="http://www.onvif.org/ver10/media/wsdl"'
    ' xmlns:tt="http://www.onvif.org/ver10/schema"'
    ' xmlns:ter="http://www.onvif.org/ver10/error"><s:Body>{body}</s:Body></s:Envelope>')


@dataclass
class FakeProfile:
    token: str
    name: str
    width: int
    height: int
    fps: int
    path: str


@dataclass
class FakeCamera:
    username: str = "admin"
    password: str = "Cam-Passw0rd!"
    manufacturer: str = "HIKVISION"
    model: str = "DS-2CD2143G2-I"
    firmware: str = "V5.7.3 build 220112"
    serial: str = "DS-2CD2143G2-I20220301AAWRJ12345678"
    mac: str | None = "44:19:b6:6d:24:85"
    clock_offset: timedelta = timedelta(0)
    endpoint: str = field(default_factory=lambda: f"urn:uuid:{uuid.uuid4()}")
    # The host the camera puts in its stream URIs (a Dahua-like quirk when not ours).
    stream_host: str | None = None
    profiles: list[FakeProfile] = field(default_factory=lambda: [
        FakeProfile("Profile_1", "mainStream", 1920, 1080, 25, "/Streaming/Channels/101"),
        FakeProfile("Profile_2", "subStream", 640, 360, 15, "/Streaming/Channels/102"),
    ])
    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _nonces: set[str] = field(default_factory=set)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/onvif/device_service", self._soap, methods=["POST"]),
            Route("/onvif/media_service", self._soap, methods=["POST"]),
        ])

    # -- SOAP --------------------------------------------------------------------------

    async def _soap(self, request: Request) -> Response:
        try:
            root = ElementTree.fromstring(await request.body())  # noqa: S314 — test fake
        except ElementTree.ParseError:
            return _fault("s:Sender", "ter:WellFormed", "not XML", 400)
        body = root.find("s:Body", NS)
        if body is None or len(body) == 0:
            return _fault("s:Sender", "ter:InvalidArgs", "no body", 400)
        operation = body[0].tag.rsplit("}", 1)[-1]
        if operation not in PRE_AUTH and not self._authenticated(root):
            self.refused.append(operation)
            return _fault("s:Sender", "ter:NotAuthorized", "Sender not Authorized", 400)
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            return _fault("s:Receiver", "ter:ActionNotSupported", operation, 400)
        self.served.append(operation)
        base = f"{request.url.scheme}://{request.url.netloc}"
        return Response(_ENVELOPE.format(body=handler(body[0], base, request)),
                        media_type="application/soap+xml; charset=utf-8")

    def _authenticated(self, root: ElementTree.Element) -> bool:
        token = root.find("s:Header/wsse:Security/wsse:UsernameToken", NS)
        if token is None:
            return False
        user = token.findtext("wsse:Username", default="", namespaces=NS)
        password = token.find("wsse:Password", NS)
        nonce = token.findtext("wsse:Nonce", default="", namespaces=NS)
        created = token.findtext("wsu:Created", default="", namespaces=NS)
        if password is None or not password.get("Type", "").endswith("#PasswordDigest"):
            return False  # plain-text passwords are refused, as cameras' digest-only mode
        try:
            when = datetime.fromisoformat(created.replace("Z", "+00:00"))
            raw_nonce = base64.b64decode(nonce, validate=True)
        except ValueError:
            return False
        if when.tzinfo is None or abs(when - self.now()) > CREATED_WINDOW:
            return False
        expected = base64.b64encode(hashlib.sha1(  # noqa: S324 — the protocol's digest
            raw_nonce + created.encode() + self.password.encode()).digest()).decode()
        if user != self.username or (password.text or "").strip() != expected:
            return False
        if nonce in self._nonces:
            return False  # a replayed token
        self._nonces.add(nonce)
        return True

    def _op_GetSystemDateAndTime(self, _op: ElementTree.Element, _base: str,  # noqa: N802
                                 _request: Request) -> str:
        now = self.now()
        return (
            "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
            "<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false"
            "</tt:DaylightSavings><tt:TimeZone><tt:TZ>CST-8:00:00</tt:TZ></tt:TimeZone>"
            f"<tt:UTCDateTime><tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}"
            f"</tt:Minute><tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>"
            f"{now.year}</tt:Year><tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day>"
            "</tt:Date></tt:UTCDateTime></tds:SystemDateAndTime>"
            "</tds:GetSystemDateAndTimeResponse>")

    def _op_GetServices(self, _op: ElementTree.Element, base: str,  # noqa: N802
                        _request: Request) -> str:
        services = (("http://www.onvif.org/ver10/device/wsdl", "device_service"),
                    ("http://www.onvif.org/ver10/media/wsdl", "media_service"))
        return "<tds:GetServicesResponse>" + "".join(
            f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{base}/onvif/{path}"
            "</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor>"
            "</tds:Version></tds:Service>" for ns, path in services
        ) + "</tds:GetServicesResponse>"

    def _op_GetDeviceInformation(self, _op: ElementTree.Element, _base: str,  # noqa: N802
                                 _request: Request) -> str:
        return (
            f"<tds:GetDeviceInformationResponse><tds:Manufacturer>{self.manufacturer}"
            f"</tds:Manufacturer><tds:Model>{self.model}</tds:Model><tds:FirmwareVersion>"
            f"{self.firmware}</tds:FirmwareVersion><tds:SerialNumber>{self.serial}"
            "</tds:SerialNumber><tds:HardwareId>88</tds:HardwareId>"
            "</tds:GetDeviceInformationResponse>")

    def _op_GetNetworkInterfaces(self, _op: ElementTree.Element, _base: str,  # noqa: N802
                                 request: Request) -> str:
        if self.mac is None:
            return ("<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token=\"eth0\">"
                    "<tt:Enabled>true</tt:Enabled></tds:NetworkInterfaces>"
                    "</tds:GetNetworkInterfacesResponse>")
        host = request.url.hostname or "127.0.0.1"
        return (
            "<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token=\"eth0\">"
            "<tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>eth0</tt:Name>"
            f"<tt:HwAddress>{self.mac.upper().replace(':', '-')}</tt:HwAddress>"
            "<tt:MTU>1500</tt:MTU></tt:Info><tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config>"
            f"<tt:Manual><tt:Address>{host}</tt:Address><tt:PrefixLength>24</tt:PrefixLength>"
            "</tt:Manual><tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4>"
            "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>")

    def _op_GetProfiles(self, _op: ElementTree.Element, _base: str,  # noqa: N802
                        _request: Request) -> str:
        return "<trt:GetProfilesResponse>" + "".join(
            f"<trt:Profiles token=\"{p.token}\" fixed=\"true\"><tt:Name>{p.name}</tt:Name>"
            f"<tt:VideoEncoderConfiguration token=\"VE_{p.token}\"><tt:Name>VE_{p.token}"
            "</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
            f"<tt:Resolution><tt:Width>{p.width}</tt:Width><tt:Height>{p.height}</tt:Height>"
            "</tt:Resolution><tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>"
            f"{p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>"
            "<tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl><tt:Multicast>"
            "<tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address>"
            "</tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false"
            "</tt:AutoStart></tt:Multicast><tt:SessionTimeout>PT5S</tt:SessionTimeout>"
            "</tt:VideoEncoderConfiguration></trt:Profiles>" for p in self.profiles
        ) + "</trt:GetProfilesResponse>"

    def _op_GetStreamUri(self, op: ElementTree.Element, _base: str,  # noqa: N802
                         request: Request) -> str:
        token = op.findtext("{http://www.onvif.org/ver10/media/wsdl}ProfileToken", default="")
        profile = next((p for p in self.profiles if p.token == token), None)
        if profile is None:
            raise ValueError(f"no profile {token!r}")
        host = self.stream_host or request.url.hostname
        return (
            f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://{host}:554{profile.path}"
            "</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
            "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
            "</trt:MediaUri></trt:GetStreamUriResponse>")

    # -- WS-Discovery ------------------------------------------------------------------

    def probe_matches(self, message_id: str, xaddr: str) -> bytes:
        scopes = " ".join((
            "onvif://www.onvif.org/type/video_encoder", "onvif://www.onvif.org/Profile/Streaming",
            f"onvif://www.onvif.org/hardware/{self.model}",
            f"onvif://www.onvif.org/name/{self.manufacturer}",
            "onvif://www.onvif.org/location/city/shanghai"))
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"'
            ' xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
            ' xmlns:wsdd="http://schemas.xmlsoap.org/ws/2005/04/discovery"'
            ' xmlns:tdn="http://www.onvif.org/ver10/network/wsdl"><SOAP-ENV:Header>'
            f"<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
            f"<wsa:RelatesTo>{message_id}</wsa:RelatesTo>"
            "<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>"
            "<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches"
            "</wsa:Action></SOAP-ENV:Header><SOAP-ENV:Body><wsdd:ProbeMatches>"
            "<wsdd:ProbeMatch><wsa:EndpointReference>"
            f"<wsa:Address>{self.endpoint}</wsa:Address></wsa:EndpointReference>"
            "<wsdd:Types>tdn:NetworkVideoTransmitter</wsdd:Types>"
            f"<wsdd:Scopes>{scopes}</wsdd:Scopes><wsdd:XAddrs>{xaddr}</wsdd:XAddrs>"
            "<wsdd:MetadataVersion>10</wsdd:MetadataVersion></wsdd:ProbeMatch>"
            "</wsdd:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()


def _fault(code: str, subcode: str, reason: str, status: int) -> Response:
    body = (f"<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}"
            f"</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en\">{reason}"
            "</s:Text></s:Reason></s:Fault>")
    return Response(_ENVELOPE.format(body=body), status_code=status,
                    media_type="application/soap+xml; charset=utf-8")


class DiscoveryResponder:
    """Answers WS-Discovery Probes for NetworkVideoTransmitter on UDP `port`, both sent
    to `group` (joined on the loopback interface) and sent to it directly; `xaddr` is
    the device service the camera advertises. Runs in a thread until `stop()`."""

    def __init__(self, camera: FakeCamera, xaddr: str, port: int,
                 group: str = "239.255.255.250", interface: str = "127.0.0.1") -> None:
        self.camera, self.xaddr = camera, xaddr
        self.probes: list[tuple[str, str]] = []  # (message id, sender)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("", port))
        self._sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                              struct.pack("4s4s", socket.inet_aton(group),
                                          socket.inet_aton(interface)))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> DiscoveryResponder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._sock], [], [], 0.05)
            if not ready:
                continue
            data, sender = self._sock.recvfrom(65535)
            with contextlib.suppress(ElementTree.ParseError):
                root = ElementTree.fromstring(data)  # noqa: S314 — test fake
                if root.find("s:Body/d:Probe", NS) is None:
                    continue
                message_id = root.findtext("s:Header/a:MessageID", default="", namespaces=NS)
                self.probes.append((message_id, sender[0]))
                self._sock.sendto(self.camera.probe_matches(message_id, self.xaddr), sender)
