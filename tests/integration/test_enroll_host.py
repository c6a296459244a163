"""Enrollment of a root server on the host board: offline through the console, online against
`signet-authority serve`, renewal, refusals, crash safety, the 503-then-serving behaviour."""
import base64
import json
import os
import re
import signal
import subprocess
import time

from enrollment import (Authority, block, enroll_offline, enrolled_root, export_request,
                        openssl_verify, paste, pem_blocks, prepare_appliance, slc_show, trust)
from harness import PROMPT, check
from hsm import Token, console_login
from netboard import host_on_network, https_get

RESPONSE = "SIGNET ENROLLMENT RESPONSE"


def state(con):
    m = re.search(r"^enrollment: (.*)$", con.command("status"), re.M)
    return m.group(1) if m else None


def test_offline_enrollment_states_and_503_then_serving(tmp):
    auth = Authority(tmp)
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    con = nb.con
    check(state(con).startswith("unknown"), "state before login", con)
    console_login(con)
    check(state(con) == "unprovisioned", "state with no key: %r" % state(con), con)
    prepare_appliance(con)
    check(state(con) == "key generated", "state after key generate", con)
    trust(con, auth)
    req, out = export_request(con)
    # Armored text, named as such, and how the authority answers it.
    check("Save the block above as root1EnrollmentRequest.txt" in out and
          "signet-authority issue --in root1EnrollmentRequest.txt" in out and
          ".xml" not in out, out, con)
    check(state(con) == "request exported", "state after export", con)
    # Not enrolled: every service says so (and HTTPS itself works).
    code, body = https_get(nb.https_port)
    check((code, body) == (503, "not ready: not enrolled\n"), "%d %r" % (code, body), con)
    st = json.loads(https_get(nb.https_port, "/v1/status")[1])
    check(st["enrollment"] == "request exported" and not st["serving"], "status: %r" % st, con)
    rc, resp = auth.issue(req)
    check(rc == 0 and block(resp, RESPONSE), "issue: %s" % resp, con)
    out = paste(con, "enroll import", resp)
    check("enroll import: SLC installed for 'root1'" in out, "import: %r" % out, con)
    # Serving the moment the SLC is in: no reboot, no reset.
    code, body = https_get(nb.https_port)
    check((code, body) == (200, "ok\n"), "after import: %d %r" % (code, body), con)
    check(state(con) == "enrolled", "state after import", con)
    fields, out = slc_show(con)
    check(fields.get("subject") == "CN=root1" and
          ("364 days left" in out or "365 days left" in out), "slc show: %r" % out, con)
    openssl_verify(tmp, con, auth)
    audit = con.command("audit show")
    for what in ("login", "key generate", "trust import", "enroll export", "enroll import: SLC "
                 "installed"):
        check(what in audit, "audit log lacks %r:\n%s" % (what, audit), con)
    # A cluster member on the same token shares key, SLC and configuration (R13).
    member = host_on_network(tmp, tok, nv="member.img")
    console_login(member.con)
    check(state(member.con) == "enrolled", "the cluster member is not enrolled", member.con)
    check(https_get(member.https_port) == (200, "ok\n"), "the member does not serve", member.con)
    member.con.close()
    # A reboot keeps it: the SLC lives in the token.
    con.send("reboot\n")
    con.expect("boot #2", 30)
    con.expect(PROMPT, 30)
    console_login(con)
    check(state(con) == "enrolled", "state after reboot", con)
    auth.close()
    tok.close()


def test_online_enrollment_and_renewal(tmp):
    auth = Authority(tmp)
    port = auth.serve("--days", "20")
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    con = nb.con
    prepare_appliance(con, alg="p256")
    trust(con, auth)
    # Custom revocation: a third party's public key goes into the request and the SLC.
    revoker = os.path.join(tmp, "revoker.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", revoker], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "pkey", "-in", revoker, "-pubout"], check=True,
                         capture_output=True, text=True).stdout
    out = paste(con, "config revocation custom", pub)
    check("revocation: custom" in out, "config revocation custom: %r" % out, con)
    check("revocation:  custom" in con.command("config show"), "config show", con)
    url = "http://10.0.2.2:%d" % port  # the user network's view of the host's loopback
    out = con.command("enroll online " + url, 60)
    check("enroll online: SLC installed for 'root1'" in out, "enroll online: %r" % out, con)
    check("days left" in out, out, con)
    slc_pem = pem_blocks(con.command("slc export"))[0]
    text = subprocess.run(["openssl", "x509", "-noout", "-text"], input=slc_pem,
                          capture_output=True, text=True).stdout
    slc_der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=slc_pem.encode(),
                             check=True, capture_output=True).stdout
    revoker_der = subprocess.run(["openssl", "pkey", "-in", revoker, "-pubout", "-outform", "DER"],
                                 check=True, capture_output=True).stdout
    arc = "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703"
    check(arc + ".4" in text and revoker_der in slc_der,
          "the SLC does not carry the revoker's key (signetRevocation):\n" + text, con)
    st = con.command("status")
    check("warning:   the SLC expires soon; renew it" in st, "no expiry warning: %r" % st, con)
    check("expires in" in con.command("audit show"), "no expiry warning in the audit log", con)
    old, _ = slc_show(con)
    auth.stop_server()
    port = auth.serve()  # renewals get the default 365 days
    out = con.command("renew online http://10.0.2.2:%d" % port, 60)
    check("renew online: SLC renewed for 'root1'" in out, "renew online: %r" % out, con)
    new, out = slc_show(con)
    check(new["serial"] != old["serial"] and new["notAfter"] != old["notAfter"] and
          ("364 days left" in out or "365 days left" in out), "after renewal: %r" % out, con)
    st = con.command("status")
    check("warning:" not in st and ("364 days left" in st or "365 days left" in st),
          "status after renewal: %r" % st, con)
    # The authority's refusal and an unreachable authority are reported, nothing changes.
    out = con.command("enroll online http://10.0.2.2:1", 60)
    check(out.startswith("sent the") and "error: " in out, "unreachable: %r" % out, con)
    check(slc_show(con)[0]["serial"] == new["serial"], "a failed request changed the SLC", con)
    out = con.command("enroll online https://rms_example.test/")
    check(out.startswith("error: the URL must be http[s]://HOST[:PORT][/PATH]"), out, con)
    auth.close()
    tok.close()


def tamper_response(resp):
    """Flip one bit inside the SLC's signature, keeping the document well formed."""
    b64 = "".join(resp.strip().split("\n")[1:-1])
    doc = base64.b64decode(b64).decode()
    m = re.search(r"<ServerLicensorCertificate>(.*?)</ServerLicensorCertificate>", doc, re.S)
    der = bytearray(base64.b64decode("".join(m.group(1).split())))
    der[-10] ^= 0x01
    doc = doc[:m.start(1)] + base64.b64encode(bytes(der)).decode() + doc[m.end(1):]
    return armor(doc.encode(), RESPONSE)


def armor(data, label):
    b64 = base64.b64encode(data).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<SignetResponse version="1"><ServerLicensorCertificate>&lol3;</ServerLicensorCertificate>
</SignetResponse>"""


def test_rejected_imports_change_nothing(tmp):
    auth = Authority(tmp)
    other_auth = Authority(tmp, "other-authority")
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    con = nb.con
    prepare_appliance(con)
    trust(con, auth)
    req, _ = export_request(con)
    rc, good = auth.issue(req)
    check(rc == 0, good, con)
    # A response for another appliance's key: made from a second board's request.
    tok2 = Token(os.path.join(tmp, "second"))
    nb2 = host_on_network(os.path.join(tmp, "second"), tok2)
    prepare_appliance(nb2.con, name="root2")
    trust(nb2.con, auth)
    req2, _ = export_request(nb2.con)
    rc, foreign = auth.issue(req2)
    check(rc == 0, foreign, con)
    rc, untrusted = other_auth.issue(req)
    check(rc == 0, untrusted, con)
    b64_lines = good.strip().split("\n")
    truncated = "\n".join(b64_lines[:-3] + [b64_lines[-3][:30], b64_lines[-1]]) + "\n"
    huge = "-----BEGIN %s-----\n%s-----END %s-----\n" % (RESPONSE, ("A" * 64 + "\n") * 17000,
                                                        RESPONSE)
    cases = [
        ("a response for another key", foreign, "another key"),
        ("a tampered signature", tamper_response(good), "trusted"),
        ("a chain to an untrusted root", untrusted, "trusted"),
        ("truncated base64", truncated, ""),
        ("XML with a DTD/entity bomb", armor(BOMB, RESPONSE), ""),
        ("a 1 MB paste", huge, "too large"),
    ]
    for what, text, why in cases:
        out = paste(con, "enroll import", text, 120)
        errors = [ln for ln in out.splitlines() if ln.startswith("error: ")]
        check(len(errors) == 1 and why in errors[0] and "nothing changed" in errors[0],
              "%s: %r" % (what, out[-300:]), con)
        check(state(con) == "request exported", "%s changed the state" % what, con)
    check(con.command("slc show").count("none installed") == 1, "an SLC got in", con)
    # Expired: the appliance's clock two years on.
    con.command("time set 2029-01-01T00:00:00Z")
    out = paste(con, "enroll import", good)
    check("error: expired; nothing changed" in out, "expired: %r" % out, con)
    audit = con.command("audit show 30")
    # Identical refusals in a row are one entry and a count (firmware/audit).
    refusals = audit.count("enroll import: refused") + sum(
        int(n) for n in re.findall(r"enroll import: refused[^\n]*\n[^\n]*the entry above "
                                   r"repeated (\d+) more time", audit))
    check(refusals == 7, "refusals not audited:\n" + audit, con)
    nb2.con.close()
    tok2.close()
    auth.close()
    other_auth.close()
    tok.close()


def test_import_cut_off_at_every_step_leaves_old_or_new(tmp):
    """A power cut at each step of installing a renewed SLC: after it, one whole SLC is in force."""
    auth = Authority(tmp)
    tok = Token(tmp)
    nv = "nv.img"
    nb = host_on_network(tmp, tok, nv=nv)
    con = nb.con
    prepare_appliance(con)
    trust(con, auth)
    enroll_offline(con, auth, "--days", "100")
    old = slc_show(con)[0]["serial"]
    req, _ = export_request(con, renewal=True)
    rc, renewed = auth.issue(req)
    check(rc == 0, renewed, con)
    # Cut before the retirement: the old SLC stays; after it: the new one is in force.
    steps = [("replace: staged leftovers gone", "old"), ("replace: new object staged", "old"),
             ("replace: old object retired", "new"), ("replace: new object in force", "new")]
    seen = set()
    for step, expect in steps:
        con.command("test pause-steps 3000")
        con.send("renew import\n")
        con.expect("Paste the")
        con.send(renewed)
        con.expect("test: " + re.escape(step), 60)
        con.signal(signal.SIGKILL)  # the power cut
        con.close()
        nb = host_on_network(tmp, tok, nv=nv)
        con = nb.con
        console_login(con)
        fields, out = slc_show(con)
        check("none installed" not in out and fields.get("subject") == "CN=root1",
              "after a cut at %r no SLC is in force:\n%s" % (step, out), con)
        check((fields["serial"] == old) == (expect == "old"),
              "after a cut at %r the %s SLC should be in force:\n%s" % (step, expect, out), con)
        seen.add(fields["serial"])
        check(state(con) in ("enrolled", "renewal pending"), "state after the cut", con)
        openssl_verify(tmp, con, auth)
    check(old in seen and len(seen) == 2, "expected both old and new across the cuts: %r" % seen,
          con)
    auth.close()
    tok.close()


def snapshot(con, tok):
    """What a refusal must leave alone: configuration, SLC, enrollment state, token objects."""
    objects = []
    for label in ("signet-config", "signet-slc", "signet-trust"):
        path = os.path.join(tok.dir, "object.bin")
        if os.path.exists(path):
            os.unlink(path)
        rc, out = tok.pkcs11_tool("--read-object", "--type", "data", "--label", label,
                                  "--output-file", path)
        if rc != 0 or not os.path.exists(path):
            objects.append((label, None))  # not there (yet)
            continue
        with open(path, "rb") as f:
            objects.append((label, f.read()))
    # Days left count down while the test runs (a fresh SLC turns from 365 to 364 a second
    # after it was issued): not a change of state.
    slc = re.sub(r"\(-?\d+ days left\)", "(N days left)", con.command("slc show"))
    return (con.command("config show"), slc, state(con), objects)


def answer_question(con, command, text, answer, question="type yes:"):
    """A command that asks for a paste (text, or None: none) and then a yes; give answer."""
    con.send(command + "\n")
    if text is not None:
        con.expect("Paste the .*Ctrl-C cancels.\n")
        con.send(text)
    con.expect(question + "\n", 60)
    start = con.pos
    con.send(answer + "\n")
    end = con.expect(PROMPT, 60).start()
    out = con.output_since(start)[:end - start]
    return out[len(answer) + 1:] if out.startswith(answer + "\n") else out  # the echo


def test_every_refusal_changes_nothing_and_is_audited(tmp):
    auth = Authority(tmp)
    other_auth = Authority(tmp, "other-authority")
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    con = nb.con
    # Before login the audit log is not readable.
    check(con.command("audit show") == "error: 'audit show' needs login first\n",
          "audit show without login", con)
    prepare_appliance(con)
    out = paste(con, "trust import", auth.root_text())
    fp = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
                        input=auth.root_text(), capture_output=True, text=True,
                        check=True).stdout.strip()
    check(fp.split("=", 1)[1] in out, "trust import shows no fingerprint (%s): %r" % (fp, out),
          con)
    check(fp.split("=", 1)[1] in con.command("audit show"), "fingerprint not audited", con)
    # Before enrollment: a renewal with nothing to renew, a response for nobody's request.
    fresh = snapshot(con, tok)
    check(fresh[3][0][1] is not None, "no signet-config object to compare", con)
    out = con.command("renew export", 60)
    check(out.startswith("error: nothing to renew") and "nothing changed" in out, out, con)
    check(snapshot(con, tok) == fresh, "renew export's refusal changed the state", con)
    out = paste(con, "renew import", armor(b"<SignetResponse/>", RESPONSE))
    check("error: " in out and "nothing changed" in out, "renew import: %r" % out, con)
    check(snapshot(con, tok) == fresh, "renew import's refusal changed the state", con)
    audit = con.command("audit show 3")
    check("renew export: refused" in audit and "renew import: refused" in audit, audit, con)
    resp_old = enroll_offline(con, auth, "--days", "730")
    time.sleep(1.1)  # the renewal's notBefore is a later second
    before = snapshot(con, tok)
    url = "https://ca_example.com/"  # not a host name: refused before anything is sent
    refusals = [
        ("renew online " + url, "renew online: refused"),
        ("enroll online " + url, "enroll online: refused"),
        ("config name " + "n" * 65, "config name: refused"),
        ("config cluster-url ftp://x", "config cluster-url: refused"),
        ("config revocation none", "config revocation: refused"),
        ("config role licensing", "config role licensing: refused"),
        ("config root-url https://10.0.0.1", "config root-url: refused"),
        ("acl revoke " + "AB" * 32, "acl revoke: refused"),
    ]
    for command, audited in refusals:
        out = con.command(command, 60)
        check(out.startswith("error: ") and out.count("\n") == 1 and "nothing changed" in out,
              "%s: %r" % (command, out), con)
        check(snapshot(con, tok) == before, "%s changed the state" % command, con)
        check(audited in con.command("audit show 5"), "%s: not audited" % command, con)
    # The reason is audited whole.
    check("the URL must be http[s]://HOST[:PORT][/PATH] (HOST an IPv4 address or a host name)"
          in con.command("audit show 30"), "renew online's reason is cut", con)
    # A reboot: no "renewal pending" appeared in the token.
    con.send("reboot\n")
    con.expect("boot #2", 30)
    con.expect(PROMPT, 30)
    console_login(con)
    check(snapshot(con, tok) == before, "state after reboot", con)
    out = paste(con, "trust import", other_auth.root_text())
    check("error: " in out and "nothing changed" in out, "another root: %r" % out, con)
    check(snapshot(con, tok) == before, "another authority's root changed the state", con)
    # Renaming a server whose SLC names another: asked; anything but yes changes nothing.
    out = answer_question(con, "config name root2", None, "y")
    check(out.strip() == "nothing changed", "rename not confirmed: %r" % out, con)
    check(snapshot(con, tok) == before, "an unconfirmed rename changed the state", con)
    check("config name root2: not confirmed" in con.command("audit show 3"), "audit", con)
    # Renewal with another lifetime: said, with old and new validity.
    req, _ = export_request(con, renewal=True)
    check(state(con) == "renewal pending", "after renew export: %r" % state(con), con)
    rc, resp_new = auth.issue(req)
    check(rc == 0, resp_new, con)
    out = paste(con, "renew import", resp_new)
    check("renew import: SLC renewed for 'root1'" in out and
          re.search(r"note: the new SLC is valid for 365 days, until \S+; the one it replaced "
                    r"was valid for 730 days, until ", out), "lifetime change: %r" % out, con)
    renewed = snapshot(con, tok)
    new_serial = slc_show(con)[0]["serial"]
    # The older response pasted again: asked, refused unless confirmed.
    out = answer_question(con, "renew import", resp_old, "no")
    check(out.strip() == "nothing changed", "rollback not confirmed: %r" % out, con)
    check(snapshot(con, tok) == renewed, "an unconfirmed rollback changed the state", con)
    audit = con.command("audit show 5")
    check("renew import: an older SLC, not confirmed" in audit, "audit: %r" % audit, con)
    out = answer_question(con, "enroll import", resp_old, "yes")
    check("SLC renewed for 'root1'" in out, "confirmed rollback: %r" % out, con)
    check(slc_show(con)[0]["serial"] != new_serial, "the rollback did not happen", con)
    check("an older SLC, confirmed" in con.command("audit show 5"), "rollback not audited", con)
    # Confirmed rename.
    out = answer_question(con, "config name root2", None, "yes")
    check("server name: root2" in out and "renewal" in out, "rename: %r" % out, con)
    check("name:        root2" in con.command("config show"), "rename not stored", con)
    # time set is audited with the time it replaced.
    con.command("time set 2027-01-01T00:00:00Z")
    check(re.search(r"time set 2027-01-01T00:00:00Z \(was 20\d\d-", con.command("audit show 2")),
          "time set not audited", con)
    other_auth.close()
    auth.close()
    tok.close()


def test_status_after_a_link_loss_during_import_reads_the_state_again(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    req, _ = export_request(con, renewal=True)
    rc, renewed = auth.issue(req)
    check(rc == 0, renewed, con)
    con.command("test pause-steps 1000")
    con.send("renew import\n")
    con.expect("Paste the")
    con.send(renewed)
    con.expect("test: replace: new object staged", 60)
    tok.stop()  # the link is lost in the middle of the import
    con.expect(PROMPT, 60)
    out = con.command("status", 60)
    line = re.search(r"^enrollment: (.*)$", out, re.M).group(1)
    # Status never waits for the token: it says what it knows and has the state read again.
    check("log in" not in line and ("unreachable" in line or "reading it" in line or
                                    line in ("enrolled", "renewal pending")),
          "status while logged in, the token gone: %r" % line, con)
    tok.start()
    # The first status after the restart reads the whole state through a fresh server, which
    # on a loaded machine may answer slowly (each call bounded by the link time-out): allow for
    # that, and say how long it took.
    started = time.monotonic()
    deadline = started + 90
    st = None
    while time.monotonic() < deadline:
        st = re.search(r"^enrollment: (.*)$", con.command("status", 60), re.M).group(1)
        if st in ("enrolled", "renewal pending"):
            break
        time.sleep(1)
    check(st in ("enrolled", "renewal pending"), "the state is not read again after %.1f s: %r" %
          (time.monotonic() - started, st), con)
    auth.close()
    tok.close()
