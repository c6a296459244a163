"""The audit trail forwarded to syslog (R24) on the host board: Debian's rsyslog, over RELP,
takes every entry once, in order, as an RFC 5424 message with its sequence number; stopped for
a minute while entries are written and started again, it gets what it missed, and nothing
twice; the appliance restarted resumes after what the collector acknowledged."""
import re
import time

from collector import Collector
from enrollment import enrolled_root
from harness import check
from hsm import console_login
from netboard import host_on_network
from rights import HOST


def head(con):
    m = re.search(r"audit:     entries 1\.\.(\d+)", con.command("status"))
    check(m, "no audit line in status", con)
    return int(m.group(1))


def caught_up(con, coll, timeout=60):
    """Wait until the collector has every entry the ring holds; the seqs it took, in order."""
    deadline = time.monotonic() + timeout
    while True:
        last = head(con)
        fwd = con.command("audit forward show")
        m = re.search(r"the collector has entries up to (\d+), 0 in flight", fwd)
        if m and int(m.group(1)) >= last:
            seqs = [s for s, _, _, _ in coll.messages() if s is not None]
            if seqs and seqs[-1] >= last:
                return seqs, last
        check(time.monotonic() < deadline, "the collector did not catch up with entry %d: %r"
              % (last, fwd), con)
        time.sleep(0.5)


def exactly_once(con, seqs, last):
    dupes = sorted({s for s in seqs if seqs.count(s) > 1})
    check(not dupes, "entries sent twice: %r" % dupes[:20], con)
    check(seqs == sorted(seqs), "entries out of order", con)
    missing = sorted(set(range(1, last + 1)) - set(seqs))
    check(not missing, "entries the collector never got: %r" % missing[:20], con)


def test_rsyslog_gets_every_entry_once_across_an_outage_and_a_restart(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    coll = Collector(tmp)
    out = con.command("audit forward relp %s:%d" % (HOST, coll.port))
    check("forward:   relp %s:%d" % (HOST, coll.port) in out, "audit forward: %r" % out, con)
    for i in range(40):
        con.command("time set up%02d" % i)
    seqs, last = caught_up(con, coll)
    exactly_once(con, seqs, last)
    msgs = coll.messages()
    texts = {s: t for s, _, t, _ in msgs}
    check(any(t == "time set: refused: bad time 'up07'" for t in texts.values()),
          "an entry's text did not arrive as the ring has it", con)
    check(any(k == "seal" for _, k, _, _ in msgs), "no seal was forwarded", con)
    check(all(" root1 signet - " in line for _, _, _, line in msgs), "hostname", con)

    # The collector stopped for a minute while entries are written: they wait in the ring.
    coll.stop()
    for i in range(30):
        con.command("time set down%02d" % i)
    time.sleep(60)
    status = con.command("audit forward show")
    check("not connected" in status or "connecting" in status, "forward while down: %r" % status,
          con)
    coll.start()
    seqs, last = caught_up(con, coll, 60)
    exactly_once(con, seqs, last)
    texts = [t for _, _, t, _ in coll.messages()]
    check("time set: refused: bad time 'down29'" in texts, "the outage's entries are missing", con)

    # The appliance restarted: it goes on after what the collector acknowledged.
    con.close()
    nb = host_on_network(tmp, tok)
    con = nb.con
    console_login(con)
    for i in range(10):
        con.command("time set boot%02d" % i)
    seqs, last = caught_up(con, coll, 60)
    exactly_once(con, seqs, last)
    con.close()
    coll.stop()
    auth.close()


def hostile_collector(answers):
    """A TCP server on loopback: each connection in turn gets the next of answers, a list of
    bytes, each sent after a read of what the appliance sent; then it is held open. Its port."""
    import socket
    import threading

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    held = []

    def serve():
        for answer in answers:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.settimeout(10)
            try:
                for part in answer:
                    c.recv(65536)
                    c.sendall(part)
            except OSError:
                pass
            held.append(c)
        srv.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1], held


def test_a_hostile_collector_ends_the_session_with_a_reason(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    cases = [
        ([b"1 rsp 6 200 OK\n", b"9 rsp 6 200 OK\n"], "acknowledged out of order"),
        ([b"1 rsp 6 200 OK\n7 rsp 6 200 OK\n"], "answered a frame never sent"),
        ([b"garbage that is no frame at all, long enough to be judged\n"], "is not RELP"),
        ([b"1 rsp 999999999 " + b"A" * 600], "is not RELP"),
        ([b"1 rsp 9 500 nope!\n"], "the collector refused: 500 nope!"),
        ([b"1 rsp 6 200 OK\n", b"0 serverclose 0\n"], "the collector closed the session"),
        ([b"1 rsp 6 200 OK\n", b"2 rsp 6 200 OK\n3 rsp"], "did not answer in time"),
    ]
    con.command("test relp-timeout 3000")  # the last case waits for it (default 30 s)
    port, held = hostile_collector([a for a, _ in cases])
    check("forward:   relp" in con.command("audit forward relp %s:%d" % (HOST, port)), "set", con)
    for answer, want in cases:
        deadline = time.monotonic() + 30  # a retry (5 s), then at most the answer time-out
        while want not in con.command("audit forward show"):
            check(time.monotonic() < deadline, "no %r after %r: %r" %
                  (want, answer, con.command("audit forward show")), con)
            time.sleep(0.3)
    check("audit forward relp" in con.command("audit show 40"), "not audited", con)
    check(con.command("audit forward off").strip() == "forward:   off", "off", con)
    check("forward:   off" in con.command("status"), "status", con)
    for c in held:
        c.close()
    auth.close()
