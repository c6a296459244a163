"""Enrollment of a root server on the host board: offline through the console, online against
`signet-authority serve`, renewal, refusals, crash safety, the 503-then-serving behaviour."""
import base64
import json
import os
import re
import signal
import subprocess

from enrollment import (Authority, block, enroll_offline, export_request, openssl_verify, paste,
                        pem_blocks, prepare_appliance, slc_show, trust)
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
    check("Save the block above as root1EnrollmentRequest.xml" in out, out, con)
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
    # A cluster member on the same token shares key, SLC and configuration (DESIGN.md R13).
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
    arc = "2.25.121106065750351852537366942741521112631"
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
    out = con.command("enroll online https://rms.example.test/")
    check(out.startswith("error: the URL must be http[s]://A.B.C.D"), out, con)
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
