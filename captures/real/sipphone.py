"""Scripted SIP phones over plain sockets, for the Kamailio lab (captures/real/lab.py).

Only the Python standard library: a phone binds its own address (127.0.0.x inside the lab's network
namespace), talks to the server over TCP or UDP, listens on its Contact port for connections the
server opens itself, answers NOTIFY/OPTIONS/MESSAGE/BYE with 200 OK (unless told otherwise), and
keeps every message it received so a scenario can wait for one.
"""

import random
import select
import socket
import time

TCP_REPAIR = 19  # linux/tcp.h: a socket in repair mode closes without FIN or RST


class Msg:
    def __init__(self, raw, sock, src):
        self.raw = raw
        self.sock = sock
        self.src = src
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("utf-8", "replace").split("\r\n")
        self.start = lines[0]
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                name, value = self.headers[-1]
                self.headers[-1] = (name, value + " " + line.strip())
            elif ":" in line:
                name, value = line.split(":", 1)
                self.headers.append((name.strip().lower(), value.strip()))
        parts = self.start.split(" ", 2)
        if parts[0] == "SIP/2.0":
            self.status = int(parts[1])
            self.method = None
        else:
            self.status = None
            self.method = parts[0]
        self.cseq_method = self.hdr("cseq").split()[-1] if self.hdr("cseq") else ""

    def hdr(self, name, default=""):
        short = {"from": "f", "to": "t", "call-id": "i", "via": "v", "contact": "m",
                 "content-length": "l", "content-type": "c", "event": "o", "supported": "k"}
        for n, v in self.headers:
            if n == name or n == short.get(name):
                return v
        return default

    def all(self, name):
        return [v for n, v in self.headers if n == name]

    def tag(self, name):
        value = self.hdr(name)
        for param in value.split(";")[1:]:
            if param.strip().startswith("tag="):
                return param.strip()[4:]
        return ""

    def __repr__(self):
        return "<%s>" % self.start


def _split_messages(buf):
    """Complete SIP messages (and lone CRLF keepalives) at the head of buf: (list, rest)."""
    out = []
    while True:
        if buf.startswith(b"\r\n\r\n"):
            out.append(b"\r\n\r\n")
            buf = buf[4:]
            continue
        if buf.startswith(b"\r\n"):
            out.append(b"\r\n")
            buf = buf[2:]
            continue
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return out, buf
        length = 0
        for line in buf[:end].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() in (b"content-length", b"l"):
                length = int(value.strip() or b"0")
        total = end + 4 + length
        if len(buf) < total:
            return out, buf
        out.append(buf[:total])
        buf = buf[total:]


class Phone:
    def __init__(self, lab, user, ip, server, transport="tcp", port=5060, domain=None,
                 instance=None, user_agent="LabPhone/1.0"):
        self.lab = lab
        self.user = user
        self.ip = ip
        self.server = server
        self.transport = transport
        self.port = port
        self.domain = domain or server[0]
        self.instance = instance
        self.user_agent = user_agent
        self.tag = self.rand()
        self.cseq = 100
        self.conn = None            # our TCP connection to the server
        self.socks = {}             # socket -> receive buffer
        self.inbox = []
        self.answer = {}            # method -> status code to answer with (default 200)
        self.strict_notify = False  # answer 481 to a NOTIFY of a Call-ID this phone never subscribed with
        self.call_ids = set()       # Call-IDs of the requests this phone sent
        self.pongs = []
        self.listener = None
        self.udp = None
        if transport == "tcp":
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind((ip, port))
            self.listener.listen(8)
        else:
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind((ip, port))
            self.socks[self.udp] = b""
        lab.phones.append(self)

    # -- helpers --
    @staticmethod
    def rand(n=10):
        return "".join(random.choice("0123456789abcdef") for _ in range(n))

    @property
    def aor(self):
        return "sip:%s@%s" % (self.user, self.domain)

    def contact(self, extra=""):
        uri = "sip:%s@%s:%d" % (self.user, self.ip, self.port)
        if self.transport == "tcp":
            uri += ";transport=tcp"
        return "<%s%s>" % (uri, extra)

    def local_port(self):
        if self.transport == "tcp":
            return self.conn.getsockname()[1] if self.conn else self.port
        return self.port

    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((self.ip, 0))
        s.connect(self.server)
        self.conn = s
        self.socks[s] = b""
        return s

    def via(self, branch=None, alias=False):
        branch = branch or "z9hG4bK" + self.rand()
        proto = "TCP" if self.transport == "tcp" else "UDP"
        v = "SIP/2.0/%s %s:%d;branch=%s;rport" % (proto, self.ip, self.local_port(), branch)
        if alias:
            v += ";alias"
        return v

    def send_raw(self, data, sock=None):
        if self.transport == "tcp":
            sock = sock or self.conn
            if sock is None:
                sock = self.connect()
            sock.sendall(data)
        else:
            self.udp.sendto(data, self.server)

    def build(self, method, ruri, to, from_=None, call_id=None, cseq=None, headers=(), body=b"",
              content_type=None, from_tag=None, to_tag=None, branch=None, alias=False):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: " + self.via(branch, alias),
                 "Max-Forwards: 70",
                 "From: <%s>;tag=%s" % (from_ or self.aor, from_tag or self.tag),
                 "To: <%s>%s" % (to, ";tag=" + to_tag if to_tag else ""),
                 "Call-ID: %s" % (call_id or self.rand(16) + "@" + self.ip),
                 "CSeq: %d %s" % (cseq, method),
                 "User-Agent: " + self.user_agent]
        lines += list(headers)
        if content_type:
            lines.append("Content-Type: " + content_type)
        if isinstance(body, str):
            body = body.encode()
        lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def request(self, method, ruri, to, **kw):
        sock = kw.pop("sock", None)
        data = self.build(method, ruri, to, **kw)
        self.call_ids.add(Msg(data, None, None).hdr("call-id"))
        self.send_raw(data, sock)
        return Msg(data, None, None)

    def respond(self, req, code, reason, headers=(), body=b"", content_type=None, to_tag=None):
        lines = ["SIP/2.0 %d %s" % (code, reason)]
        lines += ["Via: " + v for v in req.all("via") + req.all("v")]
        to = req.hdr("to")
        if to_tag and ";tag=" not in to:
            to += ";tag=" + to_tag
        lines += ["From: " + req.hdr("from"), "To: " + to, "Call-ID: " + req.hdr("call-id"),
                  "CSeq: " + req.hdr("cseq")]
        if code > 100:
            lines += ["Record-Route: " + v for v in req.all("record-route")]
        lines += list(headers)
        if content_type:
            lines.append("Content-Type: " + content_type)
        if isinstance(body, str):
            body = body.encode()
        lines.append("Content-Length: %d" % len(body))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        if self.transport == "tcp":
            req.sock.sendall(data)
        else:
            self.udp.sendto(data, req.src)

    # -- receiving --
    def fileno_list(self):
        out = list(self.socks)
        if self.listener:
            out.append(self.listener)
        return out

    def on_readable(self, sock):
        if sock is self.listener:
            s, _ = self.listener.accept()
            self.socks[s] = b""
            return
        if sock is self.udp:
            data, src = sock.recvfrom(65535)
            msgs, _ = _split_messages(data)
            for raw in msgs:
                self.on_message(Msg(raw, sock, src))
            return
        try:
            data = sock.recv(65535)
        except ConnectionError:
            data = b""
        if not data:
            del self.socks[sock]
            sock.close()
            if sock is self.conn:
                self.conn = None
            return
        msgs, rest = _split_messages(self.socks[sock] + data)
        self.socks[sock] = rest
        for raw in msgs:
            self.on_message(Msg(raw, sock, sock.getpeername()))

    def on_message(self, m):
        if m.raw in (b"\r\n", b"\r\n\r\n"):
            self.pongs.append(time.time())
            return
        self.inbox.append(m)
        self.lab.log("%s <- %s" % (self.user, m.start))
        if m.method and m.method != "ACK":
            code = self.answer.get(m.method, 200)
            if m.method == "NOTIFY" and self.strict_notify and m.hdr("call-id") not in self.call_ids:
                code = 481
            if code:
                reason = {200: "OK", 481: "Call/Transaction Does Not Exist", 486: "Busy Here",
                          488: "Not Acceptable Here"}.get(code, "Error")
                self.respond(m, code, reason, to_tag=self.tag if not m.tag("to") else None,
                             headers=["Contact: " + self.contact()] if m.method == "INVITE" else [])

    def expect(self, pred, timeout=5.0, what="message"):
        """Wait until a message in the inbox (not yet taken) matches pred; take and return it."""
        deadline = time.time() + timeout
        while True:
            for i, m in enumerate(self.inbox):
                if pred(m):
                    del self.inbox[i]
                    return m
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("%s: no %s within %.1f s (inbox: %r)" % (self.user, what, timeout, self.inbox))
            self.lab.pump(min(left, 0.2))

    def final(self, sent, timeout=5.0):
        """The final response to request sent (matched on Call-ID and CSeq)."""
        cid, cseq = sent.hdr("call-id"), sent.hdr("cseq")
        return self.expect(lambda m: m.status and m.status >= 200 and m.hdr("call-id") == cid
                           and m.hdr("cseq") == cseq, timeout, "final response to " + sent.start)

    def vanish(self):
        """Power loss / reboot: every socket gone without FIN or RST (TCP repair mode)."""
        for s in list(self.socks):
            if s.type == socket.SOCK_STREAM:
                s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
            s.close()
        self.socks.clear()
        self.conn = None
        if self.listener:  # a listening socket sends nothing when closed
            self.listener.close()
            self.listener = None
        self.lab.phones.remove(self)


class Lab:
    def __init__(self, log):
        self.phones = []
        self.log = log

    def pump(self, timeout):
        socks = {}
        for p in self.phones:
            for s in p.fileno_list():
                socks[s] = p
        if not socks:
            time.sleep(timeout)
            return
        r, _, _ = select.select(list(socks), [], [], timeout)
        for s in r:
            socks[s].on_readable(s)

    def close(self):
        """Close every phone's sockets (after the capture: a later scenario reuses the addresses)."""
        for p in self.phones:
            for s in list(p.socks) + ([p.listener] if p.listener else []):
                s.close()
            p.socks.clear()
            p.listener = p.conn = None
        self.phones.clear()

    def sleep(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            self.pump(max(0.0, min(0.2, end - time.time())))
