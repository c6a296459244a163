"""The audit ring (R24) on the host board: a flood of refusals neither pushes out the trail of an
`acl grant` nor goes unaccounted; a byte changed in the NV file, an entry removed, a chain
rewritten after an entry and the file cut short are each found by `audit verify`, naming the
entry; a power cut in the middle of an append leaves a ring that verifies and goes on."""
import base64
import http.client
import os
import re
import secrets

import auditring
from enrollment import Authority, enrolled_root
from harness import PROMPT, TestFailure, check
from hsm import console_login
from netboard import host_on_network, http_get, https_context

FLOOD = 20000


def fingerprint():
    return ":".join("%02X" % b for b in secrets.token_bytes(32))


def flood(port, n):
    """n refusals over one keep-alive HTTPS connection, alternating two kinds so that no two in a
    row are alike (identical neighbours would be counted as repeats anyway)."""
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=https_context())
    statuses = {}
    try:
        for i in range(n):
            path = "/v1/certify" if i % 2 == 0 else "/v1/publish"
            c.request("POST", path, body=b"<x/>", headers={"Content-Type": "application/xml"})
            r = c.getresponse()
            r.read()
            statuses[(path, r.status)] = statuses.get((path, r.status), 0) + 1
    finally:
        c.close()
    return statuses


def counted(audit):
    """What the audit says about the flood: entries listed one by one, plus the counts of the
    minutes' summaries, per kind."""
    listed = {"certify": 0, "publish": 0}
    for kind in listed:
        listed[kind] = len(re.findall(r"  %s: refused \(401\)" % kind, audit))
    for line in re.findall(r"requests counted, not listed, [^\n]*", audit):
        for kind, n in re.findall(r" (certify|publish) refused \(401\) (\d+)", line):
            listed[kind] += int(n)
    return listed


def verify(con):
    return con.command("audit verify", timeout=120)


EXPORT_BLOCK = re.compile(r"-----BEGIN SIGNET AUDIT EXPORT-----\n(.*?)-----END SIGNET AUDIT "
                          r"EXPORT-----\n", re.S)


def export(con, tmp, name, *args):
    """`audit export`, the armored block written to a file: (path, what the console said)."""
    out = con.command(" ".join(("audit export",) + args), timeout=300)
    m = EXPORT_BLOCK.search(out)
    check(m, "no export block: %r" % out[-500:], con)
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(m.group(0))
    return path, out[m.end():]


def offline(auth, path, anchor=None):
    return auth.run("audit-verify", path, "--anchor", anchor or auth.root_pem)


def export_items(path):
    """The export's bytes: (head, [(kind, bytes)])."""
    with open(path) as f:
        data = base64.b64decode("".join(EXPORT_BLOCK.search(f.read()).group(1).split()))
    head, items, off = data[:21], [], 21
    while off < len(data):
        kind, n = data[off], int.from_bytes(data[off + 1:off + 4], "little")
        items.append((kind, data[off + 4:off + 4 + n]))
        off += 4 + n
    return head, items


def write_export(path, head, items):
    data = head + b"".join(bytes([k]) + len(b).to_bytes(3, "little") + b for k, b in items)
    text = base64.b64encode(data).decode()
    with open(path, "w") as f:
        f.write("-----BEGIN SIGNET AUDIT EXPORT-----\n")
        f.write("".join(text[i:i + 64] + "\n" for i in range(0, len(text), 64)))
        f.write("-----END SIGNET AUDIT EXPORT-----\n")


def test_a_flood_of_refusals_keeps_the_trail_and_every_request_is_counted(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    fp = fingerprint()
    check("granted sub-enrollment to lic1" in con.command("acl grant %s lic1" % fp), "acl grant",
          con)

    statuses = flood(nb.https_port, FLOOD)
    check(statuses == {("/v1/certify", 401): FLOOD // 2, ("/v1/publish", 401): FLOOD // 2},
          "the flood's answers: %r" % statuses, con)

    audit = con.command("audit show 1000", timeout=60)
    check("acl grant %s lic1" % fp in audit, "the acl grant is gone from the audit log", con)
    got = counted(audit)
    check(got == {"certify": FLOOD // 2, "publish": FLOOD // 2},
          "the audit accounts for %r of the %d refusals" % (got, FLOOD), con)
    status = con.command("status")
    m = re.search(r"audit:     entries 1\.\.(\d+), (\d+) of 24 segments free", status)
    check(m and int(m.group(1)) < 1000 and int(m.group(2)) >= 22,
          "the flood filled the ring: %r" % status, con)
    out = verify(con)
    check(out.startswith("audit verify: ok: entries 1..") and "seals: " in out and
          "good" in out, "audit verify: %r" % out, con)
    check(http_get(nb.http_port, "/health") == (200, "ok\n"), "/health after the flood", con)


def boot(tmp, tok, nv):
    nb = host_on_network(tmp, tok, nv=nv)
    console_login(nb.con)
    return nb


def test_tampering_with_the_nv_file_is_named_by_audit_verify(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    # Enough entries for seals at the start and after 256 more (one seal is due at once).
    for i in range(300):
        check("bad time" in con.command("time set bad%03d" % i), "time set", con)
    out = verify(con)
    check(out.startswith("audit verify: ok:"), "audit verify before: %r" % out, con)
    m = re.search(r"seals: (\d+), good", out)
    check(m and int(m.group(1)) >= 2, "fewer than two seals: %r" % out, con)
    con.close()  # power off
    nv = os.path.join(tmp, "nv.img")
    pristine = auditring.read(nv)
    recs = auditring.records(pristine)
    texts = [r for r in recs if r.type == auditring.TEXT]
    seals = [r for r in recs if r.type == auditring.SEAL]
    victim = next(r for r in texts if "time set: refused: bad time 'bad100'" in r.text())

    def verify_tampered(name, image, want):
        """`audit verify` names it, and so does audit-verify on an export of the ring."""
        auditring.write(nv, image)
        nb2 = boot(tmp, tok, "nv.img")
        got = verify(nb2.con)
        check(re.match("error: audit verify: " + want, got),
              "%s: audit verify said %r, not /%s/" % (name, got, want), nb2.con)
        path, _ = export(nb2.con, tmp, "tampered.txt")
        rc, got = offline(auth, path)
        check(rc == 1 and re.search("audit-verify: " + want, got),
              "%s: audit-verify on the export said %r" % (name, got), nb2.con)
        nb2.con.close()

    # The untouched file still verifies after a reboot, and the ring goes on where it was; its
    # export verifies offline, and its alterations are named.
    auditring.write(nv, pristine)
    nb2 = boot(tmp, tok, "nv.img")
    out = verify(nb2.con)
    m = re.match(r"audit verify: ok: entries 1\.\.(\d+)", out)
    check(m and int(m.group(1)) > recs[-1].seq, "after a reboot: %r" % out, nb2.con)
    path, said = export(nb2.con, tmp, "export.txt")
    m = re.search(r"exported entries 1\.\.(\d+)", said)
    check(m, "audit export said %r" % said, nb2.con)
    rc, out = offline(auth, path)
    check(rc == 0 and re.match(r"audit-verify: ok: entries 1\.\.%s \(" % m.group(1), out) and
          "root1's ring" in out, "audit-verify: %r" % out, nb2.con)
    check("exported to %s" % m.group(1) in nb2.con.command("status"), "status after export",
          nb2.con)
    nb2.con.close()
    export_tampering(tmp, auth, path, victim.seq)

    # One byte of the entry's text changed, its CRC left as it was: the entry is gone.
    img = bytearray(pristine)
    img[victim.off + auditring.REC_HEAD + 2] ^= 0x01
    verify_tampered("a byte changed", img, r"entries %d\.\.%d: missing" % (victim.seq, victim.seq))

    # The same with the CRC made good again: the next entry no longer links to it.
    img = bytearray(pristine)
    body = bytearray(victim.body)
    body[-3] ^= 0x01
    auditring.put(img, victim, auditring.encode(victim.type, victim.seq, victim.when,
                                                victim.prev, bytes(body)))
    verify_tampered("a byte changed, CRC fixed", img, r"entry %d: changed" % victim.seq)

    # The entry taken out, the rest of its segment moved up over it.
    img = bytearray(pristine)
    seg_end = (victim.off // auditring.BLOCK + 1) * auditring.BLOCK
    room = victim.padded()
    img[victim.off:seg_end] = img[victim.off + room:seg_end] + b"\xff" * room
    verify_tampered("an entry removed", img, r"entries %d\.\.%d: missing" % (victim.seq, victim.seq))

    # The chain rewritten from the entry on, every hash and CRC good: the seal after it fails.
    img = bytearray(pristine)
    body = bytearray(victim.body)
    body[-3] ^= 0x01
    auditring.rewrite_from(img, victim, bytes(body))
    later_seal = next(s for s in seals if s.seq > victim.seq)
    verify_tampered("the chain rewritten", img,
                    r"entry %d: not what entry %d sealed" %
                    (auditring.sealed_seq(later_seal), later_seal.seq))

    # The file cut short just before the newest seal: the token's anchor names that seal (or,
    # the boots above having found the rewrite and sealed their LOSS entry, a newer one).
    img = bytearray(pristine[:seals[-1].off])
    verify_tampered("the file cut short", img,
                    r"entry \d+: the appliance recorded a loss: the ring "
                    r"ends at entry %d, but the token's anchor names entry \d+ \(a seal of "
                    r"[-0-9T:Z]+\): entries %d\.\." % (seals[-1].seq - 1, seals[-1].seq))


def export_tampering(tmp, auth, path, seq):
    """An export altered after it left the box: each change is named by audit-verify."""
    head, items = export_items(path)
    at = next(i for i, (k, b) in enumerate(items)
              if k == 3 and int.from_bytes(b[4:8], "little") == seq)
    bad = os.path.join(tmp, "bad.txt")

    def named(name, new_items, want, new_head=head):
        write_export(bad, new_head, new_items)
        rc, out = offline(auth, bad)
        check(rc == 1 and re.search("audit-verify: " + want, out),
              "%s: audit-verify said %r, not /%s/" % (name, out, want))

    rec = bytearray(items[at][1])
    rec[50] ^= 0x20
    named("a byte changed", items[:at] + [(3, bytes(rec))] + items[at + 1:],
          r"entry %d: damaged" % seq)
    named("an entry removed", items[:at] + items[at + 1:], r"entries %d\.\.%d: missing" % (seq, seq))
    named("two entries swapped", items[:at] + [items[at + 1], items[at]] + items[at + 2:],
          r"entries %d\.\.%d: missing" % (seq, seq))
    named("the last entries cut off", items[:-3], r"the export ends at entry \d+, not with the "
          r"seal of entry \d+ it names: truncated")
    with open(path) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write(text[:len(text) // 2])
    rc, out = offline(auth, bad)
    check(rc == 1 and "no END line" in out, "a file cut in half: %r" % out)
    other = Authority(tmp, "other-authority")
    rc, out = offline(auth, path, other.root_pem)
    check(rc == 1 and "does not chain to the root" in out, "another root: %r" % out)


def test_a_power_cut_mid_append_leaves_a_ring_that_verifies(tmp):
    auth, tok, nb = enrolled_root(tmp)
    nb.con.close()
    last = 0
    for cut in (5, 23, 61):
        os.environ["SIGNET_AUDIT_POWER_CUT"] = str(cut)
        try:
            nb = host_on_network(tmp, tok)
        finally:
            del os.environ["SIGNET_AUDIT_POWER_CUT"]
        con = nb.con
        console_login(con)
        # Entries until the power goes in the middle of writing one.
        for i in range(200):
            if con.proc.poll() is not None:
                break
            con.send("time set cut%d-%03d\n" % (cut, i))
            try:
                con.expect(PROMPT, 5)
            except TestFailure:
                break
        check(con.wait_exit(30) == 99, "the board did not lose power mid-append", con)
        con.close()
        image = auditring.read(os.path.join(tmp, "nv.img"))
        check(auditring.torn_tail(image), "no torn record after the cut at %d" % cut, con)
        nb = boot(tmp, tok, "nv.img")
        out = verify(nb.con)
        check(out.startswith("audit verify: ok: entries 1.."), "after the cut at %d: %r" %
              (cut, out), nb.con)
        m = re.search(r"entries 1\.\.(\d+)", out)
        check(int(m.group(1)) > last, "the ring did not go on: %r" % out, nb.con)
        last = int(m.group(1))
        nb.con.close()
