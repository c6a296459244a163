"""Interoperability (docs/requirements.md R21, docs/certificates.md): every kind of certificate and
license the hierarchy issues — the authority root, the root's SLC, a licensing server's
sub-enrollment certificate, RACs issued at the root and through the licensing server, a
publishing license, a use license, the CKEK certificates and the TLS certificates — is read and
verified by three X.509 stacks (OpenSSL, GnuTLS's certtool, python3-cryptography) against the
authority root, and carries the profile: notBefore X509_BACKDATE_SECS before it was issued
(never before its issuer's), a CRL distribution point at the issuing cluster's /v1/crl, and a
RAC given out through a licensing server names that server's certificate (signetVia). The CRLs
of the authority, the root and the licensing server verify with openssl and certtool, and
`openssl verify -crl_check_all` accepts every chain with them.

Problems are gathered and reported together, so one run says everything that is missing."""
import hashlib
import http.client
import os
import ssl
import subprocess
import time

from enrollment import Authority
from harness import check
from hsm import Token
from netboard import host_on_network
from rights import (Org, export_certs, licensing_prepare, online, root_server, split_bundle,
                    tls_fingerprint)
from signing import three_stacks_verify

BACKDATE = 300  # X509_BACKDATE_SECS
SLACK = 3  # seconds: our clocks and the appliance's, rounded to whole seconds
ROOT_URL = "https://rms.example.test"  # enrollment.prepare_appliance's default cluster URL
LIC_URL = "https://lic1.example.test"  # rights.licensing_prepare's


class Profile:
    """What every certificate must say, gathered as problems."""

    def __init__(self):
        self.problems = []

    def issued(self, what, facts, t0, t1, issuer_nb=None, crl_url=None):
        nb = facts["not_before"]
        floor = issuer_nb if issuer_nb is not None else float("-inf")
        lo, hi = max(t0 - BACKDATE, floor) - SLACK, max(t1 - BACKDATE, floor) + SLACK
        if nb < floor:
            self.problems.append("%s: notBefore %s is before its issuer's %s" %
                                 (what, stamp(nb), stamp(issuer_nb)))
        elif not lo <= nb <= hi:
            self.problems.append("%s: notBefore %s, want %d s before it was issued (%s), "
                                 "not before the issuer's" % (what, stamp(nb), BACKDATE,
                                                              stamp(t0)))
        want = [crl_url] if crl_url else []
        if facts["crl_urls"] != want:
            self.problems.append("%s: CRL distribution points %r, want %r" %
                                 (what, facts["crl_urls"], want))

    def via(self, what, facts, serial):
        """signetVia: an OCTET STRING of the first 8 octets (the serial prefix) of serial."""
        want = "0408" + serial[:16] if serial else None
        if facts["via"] != want:
            self.problems.append("%s: signetVia %r, want %r" % (what, facts["via"], want))

    def report(self):
        check(not self.problems, "%d problems:\n  " % len(self.problems) +
              "\n  ".join(self.problems))


def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def tls_certificate(port, tmp, name):
    """The appliance's TLS server certificate as it presents it, into a PEM file."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with ctx.wrap_socket(__import__("socket").create_connection(("127.0.0.1", port), 10)) as s:
        der = s.getpeercert(binary_form=True)
    path = os.path.join(tmp, name + "-tls.pem")
    with open(path, "w") as f:
        f.write(ssl.DER_cert_to_PEM_cert(der))
    return path


def get_crl(port, tmp, name):
    """GET /v1/crl on an appliance's plain HTTP port (or the authority's): DER into a file."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", "/v1/crl")
        r = c.getresponse()
        body = r.read()
    finally:
        c.close()
    check(r.status == 200 and r.getheader("Content-Type") == "application/pkix-crl",
          "GET /v1/crl from %s: %d %s %r" % (name, r.status, r.getheader("Content-Type"),
                                              body[:200]))
    der, pem = os.path.join(tmp, name + ".crl.der"), os.path.join(tmp, name + ".crl.pem")
    with open(der, "wb") as f:
        f.write(body)
    subprocess.run(["openssl", "crl", "-inform", "DER", "-in", der, "-out", pem], check=True,
                   capture_output=True)
    return pem


def crl_verifies(crl, issuer_pem, issuer_chain, anchor, problems, what):
    """The CRL's signature with its issuer's certificate, by openssl, certtool and
    python3-cryptography."""
    res = subprocess.run(["openssl", "crl", "-in", crl, "-noout", "-CAfile", issuer_chain,
                          "-verify"], capture_output=True, text=True, timeout=30)
    if res.returncode != 0 or "verify OK" not in res.stdout + res.stderr:
        problems.append("%s: openssl crl -verify: %s%s" % (what, res.stdout, res.stderr))
    res = subprocess.run(["certtool", "--verify-crl", "--load-ca-certificate", issuer_pem,
                          "--infile", crl], capture_output=True, text=True, timeout=30)
    if res.returncode != 0 or "Verified" not in res.stdout:
        problems.append("%s: certtool --verify-crl: %s%s" % (what, res.stdout[-1500:],
                                                             res.stderr[-500:]))
    code = ("import sys\nfrom cryptography import x509\n"
            "crl = x509.load_pem_x509_crl(open(sys.argv[1], 'rb').read())\n"
            "ca = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read())\n"
            "assert crl.issuer == ca.subject, 'issuer'\n"
            "assert crl.is_signature_valid(ca.public_key()), 'bad signature'\n"
            "[e.value for e in crl.extensions]\n")
    res = subprocess.run(["/usr/bin/python3", "-c", code, crl, issuer_pem], capture_output=True,
                         text=True, timeout=30)
    if res.returncode != 0:
        problems.append("%s: python3-cryptography: %s" % (what, res.stderr[-1000:]))


def crl_check_all(anchor, pems, crls, problems, what):
    """openssl verify -crl_check_all of one chain with every CRL of the hierarchy."""
    bundle = pems[0] + ".crlbundle"
    with open(bundle, "w") as f:
        for p in pems[1:]:
            f.write(open(p).read())
    argv = ["openssl", "verify", "-crl_check_all", "-CAfile", anchor]
    for c in crls:
        argv += ["-CRLfile", c]
    if len(pems) > 1:
        argv += ["-untrusted", bundle]
    res = subprocess.run(argv + [pems[0]], capture_output=True, text=True, timeout=30)
    if res.returncode != 0 or not res.stdout.strip().endswith("OK"):
        problems.append("%s: openssl verify -crl_check_all: %s%s" % (what, res.stdout,
                                                                    res.stderr))


def test_every_certificate_kind_verifies_in_three_stacks(tmp):
    prof = Profile()
    anchor_t0 = time.time()
    auth = Authority(tmp)
    anchor_t1 = time.time()
    port = auth.serve(crl_url=True)
    anchor = auth.root_pem
    [root_facts] = three_stacks_verify(anchor, [anchor])
    prof.issued("authority root", root_facts, anchor_t0, anchor_t1)

    # The root, enrolled online with the authority.
    t0 = time.time()
    root_tok, root = root_server(tmp, auth, port)
    t1 = time.time()
    root_slc = export_certs(root.con, "slc export", tmp, "root-slc")
    facts = three_stacks_verify(anchor, root_slc, root.con)
    prof.issued("root SLC", facts[0], t0, t1, root_facts["not_before"],
                "http://10.0.2.2:%d/v1/crl" % port)
    root_slc_facts = facts[0]

    # A licensing server, sub-enrolled to the root.
    lic_tok = Token(os.path.join(tmp, "lic1"))
    lic = host_on_network(tmp, lic_tok, nv="lic.img")
    licensing_prepare(lic.con, auth)
    out = root.con.command("acl grant %s lic1" % tls_fingerprint(lic.con))
    check("granted sub-enrollment to lic1" in out, "acl grant: %r" % out, root.con)
    t0 = time.time()
    out = online(lic.con, "https://10.0.2.2:%d" % root.https_port)
    t1 = time.time()
    check("SLC installed for 'lic1'" in out, "sub-enrollment: %r" % out, lic.con)
    lic_slc = export_certs(lic.con, "slc export", tmp, "lic-slc")
    check(len(lic_slc) == 3, "licensing chain of %d certificates" % len(lic_slc), lic.con)
    facts = three_stacks_verify(anchor, lic_slc, lic.con)
    prof.issued("licensing server's sub-enrollment certificate", facts[0], t0, t1,
                root_slc_facts["not_before"], ROOT_URL + "/v1/crl")
    lic_facts = facts[0]

    # The CKEK certificates (made at login, after enrollment they are issued by the SLC).
    for name, con, chain, url in (("root", root.con, root_slc, ROOT_URL),
                                  ("licensing server", lic.con, lic_slc, LIC_URL)):
        ckek = export_certs(con, "ckek export", tmp, name.split()[0] + "-ckek")
        facts = three_stacks_verify(anchor, ckek[:1] + chain, con)
        issuer_nb = three_stacks_verify(anchor, chain, con)[0]["not_before"]
        # When it was made is the console's business; its issuer's notBefore bounds it.
        if facts[0]["not_before"] < issuer_nb:
            prof.problems.append("%s CKEK: notBefore before its issuer's" % name)
        if facts[0]["crl_urls"] != [url + "/v1/crl"]:
            prof.problems.append("%s CKEK: CRL distribution points %r, want %r" %
                                 (name, facts[0]["crl_urls"], [url + "/v1/crl"]))

    # Users: bob certified at the root, alice through the licensing server (the root issues
    # her RAC, naming the licensing server's serial prefix); alice publishes for bob at the
    # licensing server, bob gets his use license there.
    org = Org(tmp, root.con, lic.con)
    pins = {lic.https_port: tls_fingerprint(lic.con), root.https_port: tls_fingerprint(root.con)}
    alice = org.client("alice@contoso.example", pins)
    bob = org.client("bob@contoso.example", pins)
    for user, at, via, what in ((bob, root.https_port, None, "RAC from the root"),
                                (alice, lic.https_port, lic_facts["serial"],
                                 "RAC through the licensing server")):
        user.keygen()
        t0 = time.time()
        rc, out = user.certify(at)
        t1 = time.time()
        check(rc == 0, "certify %s: %s" % (user.user, out), root.con)
        rac = split_bundle(user.rac, tmp, "rac-" + user.user.split("@")[0])
        facts = three_stacks_verify(anchor, rac, root.con)
        prof.issued(what, facts[0], t0, t1, root_slc_facts["not_before"], ROOT_URL + "/v1/crl")
        prof.via(what, facts[0], via)
    doc = os.path.join(alice.dir, "plan.txt")
    with open(doc, "w") as f:
        f.write("Q3 plan\n")
    t0 = time.time()
    rc, out = alice.protect(lic.https_port, doc, "bob@contoso.example:view")
    t1 = time.time()
    check(rc == 0, "protect: " + out, lic.con)
    pl = split_bundle(doc + ".signet.pl", tmp, "pl")
    facts = three_stacks_verify(anchor, pl, lic.con)
    prof.issued("publishing license", facts[0], t0, t1, lic_facts["not_before"],
                LIC_URL + "/v1/crl")
    ul = os.path.join(bob.dir, "bob.ul")
    t0 = time.time()
    rc, out = bob.run("license", *bob.url_args(lic.https_port), "--rac", bob.rac, "--pl",
                      doc + ".signet.pl", "--ul", ul)
    t1 = time.time()
    check(rc == 0, "license: " + out, lic.con)
    ul_certs = split_bundle(ul, tmp, "ul")
    facts = three_stacks_verify(anchor, ul_certs, lic.con)
    prof.issued("use license", facts[0], t0, t1, lic_facts["not_before"], LIC_URL + "/v1/crl")

    # The TLS certificates: self-signed (their fingerprint is what is trusted), backdated too.
    for name, board in (("root", root), ("licensing server", lic)):
        pem = tls_certificate(board.https_port, tmp, name.split()[0])
        [facts] = three_stacks_verify(pem, [pem], board.con, end_entity=True)
        der = ssl.PEM_cert_to_DER_cert(open(pem).read())
        fp = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
        if fp != tls_fingerprint(board.con):
            prof.problems.append("%s TLS certificate: fingerprint %s is not `tls fingerprint`" %
                                 (name, fp))
        # Made at the first login: before now, backdated from then; no CDP (nobody revokes it).
        if not facts["not_before"] <= time.time() - BACKDATE + SLACK:
            prof.problems.append("%s TLS certificate: notBefore %s is not %d s before it was "
                                 "made" % (name, stamp(facts["not_before"]), BACKDATE))

    # The CRLs: the authority's (of SLCs), the root's (of licensing servers and its RACs),
    # the licensing server's (of its licenses); each chain checked with all of them.
    crls = [get_crl(port, tmp, "authority"), get_crl(root.http_port, tmp, "root"),
            get_crl(lic.http_port, tmp, "lic")]
    for crl, issuer, chain, what in ((crls[0], anchor, anchor, "authority CRL"),
                                     (crls[1], root_slc[0], root_slc, "root CRL"),
                                     (crls[2], lic_slc[0], lic_slc, "licensing server CRL")):
        if isinstance(chain, list):
            both = issuer + ".issuer-chain"
            with open(both, "w") as f:
                for p in chain:
                    f.write(open(p).read())
            chain = both
        crl_verifies(crl, issuer, chain, anchor, prof.problems, what)
    for pems, what in ((root_slc, "root SLC"), (lic_slc, "licensing chain"),
                       (split_bundle(alice.rac, tmp, "rac-a"), "alice's RAC"),
                       (pl, "publishing license"), (ul_certs, "use license")):
        crl_check_all(anchor, pems, crls, prof.problems, what)

    prof.report()
    lic.con.close()
    root.con.close()
    auth.close()
    lic_tok.close()
    root_tok.close()


def crl_has(pem, serial):
    res = subprocess.run(["openssl", "crl", "-in", pem, "-noout", "-text"], capture_output=True,
                         text=True, timeout=30)
    return ("Serial Number: " + serial.upper()) in res.stdout


def fresh_crl(port, tmp, name, serial, timeout=20):
    """The appliance's CRL once it lists serial (re-signing is coalesced, at most once a
    second)."""
    deadline = time.monotonic() + timeout
    while True:
        pem = get_crl(port, tmp, name)
        if crl_has(pem, serial):
            return pem
        check(time.monotonic() < deadline, "%s's CRL does not list %s" % (name, serial))
        time.sleep(0.5)


def test_client_refuses_revoked_certificates_and_a_clock_behind_accepts_a_fresh_rac(tmp):
    auth = Authority(tmp)
    port = auth.serve(crl_url=True)
    anchor = auth.root_pem
    root_tok, root = root_server(tmp, auth, port)
    root_slc = export_certs(root.con, "slc export", tmp, "root-slc")
    lic_tok = Token(os.path.join(tmp, "lic1"))
    lic = host_on_network(tmp, lic_tok, nv="lic.img")
    licensing_prepare(lic.con, auth)
    root.con.command("acl grant %s lic1" % tls_fingerprint(lic.con))
    out = online(lic.con, "https://10.0.2.2:%d" % root.https_port)
    check("SLC installed for 'lic1'" in out, "sub-enrollment: %r" % out, lic.con)
    lic_slc = export_certs(lic.con, "slc export", tmp, "lic-slc")
    lic_serial = three_stacks_verify(anchor, lic_slc, lic.con)[0]["serial"]
    org = Org(tmp, root.con, lic.con)
    pins = {lic.https_port: tls_fingerprint(lic.con), root.https_port: tls_fingerprint(root.con)}
    alice = org.client("alice@contoso.example", pins)
    bob = org.client("bob@contoso.example", pins)
    for user, at in ((alice, lic.https_port), (bob, root.https_port)):
        user.keygen()
        t_certified = time.time()
        rc, out = user.certify(at)
        check(rc == 0, "certify %s: %s" % (user.user, out), root.con)
    doc = os.path.join(alice.dir, "plan.txt")
    with open(doc, "w") as f:
        f.write("Q3 plan\n")
    rc, out = alice.protect(lic.https_port, doc, "bob@contoso.example:view")
    check(rc == 0, "protect: " + out, lic.con)
    pl = doc + ".signet.pl"
    crls = [get_crl(port, tmp, "authority"), get_crl(root.http_port, tmp, "root"),
            get_crl(lic.http_port, tmp, "lic")]

    def with_crls(crl_files):
        return ["--anchor", anchor] + [a for c in crl_files for a in ("--crl", c)]

    def license_for(user, crl_files, ul):
        return user.run("license", *user.url_args(lic.https_port), "--rac", user.rac, "--pl", pl,
                        "--ul", ul, *with_crls(crl_files))

    # Nothing revoked: the license is checked, chain and RAC, against all three CRLs.
    ul = os.path.join(bob.dir, "bob.ul")
    rc, out = license_for(bob, crls, ul)
    check(rc == 0 and os.path.exists(ul), "license with CRLs: " + out, lic.con)
    # Fail closed: without --crl the CDPs (the clusters' made-up URLs) cannot be reached.
    rc, out = bob.run("show", "--anchor", anchor, bob.rac)
    check(rc != 0 and "cannot check revocation: https://rms.example.test/v1/crl" in out,
          "show without a reachable CDP: " + out)
    # An out-of-date CRL is no CRL: past its nextUpdate (crl-hours, a day by default).
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 40 * 86400))
    rc, out = bob.run("show", *with_crls(crls), "--now", later, bob.rac)
    check(rc != 0 and "is out of date" in out, "show with an expired CRL: " + out)

    # The client's clock 4 minutes behind still accepts the fresh RAC (notBefore is backdated
    # 5 minutes) — by signet-client, openssl and python3-cryptography; 6 minutes behind does
    # not (so the check can fail).
    rac = split_bundle(bob.rac, tmp, "rac-bob")
    for behind, ok in ((240, True), (360, False)):
        at = t_certified - behind
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
        rc, out = bob.run("show", *with_crls(crls), "--now", when, bob.rac)
        check((rc == 0) == ok and (not ok or "verified:" in out),
              "show at %d s behind: %s" % (behind, out))
        res = subprocess.run(["openssl", "verify", "-attime", str(int(at)), "-CAfile", anchor,
                              "-untrusted", bob.rac, rac[0]], capture_output=True, text=True)
        check((res.returncode == 0) == ok, "openssl -attime %d s behind: %s%s" %
              (behind, res.stdout, res.stderr))
        if ok:
            three_stacks_verify(anchor, rac, at=at)

    # The root revokes bob's RAC: his client refuses it, and writes nothing.
    bob_serial = three_stacks_verify(anchor, rac)[0]["serial"]
    out = root.con.command("revoke %s keyCompromise" % bob_serial)
    check("revoked %s" % bob_serial in out, "revoke: %r" % out, root.con)
    crls[1] = fresh_crl(root.http_port, tmp, "root", bob_serial)
    ul2 = os.path.join(bob.dir, "bob2.ul")
    rc, out = license_for(bob, crls, ul2)
    check(rc != 0 and "revoked: bob@contoso.example" in out and "keyCompromise" in out and
          not os.path.exists(ul2), "license with a revoked RAC: " + out, lic.con)
    rc, out = bob.run("show", *with_crls(crls), bob.rac)
    check(rc != 0 and "revoked: bob@contoso.example" in out, "show of a revoked RAC: " + out)
    # Alice is fine until the root revokes the licensing server she was certified through:
    # her RAC names it (signetVia), and the publishing license's chain holds it.
    rc, out = alice.run("show", *with_crls(crls), alice.rac)
    check(rc == 0, "show of alice's RAC: " + out)
    out = root.con.command("revoke %s cessationOfOperation" % lic_serial)
    check("revoked %s" % lic_serial in out, "revoke the licensing server: %r" % out, root.con)
    crls[1] = fresh_crl(root.http_port, tmp, "root", lic_serial)
    rc, out = alice.run("show", *with_crls(crls), alice.rac)
    check(rc != 0 and "through the licensing server %s, which is revoked" % lic_serial in out,
          "show of a RAC given out by a revoked licensing server: " + out)
    rc, out = alice.run("show", *with_crls(crls), pl)
    check(rc != 0 and "revoked: lic1" in out and "cessationOfOperation" in out,
          "show of a PL under a revoked licensing server: " + out)
    # An excluded user (ARC.8 in the root's CRL): the RAC the root gave carol is refused.
    carol = org.client("carol@contoso.example", pins)
    carol.keygen()
    rc, out = carol.certify(root.https_port)
    check(rc == 0, "certify carol: " + out, root.con)
    out = root.con.command("revoke user carol@contoso.example")
    check("excluded carol@contoso.example" in out, "revoke user: %r" % out, root.con)
    deadline = time.monotonic() + 20
    while True:
        crls[1] = get_crl(root.http_port, tmp, "root")
        rc, out = carol.run("show", *with_crls(crls), carol.rac)
        if rc != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    check(rc != 0 and "revoked: carol@contoso.example is excluded" in out,
          "show of an excluded user's RAC: " + out)
    # A CRL not signed by the issuer it claims is no CRL of it: the licensing server's CRL in
    # the root's place leaves the root's certificates without one (their CDP unreachable).
    rc, out = alice.run("show", *with_crls([crls[0], crls[2]]), alice.rac)
    check(rc != 0 and "cannot check revocation" in out, "show with the wrong CRL: " + out)

    lic.con.close()
    root.con.close()
    auth.close()
    lic_tok.close()
    root_tok.close()
