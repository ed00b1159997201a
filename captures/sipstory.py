#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write small, realistic SIP capture stories as classic pcap files (Ethernet link type).

The test captures of sipsleuth must look like real traffic: TCP with a handshake, consistent sequence and
acknowledgement numbers, peer ACKs, FIN or RST, and bit-identical output on every run. This module gives:

- Story: a clock in whole microseconds after a fixed epoch, advanced only explicitly (plus a small fixed
  step after each frame so that frames never share a timestamp), the list of frames, and write(path).
- Host: an IPv4 endpoint as seen at the capture point (address, MAC its frames carry, TTL, TCP window).
- TcpConnection: three-way handshake with deterministic ISNs, data split at the MSS, the peer ACKing every
  second segment and the last, FIN close from either side, RST, and retransmission of an earlier segment.
- Story.udp(): one datagram.
- sip_message() and sip_response(): SIP text with CRLF line endings and a Content-Length computed from
  the body bytes.

There is one TCP/IP model and two frame encoders behind Story._ip(): scapy (the default, the reference)
and struct (identical bytes, about 30 times faster, for the large benchmark capture). selftest() checks
that both produce the same bytes; run this file to execute it.
"""
import hashlib
import socket
import struct
import sys
from collections import namedtuple

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import RawPcapWriter

CLIENT, SERVER = 0, 1
_TCP_FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}

Segment = namedtuple("Segment", "side seq payload")


def digest32(*parts):
    """A deterministic 32-bit number derived from parts (for ISNs, IP ids, tags...)."""
    text = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


def inet_checksum(data):
    """RFC 1071 Internet checksum; sums native-order words in C and swaps once at the end."""
    if len(data) % 2:
        data += b"\0"
    total = sum(memoryview(data).cast("H"))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    total = ~total & 0xFFFF
    if sys.byteorder == "little":
        total = ((total & 0xFF) << 8) | (total >> 8)
    return total


class Host:
    """An IPv4 endpoint: address, the source MAC of its frames at the capture point, TTL, TCP window."""

    def __init__(self, ip, mac, ttl=64, window=64240):
        self.ip, self.mac, self.ttl, self.window = ip, mac, ttl, window
        self.ip_bytes = socket.inet_aton(ip)
        self.mac_bytes = bytes.fromhex(mac.replace(":", ""))
        self.restart()

    def restart(self):
        """Back to the first IP ID: each capture starts like a fresh boot, whatever was built before."""
        self.ip_id = digest32("ip-id", self.ip) & 0xFFFF

    def next_ip_id(self):
        ident = self.ip_id
        self.ip_id = (ident + 1) & 0xFFFF
        return ident


class Story:
    """The frames of one capture and the clock that timestamps them."""

    def __init__(self, epoch, step=20e-6, use_scapy=True):
        self.epoch_us = round(epoch * 1e6)
        self.now_us = 0
        self.step_us = round(step * 1e6)
        self.use_scapy = use_scapy
        self.frames = []  # (timestamp in microseconds since 1970, frame bytes)

    @property
    def now(self):
        """Seconds since the story epoch."""
        return self.now_us / 1e6

    @property
    def wallclock(self):
        """Seconds since 1970 (for Date headers)."""
        return (self.epoch_us + self.now_us) / 1e6

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError("the story clock does not go backwards")
        self.now_us += round(seconds * 1e6)

    def at(self, seconds):
        """Set the clock to seconds after the epoch (never backwards)."""
        target = round(seconds * 1e6)
        if target < self.now_us:
            raise ValueError(f"at({seconds}) is before now ({self.now})")
        self.now_us = target

    def _emit(self, frame):
        self.frames.append((self.epoch_us + self.now_us, frame))
        self.now_us += self.step_us

    def _ip(self, src, dst, proto, sport, dport, payload, tcp=None):
        """Emit one Ethernet/IPv4/TCP-or-UDP frame; tcp = (seq, ack, flags, mss option or None)."""
        ident = src.next_ip_id()
        if self.use_scapy:
            if tcp:
                seq, ack, flags, mss = tcp
                l4 = TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=src.window,
                         options=[("MSS", mss)] if mss else [])
            else:
                l4 = UDP(sport=sport, dport=dport)
            pkt = Ether(src=src.mac, dst=dst.mac) / IP(src=src.ip, dst=dst.ip, ttl=src.ttl, id=ident,
                                                       flags="DF") / l4
            if payload:
                pkt = pkt / Raw(payload)
            self._emit(bytes(pkt))
            return
        if tcp:
            seq, ack, flags, mss = tcp
            bits = sum(_TCP_FLAGS[f] for f in flags)
            opts = struct.pack("!BBH", 2, 4, mss) if mss else b""
            l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (20 + len(opts)) << 2, bits,
                             src.window, 0, 0) + opts + payload
            at = 16
        else:
            l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
            at = 6
        pseudo = src.ip_bytes + dst.ip_bytes + struct.pack("!BBH", 0, proto, len(l4))
        csum = inet_checksum(pseudo + l4)
        if proto == 17 and csum == 0:
            csum = 0xFFFF
        l4 = l4[:at] + struct.pack("!H", csum) + l4[at + 2:]
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, 0x4000, src.ttl, proto, 0,
                          src.ip_bytes, dst.ip_bytes)
        iph = iph[:10] + struct.pack("!H", inet_checksum(iph)) + iph[12:]
        self._emit(dst.mac_bytes + src.mac_bytes + b"\x08\x00" + iph + l4)

    def udp(self, src, sport, dst, dport, payload):
        """Send one UDP datagram (no IP fragmentation: keep payloads under 1472 bytes)."""
        self._ip(src, dst, 17, sport, dport, payload)

    def write(self, path):
        """Write the frames as a classic little-endian pcap with microsecond timestamps."""
        writer = RawPcapWriter(path, linktype=1, endianness="<", snaplen=65535)
        writer.write_header(None)
        for ts, frame in self.frames:
            writer.write_packet(frame, sec=ts // 1_000_000, usec=ts % 1_000_000)
        writer.close()


class TcpConnection:
    """One TCP connection between client and server; sides are CLIENT and SERVER.

    rtt is the delay the capture point sees between a segment and the peer's answer. mss is announced in
    both SYNs and used to split data.
    """

    def __init__(self, story, client, cport, server, sport, mss=1460, rtt=0.001, isn=None):
        self.story = story
        self.hosts = (client, server)
        self.ports = (cport, sport)
        self.mss = mss
        self.rtt = rtt
        if isn is None:
            isn = (digest32("isn", client.ip, cport, server.ip, sport),
                   digest32("isn", server.ip, sport, client.ip, cport))
        self.isn = tuple(isn)
        self.nxt = list(isn)  # next sequence number of each side

    def _segment(self, side, flags, payload=b"", seq=None, mss=None):
        peer = 1 - side
        seq = self.nxt[side] if seq is None else seq
        ack = self.nxt[peer] if "A" in flags else 0
        self.story._ip(self.hosts[side], self.hosts[peer], 6, self.ports[side], self.ports[peer],
                       payload, (seq, ack, flags, mss))
        return Segment(side, seq, payload)

    def handshake(self):
        """SYN, SYN/ACK one rtt later, ACK."""
        self._segment(CLIENT, "S", mss=self.mss)
        self.nxt[CLIENT] = (self.nxt[CLIENT] + 1) & 0xFFFFFFFF
        self.story.advance(self.rtt)
        self._segment(SERVER, "SA", mss=self.mss)
        self.nxt[SERVER] = (self.nxt[SERVER] + 1) & 0xFFFFFFFF
        self._segment(CLIENT, "A")
        return self

    def send(self, side, data, ack=True):
        """Send data from side in segments of at most mss bytes, PSH on the last; returns the Segments.

        With ack, the peer acknowledges every second segment and the last one, each one rtt later."""
        sent = []
        count = (len(data) + self.mss - 1) // self.mss
        for n in range(count):
            chunk = data[n * self.mss:(n + 1) * self.mss]
            last = n == count - 1
            sent.append(self._segment(side, "PA" if last else "A", chunk))
            self.nxt[side] = (self.nxt[side] + len(chunk)) & 0xFFFFFFFF
            if ack and (last or n % 2 == 1):
                self.story.advance(self.rtt)
                self._segment(1 - side, "A")
        return sent

    def ack(self, side):
        """A pure ACK from side."""
        self._segment(side, "A")

    def retransmit(self, segment, ack=False):
        """Send an earlier segment again: same side, sequence number and payload, current ACK number."""
        again = self._segment(segment.side, "PA", segment.payload, seq=segment.seq)
        if ack:
            self.story.advance(self.rtt)
            self._segment(1 - segment.side, "A")
        return again

    def close(self, side):
        """Graceful close started by side: FIN/ACK, the peer's FIN/ACK one rtt later, final ACK."""
        peer = 1 - side
        self._segment(side, "FA")
        self.nxt[side] = (self.nxt[side] + 1) & 0xFFFFFFFF
        self.story.advance(self.rtt)
        self._segment(peer, "FA")
        self.nxt[peer] = (self.nxt[peer] + 1) & 0xFFFFFFFF
        self._segment(side, "A")

    def reset(self, side):
        """Abort from side with RST/ACK."""
        self._segment(side, "RA")


def _to_bytes(text):
    return text if isinstance(text, bytes) else text.encode("utf-8")


def sip_message(start_line, headers, body=b"", body_crlf=False):
    """SIP message bytes: start line, headers [(name, value)], empty line, body.

    Content-Length is always computed from the body bytes: a ("Content-Length", None) entry keeps its
    place in the header order, otherwise it is appended. body_crlf converts the body's LF line endings
    to CRLF first (for bodies written as Python text with LF). Header values may be str or bytes."""
    body = _to_bytes(body)
    if body_crlf:
        body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    lines = [_to_bytes(start_line)]
    have_length = False
    for name, value in headers:
        if name.lower() == "content-length":
            value, have_length = str(len(body)), True
        lines.append(_to_bytes(name) + b": " + _to_bytes(value))
    if not have_length:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def sip_headers(message):
    """[(name, value)] of a SIP message's header section (no folding, no compact forms)."""
    head = message.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace").split("\r\n")[1:]
    return [tuple(part.strip() for part in line.split(":", 1)) for line in head if ":" in line]


def sip_response(request, code, reason, to_tag=None, headers=(), body=b"", body_crlf=False):
    """A response to request: Via, From, To (plus ;tag=to_tag), Call-ID and CSeq copied, then headers."""
    copied = []
    for name, value in sip_headers(request):
        key = name.lower()
        if key == "to" and to_tag and ";tag=" not in value:
            value += ";tag=" + to_tag
        if key in ("via", "from", "to", "call-id", "cseq"):
            copied.append((name, value))
    return sip_message(f"SIP/2.0 {code} {reason}", copied + list(headers), body, body_crlf)


def _selftest_story(use_scapy):
    story = Story(1579128558.0, use_scapy=use_scapy)
    a = Host("192.0.2.1", "02:00:00:00:00:01")
    b = Host("198.51.100.2", "02:00:00:00:00:02", ttl=63, window=29200)
    conn = TcpConnection(story, a, 40000, b, 5060, mss=536).handshake()
    first = conn.send(CLIENT, bytes(range(256)) * 7)
    conn.send(SERVER, sip_message("SIP/2.0 200 OK", [("CSeq", "1 OPTIONS")]))
    story.advance(0.2)
    conn.retransmit(first[0], ack=True)
    story.udp(a, 5060, b, 5060, b"\0\0\0")  # odd length: checksum padding
    story.udp(b, 5060, a, 5060, b"OPTIONS sip:x SIP/2.0\r\n\r\n")
    conn.close(SERVER)
    TcpConnection(story, a, 40001, b, 5060).handshake().reset(CLIENT)
    return story.frames


def selftest():
    """Check that the struct encoder produces exactly the bytes scapy produces."""
    ref, fast = _selftest_story(True), _selftest_story(False)
    assert len(ref) == len(fast), (len(ref), len(fast))
    for n, (x, y) in enumerate(zip(ref, fast), 1):
        assert x == y, f"frame {n} differs:\n{x[1].hex()}\n{y[1].hex()}"
    return len(ref)


if __name__ == "__main__":
    print(f"sipstory selftest: {selftest()} frames identical with scapy and struct encoders")
