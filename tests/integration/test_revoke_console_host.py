"""Revocation on the host board's console (docs/console.md "Revocation"): an operator revokes
serials and excludes users; every refusal changes nothing and is audited; the list lives in the
token, so a power cut at each step of a revocation leaves the old list or the new one, and a
cluster member on the same token sees it at once; the CRL the appliance signs (with 600 entries,
more than one token object of them) is read and verified by openssl against the SLC."""
import os
import re
import signal
import subprocess
import time
from datetime import datetime

from enrollment import (Authority, enroll_offline, paste, pem_blocks, prepare_appliance, slc_show,
                        trust)
from harness import PROMPT, check, host_board
from hsm import Token, console_login

SERIAL = "4%031x"  # serials of this hierarchy: 16 bytes, the first 0x40..0x7f
STEPS = [("replace: staged leftovers gone", "old"), ("replace: new object staged", "old"),
         ("replace: old object retired", "new"), ("replace: new object in force", "new")]


def board(tmp, tok, nv="nv.img", login=True):
    con = host_board(tmp, nv=nv, extra=["--hsm", tok.sock])
    con.expect(PROMPT, 30)
    if login:
        console_login(con)
    return con


def serial(n):
    return SERIAL % n


def listed(con, n=16384):
    """The serials `revocations` shows, newest first, and the excluded users."""
    out = con.command("revocations %d" % n, 60)
    check("error" not in out, "revocations: %r" % out, con)
    serials = re.findall(r"^  ([0-9a-f]{32})  ", out, re.M)
    users = re.findall(r"^  (\S+@\S+)$", out, re.M)
    return serials, users, out


def listed_soon(con, want, timeout=5):
    """listed(), again until want(serials, users) holds or timeout seconds pass: each member
    reads the token anew, but two SoftHSM2 processes on one token directory may take a moment
    to see each other's objects."""
    deadline = time.monotonic() + timeout
    while True:
        serials, users, out = listed(con)
        if want(serials, users) or time.monotonic() > deadline:
            return serials, users, out
        time.sleep(0.2)


def crl_info(con):
    out = con.command("crl show")
    m = re.search(r"own CRL: number (\d+), .*?, (\d+) entries, (\d+) excluded users", out)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None, out


def wait_crl(con, entries, users=0, timeout=30):
    """The house task signs within a second or two of a change."""
    deadline = time.monotonic() + timeout
    while True:
        info, out = crl_info(con)
        if info and info[1:] == (entries, users):
            return info[0]
        check(time.monotonic() < deadline,
              "no CRL with %d entries and %d users:\n%s" % (entries, users, out), con)
        time.sleep(0.5)


def openssl_crl(tmp, con, name="crl.pem"):
    """The CRL as PEM from the console, verified by openssl with the SLC; its text."""
    out = con.command("crl show pem", 60)
    m = re.search(r"-----BEGIN X509 CRL-----\n.*?-----END X509 CRL-----\n", out, re.S)
    check(m, "crl show pem gave no PEM CRL:\n%s" % out[:2000], con)
    crl = os.path.join(tmp, name)
    with open(crl, "w") as f:
        f.write(m.group(0))
    certs = pem_blocks(con.command("slc export"))
    slc = os.path.join(tmp, "slc.pem")
    with open(slc, "w") as f:
        f.write(certs[0])
    res = subprocess.run(["openssl", "crl", "-in", crl, "-CAfile", slc, "-noout", "-text"],
                         capture_output=True, text=True, timeout=60)
    check(res.returncode == 0 and "verify OK" in res.stderr + res.stdout,
          "openssl crl -verify: %s" % (res.stderr or res.stdout[:2000]), con)
    return res.stdout


def audited(con, pattern):
    audit = con.command("audit show 50")
    check(re.search(pattern, audit), "not audited: /%s/:\n%s" % (pattern, audit), con)


def test_revoke_commands_refusals_and_crl(tmp):
    auth = Authority(tmp)
    tok = Token(tmp)
    con = board(tmp, tok, login=False)

    # Not logged in: the changes are refused and audited.
    for cmd in ("revoke " + serial(1), "revoke user mallory@example.test",
                "unrevoke user mallory@example.test", "config crl-hours 12", "crl import"):
        out = con.command(cmd)
        check("needs login first" in out, "%s without login: %r" % (cmd, out), con)
    prepare_appliance(con)
    trust(con, auth)
    audited(con, r"revoke: refused: not logged in")
    # No SLC yet: nothing to sign with.
    info, out = crl_info(con)
    check(info is None and "own CRL: none yet" in out, "crl show before enrolling:\n" + out, con)
    enroll_offline(con, auth)
    first = wait_crl(con, 0)

    # Refusals change nothing.
    for cmd, reason in (("revoke 12", "32 hex digits"),
                        ("revoke " + "8" * 32, "32 hex digits"),
                        ("revoke %s removeFromCRL" % serial(1), "reason"),
                        ("revoke %s keycompromise" % serial(1), "reason"),
                        ("revoke user mallory", "user name"),
                        ("unrevoke user nobody@example.test", "not excluded"),
                        ("config crl-hours 0", "crl-hours"),
                        ("config crl-hours 745", "crl-hours")):
        out = con.command(cmd)
        check(re.search(r"error: [^\n]*%s[^\n]*; nothing changed" % reason, out),
              "%s: %r" % (cmd, out), con)
    check(listed(con)[:2] == ([], []), "a refusal changed the list", con)
    audited(con, r"revoke: refused: reason must be")

    out = con.command("revoke %s keyCompromise" % serial(1))
    check(re.match(r"revoked %s \(keyCompromise\)" % serial(1), out), "revoke: %r" % out, con)
    out = con.command("revoke " + serial(1).upper())
    check("error: already revoked; nothing changed" in out, "second revoke: %r" % out, con)
    out = con.command("revoke %s superseded" % serial(2))
    check("revoked" in out and "error" not in out, "revoke: %r" % out, con)
    out = con.command("revoke user Mallory@Example.TEST")
    check(out.startswith("excluded Mallory@Example.TEST"), "revoke user: %r" % out, con)
    out = con.command("revoke user Mallory@example.test")  # domains compare without case
    check("already excluded" in out, "second revoke user: %r" % out, con)
    con.command("revoke user eve@example.test")
    out = con.command("unrevoke user eve@EXAMPLE.test")
    check("no longer excluded" in out, "unrevoke user: %r" % out, con)
    serials, users, out = listed(con)
    check(serials == [serial(2), serial(1)] and users == ["Mallory@example.test"],
          "revocations (newest first):\n" + out, con)
    check(re.search(r"%s  superseded\s+\d{4}-\d\d-\d\dT" % serial(2), out), out, con)
    serials, _, out = listed(con, 1)
    check(serials == [serial(2)] and "... 1 more" in out, "revocations 1:\n" + out, con)
    for pattern in (r"revoke %s keyCompromise" % serial(1), r"revoke user Mallory@Example.TEST",
                    r"unrevoke user eve@EXAMPLE.test"):
        audited(con, pattern)

    out = con.command("config crl-hours 12")
    check("crl-hours 12" in out and "error" not in out, "config crl-hours: %r" % out, con)
    number = wait_crl(con, 2, 1)
    check(number > first, "the CRL number did not rise: %d after %d" % (number, first), con)
    text = openssl_crl(tmp, con)
    for n, reason in ((1, "Key Compromise"), (2, "Superseded")):
        check(re.search(r"Serial Number: %s\n\s+Revocation Date: .*\n\s+CRL entry extensions:\n"
                        r"\s+X509v3 CRL Reason Code:\s*\n\s+%s" % (serial(n).upper(), reason),
                        text), "openssl does not list %s as %s:\n%s" % (serial(n), reason, text),
              con)
    check(re.search(r"X509v3 CRL Number:\s*\n\s+%d" % number, text), text, con)
    # The next update is crl-hours after signing; this update is backdated 300 s before it.
    m = re.search(r"Last Update: (.*)\n\s+Next Update: (.*)\n", text)
    check(m, "no update times:\n" + text, con)
    last, nxt = (datetime.strptime(re.sub(r"\s+", " ", g), "%b %d %H:%M:%S %Y GMT")
                 for g in m.groups())
    span = (nxt - last).total_seconds()
    check(abs(span - (12 * 3600 + 300)) < 2, "lifetime %ss, not 12 h + 300 s:\n%s" % (span, text),
          con)

    # After a reboot the list is still there; so is the CRL number (the next one is above).
    con.close()
    con = board(tmp, tok)
    serials, users, out = listed(con)
    check(serials == [serial(2), serial(1)] and users == ["Mallory@example.test"],
          "after a reboot:\n" + out, con)
    again = wait_crl(con, 2, 1)
    check(again >= number, "the CRL number went back after a reboot: %d < %d" % (again, number),
          con)
    con.close()
    auth.close()
    tok.close()


def test_power_cut_at_each_step_of_a_revoke(tmp):
    auth = Authority(tmp)
    tok = Token(tmp)
    con = board(tmp, tok, login=False)
    prepare_appliance(con)
    trust(con, auth)
    enroll_offline(con, auth)
    con.command("revoke " + serial(1))
    expect = [serial(1)]
    seen = set()
    for i, (step, outcome) in enumerate(STEPS):
        new = serial(100 + i)
        con.command("test pause-steps 3000")
        con.send("revoke %s\n" % new)
        con.expect("test: " + re.escape(step), 60)
        con.signal(signal.SIGKILL)  # the power cut
        con.close()
        con = board(tmp, tok)
        serials, _, out = listed(con)
        if outcome == "new":
            expect.insert(0, new)
        check(serials == expect, "a cut at %r should leave the %s list %r:\n%s" %
              (step, outcome, expect, out), con)
        seen.add(outcome)
    check(seen == {"old", "new"}, "both outcomes expected: %r" % seen, con)
    # The list goes on from there.
    out = con.command("revoke " + serial(999))
    check("error" not in out, "revoke after the cuts: %r" % out, con)
    wait_crl(con, len(expect) + 1)
    con.close()
    auth.close()
    tok.close()


def test_cluster_members_share_the_list_and_600_entries_sign(tmp):
    auth = Authority(tmp)
    tok = Token(tmp)
    a = board(tmp, tok, login=False)
    prepare_appliance(a, alg="p256")  # the other test signs with RSA: both token paths
    trust(a, auth)
    enroll_offline(a, auth)
    b = board(tmp, tok, nv="nv-b.img")  # a second member on the same token
    out = a.command("revoke %s cessationOfOperation" % serial(1))
    check("revoked %s" % serial(1) in out, "revoke on a: %r" % out, a)
    serials, _, out = listed_soon(b, lambda s, u: s == [serial(1)])
    check(serials == [serial(1)], "member b does not see a's revocation:\n" + out, b)
    out = b.command("revoke user mallory@example.test")
    check("mallory@example.test" in out and "error" not in out, "revoke user on b: %r" % out, b)
    out = b.command("revoke " + serial(2))
    check("revoked %s" % serial(2) in out, "revoke on b: %r" % out, b)
    serials, users, out = listed_soon(a, lambda s, u: s == [serial(2), serial(1)] and
                                      u == ["mallory@example.test"])
    check(serials == [serial(2), serial(1)] and users == ["mallory@example.test"],
          "member a does not see b's changes:\n" + out, a)
    na, nb = wait_crl(a, 2, 1), wait_crl(b, 2, 1)
    # Both members publish the same list under one number.
    deadline = time.monotonic() + 20
    while na != nb and time.monotonic() < deadline:
        time.sleep(1)
        na, nb = wait_crl(a, 2, 1), wait_crl(b, 2, 1)
    check(na == nb, "members publish numbers %d and %d for one list" % (na, nb), a)

    # 600 entries: more than one token object of them (511 each), one CRL of them all.
    start = time.monotonic()
    for n in range(3, 601):
        a.send("revoke %s\n" % serial(n))
        if n % 50 == 0 or n == 600:
            a.expect("revoked %s " % serial(n), 60)
    a.expect(PROMPT, 60)
    typed = time.monotonic() - start
    serials, _, out = listed(b)
    check(len(serials) == 600 and serials[0] == serial(600) and serials[-1] == serial(1),
          "member b sees %d serials" % len(serials), b)
    start = time.monotonic()
    wait_crl(a, 600, 1, 60)
    signed = time.monotonic() - start
    size = re.search(r"(\d+) bytes", crl_info(a)[1]).group(1)
    text = openssl_crl(tmp, a, "crl-600.pem")
    check(len(re.findall(r"Serial Number: ", text)) == 600, "openssl counts %d entries" %
          len(re.findall(r"Serial Number: ", text)), a)
    wait_crl(b, 600, 1, 60)
    print("600 revocations typed in %.1f s; the CRL of them (%s bytes) in force %.1f s after the "
          "last" % (typed, size, signed))
    a.close()
    b.close()
    auth.close()
    tok.close()


def authority_crl(tmp, auth, name):
    path = os.path.join(tmp, name)
    rc, out = auth.run("crl", "--out", path, "--pem")
    check(rc == 0, "signet-authority crl:\n" + out)
    with open(path) as f:
        return f.read()


def test_crl_import_from_the_authority(tmp):
    """`crl import`: refusals change nothing; a CRL revoking the SLC stops the appliance from
    serving, an older one does not lift that, and it is kept in the token across a reboot."""
    auth = Authority(tmp)
    other = Authority(tmp, "other-authority")
    tok = Token(tmp)
    con = board(tmp, tok, login=False)
    prepare_appliance(con)
    trust(con, auth)
    enroll_offline(con, auth)
    own = slc_show(con)[0]["serial"].replace(":", "").lower()

    for text, reason in (("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", "not"),
                         # same name, another key
                         (authority_crl(tmp, other, "other.pem"), "bad signature")):
        out = paste(con, "crl import", text)
        check(re.search(r"error: [^\n]*%s[^\n]*; nothing changed" % reason, out),
              "crl import of a bad CRL (%s): %r" % (reason, out), con)
    check("authority CRL: none" in crl_info(con)[1], "a refused CRL is held", con)
    audited(con, r"crl import: refused: bad signature")

    first = authority_crl(tmp, auth, "first.pem")
    out = paste(con, "crl import", first)
    m = re.search(r"the authority's CRL number (\d+) accepted: 0 entries", out)
    check(m and "serving:" not in out, "crl import: %r" % out, con)
    out = paste(con, "crl import", first)
    check("is the one held; nothing changed" in out, "the same CRL again: %r" % out, con)

    rc, out = auth.run("revoke", own, "--reason", "keyCompromise")
    check(rc == 0, "signet-authority revoke:\n" + out)
    out = paste(con, "crl import", authority_crl(tmp, auth, "second.pem"))
    check(re.search(r"accepted: 1 entries", out) and
          re.search(r"serving:   no: the SLC is revoked by the authority \(keyCompromise, "
                    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)", out), "crl import revoking the SLC: %r" %
          out, con)
    audited(con, r"serving stopped: the SLC is revoked by the authority")
    out = paste(con, "crl import", first)
    check(re.search(r"error: older than the CRL held \(number \d+ < \d+\); nothing changed", out),
          "an older CRL: %r" % out, con)
    con.close()
    con = board(tmp, tok)
    info = crl_info(con)[1]
    check(re.search(r"authority CRL: number \d+, .*, 1 entries", info),
          "the authority's CRL is not kept across a reboot:\n" + info, con)
    con.close()
    other.close()
    auth.close()
    tok.close()
