#!/usr/bin/python3
"""The sipsleuth lab: Kamailio 5.6 (Debian) and scripted phones in a network namespace of our own,
captured with dumpcap on its loopback. See captures/real/README.md.

    sudo /usr/bin/python3 captures/real/lab.py [--out DIR] [SCENARIO ...]

Every address is 127.0.0.x on the loopback of a network namespace this script creates (unshare
--net; unprivileged, unshare --net --map-root-user), so nothing leaves the namespace and nothing
outside sees it. Server 127.0.0.68; phone 2NN at 127.0.0.2NN. register_backoff adds a second namespace
of ours for phone 210, joined by a veth pair (192.0.2.210 / 192.0.2.68, only inside the two).
"""

import argparse
import contextlib
import ctypes
import os
import re
import select
import socket
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sipphone  # noqa: E402
from sipphone import Phone, Lab  # noqa: E402

SERVER = ("127.0.0.68", 5060)
DOMAIN = "127.0.0.68"
DBTEXT = "/usr/share/kamailio/dbtext/kamailio"


CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def in_netns(path):
    """Run the block (sockets made in it stay there) in the network namespace at path."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    other = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(other, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
        yield
    finally:
        _libc.setns(own, CLONE_NEWNET)
        os.close(own)
        os.close(other)


def sh(*cmd):
    subprocess.check_call(list(cmd))


class Veth:
    """Phone 210's own namespace, joined to the lab's by a veth pair: 192.0.2.210 (vph, there) and
    192.0.2.68 (vsv, here). Policy routing can then drop what the phone sends (a rule that blackholes
    its packets arriving on vsv, ahead of the local table); dumpcap on vsv still sees them, and the
    phone's kernel retransmits them with its real back-off."""

    def __init__(self):
        self.holder = subprocess.Popen(["unshare", "--net", "sleep", "3600"])
        self.ns = "/proc/%d/ns/net" % self.holder.pid
        deadline = time.time() + 5
        while os.readlink(self.ns) == os.readlink("/proc/self/ns/net"):
            if time.time() > deadline:
                raise RuntimeError("no phone namespace")
            time.sleep(0.02)
        sh("ip", "link", "add", "vsv", "type", "veth", "peer", "name", "vph", "netns", str(self.holder.pid))
        sh("ip", "addr", "add", "192.0.2.68/24", "dev", "vsv")
        sh("ip", "link", "set", "vsv", "up")
        sh("nsenter", "--net=" + self.ns, "ip", "link", "set", "lo", "up")
        sh("nsenter", "--net=" + self.ns, "ip", "addr", "add", "192.0.2.210/24", "dev", "vph")
        sh("nsenter", "--net=" + self.ns, "ip", "link", "set", "vph", "up")
        # established TCP would bypass the rules through early demux; the local table goes after ours
        for name in ("ip_early_demux", "tcp_early_demux"):
            with open("/proc/sys/net/ipv4/" + name, "w") as f:
                f.write("0")
        sh("ip", "rule", "add", "pref", "100", "lookup", "local")
        sh("ip", "rule", "del", "pref", "0")
        time.sleep(1.0)  # IPv6 autoconfiguration chatter before the capture starts

    def cut(self):
        sh("ip", "rule", "add", "from", "192.0.2.210", "iif", "vsv", "blackhole", "pref", "10")

    def mend(self):
        sh("ip", "rule", "del", "pref", "10")

    def close(self):
        subprocess.call(["ip", "link", "del", "vsv"])
        subprocess.call(["ip", "rule", "add", "pref", "0", "lookup", "local"])
        subprocess.call(["ip", "rule", "del", "pref", "100"])
        for name in ("ip_early_demux", "tcp_early_demux"):
            with open("/proc/sys/net/ipv4/" + name, "w") as f:
                f.write("1")
        self.holder.kill()
        self.holder.wait()


def log(text):
    print("%8.3f %s" % (time.monotonic() % 100000, text), flush=True)


def in_own_netns():
    return os.environ.get("SIPSLEUTH_LAB_NETNS") == "1"


def reexec_in_netns(argv):
    env = dict(os.environ, SIPSLEUTH_LAB_NETNS="1")
    cmd = ["unshare", "--net"]
    if os.geteuid() != 0:
        cmd.append("--map-root-user")
    cmd += [sys.executable, os.path.abspath(__file__)] + argv
    return subprocess.call(cmd, env=env)


def listening(ip, port, proto="tcp"):
    want = "%02X%02X%02X%02X:%04X" % tuple(list(reversed([int(x) for x in ip.split(".")])) + [port])
    with open("/proc/net/" + proto) as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if cols[1] == want and (proto == "udp" or cols[3] == "0A"):
                return True
    return False


class Kamailio:
    def __init__(self, cfg, work, defines=()):
        self.cfg = os.path.join(HERE, cfg)
        self.work = work
        self.logf = open(os.path.join(work, "kamailio.log"), "w")
        args = ["kamailio", "-f", self.cfg, "-DD", "-E", "-Y", work, "-w", work]
        for d in defines:
            args += ["-A", d]
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not listening(*SERVER):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("kamailio did not start, see " + self.logf.name)
            time.sleep(0.05)
        time.sleep(0.3)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.logf.close()


class Capture:
    def __init__(self, path, iface="lo", cfilter=None):
        self.path = path
        self.errf = open(path + ".dumpcap.log", "w+")
        self.proc = subprocess.Popen(["dumpcap", "-q", "-i", iface, "-P", "-s", "65535", "-w", path]
                                     + (["-f", cfilter] if cfilter else []),
                                     stdout=subprocess.DEVNULL, stderr=self.errf)
        deadline = time.time() + 10
        while True:
            self.errf.seek(0)
            if "File:" in self.errf.read() or (os.path.exists(path) and os.path.getsize(path) > 0):
                break
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("dumpcap did not start: " + open(self.errf.name).read())
            time.sleep(0.05)
        time.sleep(0.3)

    def stop(self):
        time.sleep(0.3)
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(10)
        self.errf.close()
        os.unlink(self.errf.name)
        os.chmod(self.path, 0o644)


def make_db(work, xcap=()):
    """A db_text database (db_sqlite lacks affected_rows, which rls calls: Kamailio 5.6 segfaults)."""
    path = os.path.join(work, "db")
    shutil.copytree(DBTEXT, path)
    with open(os.path.join(path, "xcap"), "a") as f:
        for i, (user, doc) in enumerate(xcap, 1):
            row = [str(i), user, DOMAIN, doc, "8", "lab-etag", "1",
                   "/rls-services/users/sip:%s@%s/index" % (user, DOMAIN), "0"]
            f.write(":".join(v.replace("\\", "\\\\").replace(":", "\\:").replace("\n", "\\n")
                             for v in row) + "\n")
    return 'DBURL="text://%s"' % path


# ---------------------------------------------------------------------------------------------
# bodies

def dialog_info(entity, version, dialogs, state="full"):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="%d" state="%s" entity="%s">'
           % (version, state, entity)]
    for d in dialogs:
        out.append('  <dialog id="%s" call-id="%s" local-tag="%s" remote-tag="%s" direction="%s">'
                   % (d["id"], d["call_id"], d["local_tag"], d["remote_tag"], d["direction"]))
        out.append('    <state>%s</state>' % d["state"])
        out.append('    <local><identity>%s</identity></local>' % entity)
        out.append('    <remote><identity>%s</identity></remote>' % d["remote"])
        out.append('  </dialog>')
    out.append('</dialog-info>')
    return "\r\n".join(out) + "\r\n"


def rls_services(service, entries):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<rls-services xmlns="urn:ietf:params:xml:ns:rls-services" '
             'xmlns:rl="urn:ietf:params:xml:ns:resource-lists">',
             '  <service uri="%s">' % service, '    <list>']
    lines += ['      <rl:entry uri="%s"/>' % e for e in entries]
    lines += ['    </list>', '    <packages><package>dialog</package></packages>', '  </service>',
              '</rls-services>']
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# phone actions

def register(p, expires=60, headers=(), call_id=None, alias=False):
    call_id = call_id or getattr(p, "reg_call_id", None) or p.rand(16) + "@" + p.ip
    p.reg_call_id = call_id
    sent = p.request("REGISTER", "sip:" + p.domain, p.aor, call_id=call_id, alias=alias,
                     headers=["Contact: %s;expires=%d" % (p.contact(), expires)] + list(headers))
    return sent, p.final(sent)


def subscribe(p, target, expires=120, rls=False, call_id=None, to_tag=None, cseq=None, alias=False):
    headers = ["Contact: " + p.contact(), "Event: dialog", "Expires: %d" % expires,
               "Accept: application/dialog-info+xml"]
    if rls:
        headers[-1] += ", application/rlmi+xml, multipart/related"
        headers.append("Supported: eventlist")
    sent = p.request("SUBSCRIBE", target, target, call_id=call_id, to_tag=to_tag, cseq=cseq,
                     alias=alias, headers=headers)
    return sent, p.final(sent)


class Publisher:
    """A phone publishing its own dialog state (PUBLISH, RFC 3903) to the presence server."""

    def __init__(self, p):
        self.p = p
        self.etag = None
        self.version = 0

    def publish(self, dialogs, expires=60):
        headers = ["Event: dialog", "Expires: %d" % expires]
        if self.etag:
            headers.append("SIP-If-Match: " + self.etag)
        body = dialog_info(self.p.aor, self.version, dialogs)
        self.version += 1
        sent = self.p.request("PUBLISH", self.p.aor, self.p.aor, headers=headers, body=body,
                              content_type="application/dialog-info+xml")
        resp = self.p.final(sent)
        self.etag = resp.hdr("sip-etag") or self.etag
        return resp


def is_notify(m, call_id=None):
    return m.method == "NOTIFY" and (call_id is None or m.hdr("call-id") == call_id)


def call_dialog(state, direction, remote, n=1):
    return {"id": "call%d" % n, "call_id": "lab-call-%d@127.0.0.206" % n, "local_tag": "lt%d" % n,
            "remote_tag": "rt%d" % n, "direction": direction, "state": state, "remote": remote}


# ---------------------------------------------------------------------------------------------
# scenarios: each gets a fresh server and a fresh capture

def scenario_presence_rls(lab, work):
    """Phone 207 watches 208 and 206 through a resource list (RLMI NOTIFYs) and 208 directly;
    208 takes a call from 206 (early, confirmed, terminated) and publishes each state."""
    p207 = Phone(lab, "207", "127.0.0.207", SERVER)
    p208 = Phone(lab, "208", "127.0.0.208", SERVER)
    p206 = Phone(lab, "206", "127.0.0.206", SERVER)
    for p in (p207, p208, p206):
        register(p)
    pub208, pub206 = Publisher(p208), Publisher(p206)
    pub208.publish([])
    pub206.publish([])
    rls_sub, resp = subscribe(p207, "sip:blf207@" + DOMAIN, rls=True)
    assert resp.status == 200, resp.start
    rls_cid, rls_tag = rls_sub.hdr("call-id"), resp.tag("to")
    p207.expect(lambda m: is_notify(m, rls_cid), 5, "RLS NOTIFY")
    direct, resp = subscribe(p207, "sip:208@" + DOMAIN)
    assert resp.status == 200, resp.start
    direct_tag = resp.tag("to")
    p207.expect(lambda m: is_notify(m, direct.hdr("call-id")), 5, "dialog NOTIFY")
    lab.sleep(1.5)
    remote = "sip:206@" + DOMAIN
    for state in ("early", "confirmed", "terminated"):
        pub208.publish([call_dialog(state, "recipient", remote)])
        p207.expect(lambda m: is_notify(m, direct.hdr("call-id")), 5, "dialog NOTIFY " + state)
        p207.expect(lambda m: is_notify(m, rls_cid), 5, "RLS NOTIFY " + state)
        lab.sleep(1.2)
    pub206.publish([call_dialog("confirmed", "initiator", "sip:208@" + DOMAIN, 2)])
    p207.expect(lambda m: is_notify(m, rls_cid), 5, "RLS NOTIFY 206")
    lab.sleep(1.2)
    # refresh, then end both subscriptions
    subscribe(p207, "sip:blf207@" + DOMAIN, rls=True, call_id=rls_cid, to_tag=rls_tag)
    lab.sleep(1.5)
    subscribe(p207, "sip:208@" + DOMAIN, call_id=direct.hdr("call-id"), to_tag=direct_tag, expires=0)
    p207.expect(lambda m: is_notify(m, direct.hdr("call-id")) and "terminated" in m.hdr("subscription-state"),
                5, "dialog terminating NOTIFY")
    subscribe(p207, "sip:blf207@" + DOMAIN, rls=True, call_id=rls_cid, to_tag=rls_tag, expires=0)
    # RFC 6665 4.2.2: the notifier confirms an un-SUBSCRIBE with a terminating NOTIFY. Wait past
    # Timer F (32 s) for it; Kamailio 5.6's rls sends none (README).
    try:
        p207.expect(lambda m: is_notify(m, rls_cid) and "terminated" in m.hdr("subscription-state"), 34,
                    "RLS terminating NOTIFY")
        lab.log("RLS confirmed the un-SUBSCRIBE")
    except TimeoutError:
        lab.log("RLS sent no terminating NOTIFY within 34 s")
    register(p207)  # a packet after Timer F, so a single pass sees the deadline go by
    lab.sleep(0.5)


def scenario_reboot(lab, work):
    """Field case 000: phone 207 un-SUBSCRIBEs its BLF list, then reboots without closing its TCP
    connections (no FIN, no RST: the kernel state is simply gone), registers and subscribes again on
    a new connection."""
    p207 = Phone(lab, "207", "127.0.0.207", SERVER, user_agent="LabPhone/1.0 (boot 1)")
    p208 = Phone(lab, "208", "127.0.0.208", SERVER)
    for p in (p207, p208):
        register(p)
    pub208 = Publisher(p208)
    pub208.publish([])
    sub, resp = subscribe(p207, "sip:blf207@" + DOMAIN, rls=True, expires=30)
    cid, totag = sub.hdr("call-id"), resp.tag("to")
    p207.expect(lambda m: is_notify(m, cid), 5, "RLS NOTIFY")
    p207.expect(lambda m: is_notify(m, cid), 5, "RLS NOTIFY with the resource")
    lab.sleep(1.0)
    # shutdown: un-SUBSCRIBE, then power off without closing anything
    subscribe(p207, "sip:blf207@" + DOMAIN, rls=True, call_id=cid, to_tag=totag, expires=0)
    lab.sleep(1.5)
    p207.vanish()
    lab.log("207 rebooted: its sockets vanished without FIN or RST")
    lab.sleep(2.0)
    p207 = Phone(lab, "207", "127.0.0.207", SERVER, user_agent="LabPhone/1.0 (boot 2)")
    register(p207)
    sub, resp = subscribe(p207, "sip:blf207@" + DOMAIN, rls=True, expires=30)
    cid, totag = sub.hdr("call-id"), resp.tag("to")
    try:
        p207.expect(lambda m: is_notify(m, cid), 4, "RLS NOTIFY after reboot")
        lab.log("NOTIFY after the reboot arrived")
    except TimeoutError:
        lab.log("no NOTIFY after the reboot reached the phone")
    pub208.publish([call_dialog("early", "recipient", "sip:206@" + DOMAIN)])
    try:
        p207.expect(lambda m: is_notify(m, cid), 4, "RLS NOTIFY early")
        lab.log("NOTIFY early arrived")
    except TimeoutError:
        lab.log("no NOTIFY early reached the phone")
    # refresh before the 30 s expiry, as a phone does
    lab.sleep(3.0)
    sub2, resp = subscribe(p207, "sip:blf207@" + DOMAIN, rls=True, call_id=cid, to_tag=totag, expires=30)
    lab.log("refresh answered %s" % resp.start)
    if resp.status == 481:
        sub, resp = subscribe(p207, "sip:blf207@" + DOMAIN, rls=True, expires=30)
        cid = sub.hdr("call-id")
    try:
        p207.expect(lambda m: is_notify(m, cid), 4, "RLS NOTIFY after refresh")
        lab.log("NOTIFY after refresh arrived")
    except TimeoutError:
        lab.log("no NOTIFY after refresh reached the phone")
    lab.sleep(1.0)


def scenario_power_loss(lab, work):
    """A power cut: phone 207, subscribed to 208's dialog state (presence server, no RLS), loses power
    without un-SUBSCRIBE, FIN or RST; it boots, registers and subscribes again on a new connection
    (new Call-ID) while its old subscription lives on at the server. Then 208 takes a call."""
    p207 = Phone(lab, "207", "127.0.0.207", SERVER, user_agent="LabPhone/1.0 (boot 1)")
    p208 = Phone(lab, "208", "127.0.0.208", SERVER)
    for p in (p207, p208):
        register(p)
    pub208 = Publisher(p208)
    pub208.publish([])
    lab.sleep(0.5)  # else the PUBLISH's own NOTIFY may or may not follow the SUBSCRIBE's first one
    sub, resp = subscribe(p207, "sip:208@" + DOMAIN, expires=60)
    p207.expect(lambda m: is_notify(m, sub.hdr("call-id")), 5, "NOTIFY")
    lab.sleep(1.0)
    p207.vanish()
    lab.log("207 lost power: its sockets vanished without FIN or RST")
    lab.sleep(2.0)
    p207 = Phone(lab, "207", "127.0.0.207", SERVER, user_agent="LabPhone/1.0 (boot 2)")
    p207.strict_notify = True  # it knows nothing of its old subscription
    register(p207)
    sub, resp = subscribe(p207, "sip:208@" + DOMAIN, expires=60)
    cid = sub.hdr("call-id")
    try:
        p207.expect(lambda m: is_notify(m, cid), 3, "NOTIFY after boot")
        lab.log("first NOTIFY after the boot arrived")
    except TimeoutError:
        lab.log("first NOTIFY after the boot never reached the phone")
    lab.sleep(1.0)
    pub208.publish([call_dialog("early", "recipient", "sip:206@" + DOMAIN)])
    try:
        p207.expect(lambda m: is_notify(m, cid), 4, "NOTIFY early")
        lab.log("NOTIFY early arrived")
    except TimeoutError:
        lab.log("NOTIFY early never reached the phone")
    lab.sleep(1.0)
    pub208.publish([call_dialog("confirmed", "recipient", "sip:206@" + DOMAIN)])
    try:
        p207.expect(lambda m: is_notify(m, cid), 4, "NOTIFY confirmed")
        lab.log("NOTIFY confirmed arrived")
    except TimeoutError:
        lab.log("NOTIFY confirmed never reached the phone")
    lab.sleep(1.0)
    stray = [m for m in p207.inbox if m.method == "NOTIFY" and m.hdr("call-id") != cid]
    lab.log("NOTIFYs of the old subscription that reached the new phone (answered 481): %d" % len(stray))
    lab.sleep(0.5)


def scenario_notify_rejected(lab, work):
    """Phone 209 subscribes to 208's dialog state, accepts the first NOTIFY, then answers the next
    ones 488 Not Acceptable Here (a phone that dislikes the body); 208 changes state three times."""
    p209 = Phone(lab, "209", "127.0.0.209", SERVER)
    p208 = Phone(lab, "208", "127.0.0.208", SERVER)
    for p in (p209, p208):
        register(p)
    pub208 = Publisher(p208)
    pub208.publish([])
    lab.sleep(0.5)  # else the PUBLISH's own NOTIFY may or may not follow the SUBSCRIBE's first one
    sub, resp = subscribe(p209, "sip:208@" + DOMAIN, expires=60)
    cid = sub.hdr("call-id")
    p209.expect(lambda m: is_notify(m, cid), 5, "NOTIFY")
    lab.sleep(1.0)
    p209.answer["NOTIFY"] = 488
    for state in ("early", "confirmed", "terminated"):
        pub208.publish([call_dialog(state, "recipient", "sip:206@" + DOMAIN)])
        try:
            p209.expect(lambda m: is_notify(m, cid), 2, "NOTIFY " + state)
            lab.log("NOTIFY %s answered 488" % state)
        except TimeoutError:
            lab.log("no NOTIFY %s: the server dropped the subscription" % state)
        lab.sleep(1.0)
    p209.answer["NOTIFY"] = 200
    sent, resp = subscribe(p209, "sip:208@" + DOMAIN, call_id=cid, to_tag=resp.tag("to"), expires=60)
    lab.log("refresh after the 488s: %s" % resp.start)
    lab.sleep(1.0)


def scenario_register_backoff(lab, work, veth):
    """Field case 004's drop: phone 210 (its own namespace, over a veth) is granted 10 s and refreshes
    every 5 s; then the network loses what it sends. Its third refresh is retransmitted by its kernel
    with the usual back-off (0.2, 0.4, 0.8 ... s); the registrar's 10 s run out; when the network comes
    back 20 s later, the next retransmission arrives, 20 s past the expiry, and is accepted as a new
    binding."""
    server = ("192.0.2.68", 5060)
    with in_netns(veth.ns):
        p210 = Phone(lab, "210", "192.0.2.210", server, domain="192.0.2.68")
        p210.connect()
    register(p210, expires=3600, headers=["Expires: 3600"])
    lab.sleep(5.0)
    register(p210, expires=3600, headers=["Expires: 3600"])
    lab.sleep(4.9)
    veth.cut()
    lab.log("network cut")
    lab.sleep(0.1)
    sent = p210.request("REGISTER", "sip:192.0.2.68", p210.aor, call_id=p210.reg_call_id,
                        headers=["Contact: %s;expires=3600" % p210.contact(), "Expires: 3600"])
    lab.sleep(20.0)
    veth.mend()
    lab.log("network back")
    resp = p210.final(sent, timeout=20.0)
    lab.log("the refresh got through: %s" % resp.start)
    lab.sleep(0.5)



def scenario_call_blf(lab, work):
    """BLF from the proxy itself: 207 watches 208 and 206 (dialog package); 206 calls 208 through
    Kamailio, which tracks the call (dialog module) and PUBLISHes its states for both ends
    (pua_dialoginfo, to itself); 208 rings, answers, and 206 hangs up."""
    p207 = Phone(lab, "207", "127.0.0.207", SERVER)
    p208 = Phone(lab, "208", "127.0.0.208", SERVER)
    p206 = Phone(lab, "206", "127.0.0.206", SERVER)
    for p in (p207, p208, p206):
        register(p)
    subs = []
    for target in ("sip:208@" + DOMAIN, "sip:206@" + DOMAIN):
        sub, resp = subscribe(p207, target, expires=60)
        p207.expect(lambda m: is_notify(m, sub.hdr("call-id")), 5, "NOTIFY " + target)
        subs.append(sub.hdr("call-id"))
    lab.sleep(1.0)
    p208.answer["INVITE"] = None
    target = "sip:208@" + DOMAIN
    inv = p206.request("INVITE", target, target, headers=["Contact: " + p206.contact()])
    got = p208.expect(lambda m: m.method == "INVITE", 5, "INVITE")
    p208.respond(got, 180, "Ringing", to_tag=p208.tag, headers=["Contact: " + p208.contact()])
    lab.sleep(1.5)
    p208.respond(got, 200, "OK", to_tag=p208.tag, headers=["Contact: " + p208.contact()])
    ok = p206.final(inv)
    rr = ok.all("record-route")
    route = ["Route: " + ", ".join(reversed(rr))] if rr else []
    cseq = int(inv.hdr("cseq").split()[0])
    contact = re.search(r"<([^>]*)>", ok.hdr("contact")).group(1)
    p206.request("ACK", contact, target, call_id=inv.hdr("call-id"), cseq=cseq, to_tag=ok.tag("to"),
                 headers=route)
    p208.expect(lambda m: m.method == "ACK", 5, "ACK")
    lab.sleep(1.5)
    bye = p206.request("BYE", contact, target, call_id=inv.hdr("call-id"), cseq=cseq + 1,
                       to_tag=ok.tag("to"), headers=route)
    p206.final(bye)
    lab.sleep(1.5)
    notifies = [m for m in p207.inbox if m.method == "NOTIFY"]
    lab.log("207 got %d NOTIFYs during the call" % len(notifies))



def message(p, target, text):
    sent = p.request("MESSAGE", target, target, body=text, content_type="text/plain")
    return p.final(sent)


def scenario_register_lapse(lab, work):
    """Field case 004 on a real registrar: phone 210 asks Expires 3600, is granted 10 s, refreshes
    5 s after each grant (granted expiry minus 5, as a Cisco phone), then stops; the registrar
    drops the contact (a MESSAGE from 211 gets 404); 210's late refresh (same Call-ID) comes back
    and the next MESSAGE reaches it."""
    p210 = Phone(lab, "210", "127.0.0.210", SERVER)
    p211 = Phone(lab, "211", "127.0.0.211", SERVER)  # sends MESSAGEs only: no registration to lapse
    grants = []
    for _ in range(3):
        sent, resp = register(p210, expires=3600, headers=["Expires: 3600"])
        assert resp.status == 200, resp.start
        grants.append(resp.hdr("contact"))
        if len(grants) < 3:
            lab.sleep(5.0)
    lab.log("210 granted: %r; now silent" % grants)
    lab.sleep(12.0)
    resp = message(p211, "sip:210@" + DOMAIN, "are you there?")
    lab.log("MESSAGE to 210 while lapsed: %s" % resp.start)
    sent, resp = register(p210, expires=3600, headers=["Expires: 3600"])
    lab.log("late refresh: %s" % resp.start)
    resp = message(p211, "sip:210@" + DOMAIN, "welcome back")
    lab.log("MESSAGE to 210 after the late refresh: %s" % resp.start)
    lab.sleep(0.5)


def scenario_outbound_keepalive(lab, work):
    """RFC 5626 through Kamailio's outbound support: phone 212 registers a flow (reg-id,
    +sip.instance, Supported: outbound), the registrar answers Require: outbound and Flow-Timer: 5;
    the phone pings CRLFCRLF within the Flow-Timer, the server pongs CRLF; then one ping comes
    late (8 s after the previous)."""
    p212 = Phone(lab, "212", "127.0.0.212", SERVER,
                 instance="urn:uuid:00000000-0000-1000-8000-0000000002120")
    inst = '+sip.instance="<%s>"' % p212.instance
    p212.reg_call_id = p212.rand(16) + "@" + p212.ip
    sent = p212.request("REGISTER", "sip:" + DOMAIN, p212.aor, call_id=p212.reg_call_id,
                        headers=["Contact: %s;reg-id=1;%s;expires=10" % (p212.contact(";ob"), inst),
                                 "Supported: outbound, path"])
    resp = p212.final(sent)
    lab.log("outbound REGISTER: %s, Require %r, Flow-Timer %r" % (resp.start, resp.hdr("require"),
                                                                   resp.hdr("flow-timer")))
    flow_timer = int(resp.hdr("flow-timer") or 5)

    def refresh():
        sent = p212.request("REGISTER", "sip:" + DOMAIN, p212.aor, call_id=p212.reg_call_id,
                            headers=["Contact: %s;reg-id=1;%s;expires=10" % (p212.contact(";ob"), inst),
                                     "Supported: outbound, path"])
        p212.final(sent)

    def ping(gap):
        lab.sleep(gap)
        p212.pongs.clear()
        p212.send_raw(b"\r\n\r\n")
        deadline = time.time() + 2
        while not p212.pongs and time.time() < deadline:
            lab.pump(0.1)
        lab.log("ping after %d s: %s" % (gap, "pong" if p212.pongs else "no pong"))

    ping(flow_timer - 1)         # t = 4
    ping(flow_timer - 1)         # t = 8
    lab.sleep(0.3)
    refresh()                    # t = 8.3, before the 10 s expiry
    ping(flow_timer + 3)         # t = 16.3: 8 s after the previous ping, over the Flow-Timer
    lab.sleep(0.2)
    refresh()                    # t = 16.5
    lab.sleep(0.5)


class MsrpClient:
    """An MSRP endpoint that reaches its peer through the relay (RFC 4976): it connects to the relay
    (so its SDP says a=setup:active, as both Blinks in field case 001), AUTHs, and gets Use-Path."""

    def __init__(self, lab, name, ip, relay=("127.0.0.68", 2855)):
        self.lab, self.name, self.ip = lab, name, ip
        self.uri = "msrp://%s:2855/%s;tcp" % (ip, Phone.rand(12))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((ip, 0))
        self.sock.connect(relay)
        self.relay = "msrp://%s:%d;tcp" % relay
        self.buf = b""
        self.frames = []
        self.use_path = None
        self.msg_n = 0

    def send_frame(self, first, headers, body=b"", tid=None):
        tid = tid or Phone.rand(10)
        data = ("MSRP %s %s\r\n" % (tid, first)).encode()
        data += "".join("%s: %s\r\n" % h for h in headers).encode()
        if body:
            data += b"\r\n" + body + b"\r\n"
        data += ("-------%s$\r\n" % tid).encode()
        self.sock.sendall(data)
        return tid

    def read(self, pred, timeout=5.0):
        deadline = time.time() + timeout
        while True:
            while True:
                m = re.match(rb"MSRP (\S+) ", self.buf)
                if not m:
                    break
                end = self.buf.find(b"-------" + m.group(1), 0)
                if end < 0:
                    break
                stop = self.buf.find(b"\r\n", end) + 2
                frame, self.buf = self.buf[:stop], self.buf[stop:]
                self.frames.append(self.parse(frame))
                self.lab.log("%s msrp <- %s" % (self.name, frame.split(b"\r\n")[0].decode()))
            for i, f in enumerate(self.frames):
                if pred(f):
                    return self.frames.pop(i)
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("%s: no MSRP frame (have %r)" % (self.name, self.frames))
            r, _, _ = select.select([self.sock], [], [], min(left, 0.2))
            if r:
                data = self.sock.recv(65535)
                if not data:
                    raise ConnectionError(self.name + ": relay closed")
                self.buf += data

    @staticmethod
    def parse(frame):
        head, _, body = frame.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        _, tid, rest = lines[0].split(" ", 2)
        f = {"tid": tid, "first": rest, "body": body, "h": {}}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                f["h"][k.strip().lower()] = v.strip()
        return f

    def auth(self):
        tid = self.send_frame("AUTH", [("To-Path", self.relay), ("From-Path", self.uri)])
        resp = self.read(lambda f: f["tid"] == tid)
        self.use_path = resp["h"].get("use-path")
        return resp

    def path(self):
        return "%s %s" % (self.use_path, self.uri)

    def send(self, to_path, text):
        self.msg_n += 1
        body = text.encode()
        return self.send_frame("SEND", [("To-Path", to_path), ("From-Path", self.uri),
                                        ("Message-ID", "%s-%d" % (self.name, self.msg_n)),
                                        ("Byte-Range", "1-%d/%d" % (len(body), len(body))),
                                        ("Content-Type", "text/plain")], body)

    def answer_sends(self, timeout=5.0):
        f = self.read(lambda f: f["first"].startswith("SEND"), timeout)
        self.send_frame("200 OK", [("To-Path", f["h"]["from-path"]), ("From-Path", self.uri)], tid=f["tid"])
        return f


def sdp(ip, path):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=message 2855 TCP/MSRP *\r\na=accept-types:text/plain\r\na=path:%s\r\n"
            "a=setup:active\r\n" % (ip, ip, path))


def scenario_msrp_relay(lab, work):
    """Field case 001's offer and answer (both a=setup:active) through an RFC 4976 relay: both ends
    connect to Kamailio's msrp relay, AUTH, put the Use-Path in their a=path, and chat."""
    alice = Phone(lab, "220", "127.0.0.220", SERVER)
    bob = Phone(lab, "221", "127.0.0.221", SERVER)
    register(bob)
    ma, mb = MsrpClient(lab, "220", alice.ip), MsrpClient(lab, "221", bob.ip)
    ma.auth()
    mb.auth()
    bob.answer["INVITE"] = None
    inv = alice.request("INVITE", "sip:221@" + DOMAIN, "sip:221@" + DOMAIN,
                        headers=["Contact: " + alice.contact()], body=sdp(alice.ip, ma.path()),
                        content_type="application/sdp")
    got = bob.expect(lambda m: m.method == "INVITE", 5, "INVITE")
    bob.respond(got, 180, "Ringing", to_tag=bob.tag)
    bob.respond(got, 200, "OK", to_tag=bob.tag, headers=["Contact: " + bob.contact()],
                body=sdp(bob.ip, mb.path()), content_type="application/sdp")
    ok = alice.final(inv)
    bob_path = re.search(r"a=path:(.*)\r\n", ok.body.decode()).group(1)
    rr = [v for v in ok.all("record-route")]
    route = ["Route: " + ", ".join(reversed(rr))] if rr else []
    cseq = int(inv.hdr("cseq").split()[0])
    target = re.search(r"<([^>]*)>", ok.hdr("contact")).group(1)
    alice.request("ACK", target, "sip:221@" + DOMAIN, call_id=inv.hdr("call-id"), cseq=cseq,
                  to_tag=ok.tag("to"), headers=route)
    bob.expect(lambda m: m.method == "ACK", 5, "ACK")
    lab.sleep(0.3)
    alice_path = ma.path()
    for text_a, text_b in (("hello from 220", "hi 220, 221 here"), ("how are you?", "fine")):
        tid = ma.send(bob_path, text_a)
        mb.answer_sends()
        ma.read(lambda f: f["tid"] == tid and f["first"].startswith("200"))
        tid = mb.send(alice_path, text_b)
        ma.answer_sends()
        mb.read(lambda f: f["tid"] == tid and f["first"].startswith("200"))
        lab.sleep(0.3)
    lab.sleep(0.3)
    # leftover responses (a relay answering hop by hop may send two)
    for c in (ma, mb):
        try:
            c.read(lambda f: True, 0.5)
        except TimeoutError:
            pass
    alice.request("BYE", target, "sip:221@" + DOMAIN, call_id=inv.hdr("call-id"), cseq=cseq + 1,
                  to_tag=ok.tag("to"), headers=route)
    bob.expect(lambda m: m.method == "BYE", 5, "BYE")
    lab.sleep(0.3)
    ma.sock.close()
    mb.sock.close()
    lab.sleep(0.5)


SCENARIOS = {
    "presence_rls": (scenario_presence_rls, "presence.cfg"),
    "reboot": (scenario_reboot, "presence.cfg"),
    "power_loss": (scenario_power_loss, "presence.cfg"),
    "notify_rejected": (scenario_notify_rejected, "presence.cfg"),
    "call_blf": (scenario_call_blf, "presence.cfg"),
    "register_lapse": (scenario_register_lapse, "registrar.cfg"),
    "register_backoff": (scenario_register_backoff, "registrar.cfg"),
    "outbound_keepalive": (scenario_outbound_keepalive, "registrar.cfg"),
    "msrp_relay": (scenario_msrp_relay, "msrp.cfg"),
}

VETH_SCENARIOS = ("register_backoff",)

XCAP = {
    "presence_rls": [("207", rls_services("sip:blf207@" + DOMAIN, ["sip:208@" + DOMAIN, "sip:206@" + DOMAIN]))],
    "reboot": [("207", rls_services("sip:blf207@" + DOMAIN, ["sip:208@" + DOMAIN]))],
}


def run(name, out_dir, keep):
    func, cfg = SCENARIOS[name]
    work = tempfile.mkdtemp(prefix="lab-%s-" % name)
    pcap = os.path.join(out_dir, "real_%s.pcap" % name)
    if os.path.exists(pcap):
        os.unlink(pcap)
    defines = [make_db(work, XCAP.get(name, ()))]
    log("== %s (%s, work %s)" % (name, cfg, work))
    veth = Veth() if name in VETH_SCENARIOS else None
    if veth:
        defines.append("WITH_VETH")
    if name == "call_blf":
        defines.append("WITH_CALLS")
    kam = Kamailio(cfg, work, defines)
    cap = None
    lab = Lab(log)
    ok = False
    try:
        if veth:
            cap = Capture(pcap, "vsv", "tcp port 5060")
            func(lab, work, veth)
        else:
            cap = Capture(pcap)
            func(lab, work)
        ok = True
    finally:
        if cap:
            cap.stop()
        kam.stop()
        lab.close()
        if veth:
            veth.close()
        if not ok or keep:
            log("kamailio log: " + os.path.join(work, "kamailio.log"))
        else:
            shutil.rmtree(work)
    log("== %s -> %s" % (name, pcap))


def main():
    # kamailio and ip live in /usr/sbin, which a normal user's PATH often lacks
    os.environ["PATH"] = "/usr/sbin:/sbin:" + os.environ.get("PATH", "/usr/bin:/bin")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=HERE, help="directory for the captures (default: captures/real)")
    ap.add_argument("--keep", action="store_true", help="keep the Kamailio work directories and logs")
    ap.add_argument("scenario", nargs="*", help="scenarios to run (default: all): " + ", ".join(SCENARIOS))
    args = ap.parse_args()
    if not in_own_netns():
        sys.exit(reexec_in_netns(sys.argv[1:]))
    subprocess.check_call(["ip", "link", "set", "lo", "up"])
    os.makedirs(args.out, exist_ok=True)
    for name in args.scenario or list(SCENARIOS):
        run(name, os.path.abspath(args.out), args.keep)


if __name__ == "__main__":
    main()
