"""The cluster's CRL over the network on the host board (docs/protocol.md "GET /v1/crl",
docs/network.md "CRLs from above"): served as DER on plain HTTP port 80 and on 443, the same
bytes, from a 503 "no CRL yet" before one is signed to one larger than a connection's output
buffer; openssl verifies it with the SLC and, with `openssl verify -crl_check`, finds a licensing
server's certificate good and then revoked. A licensing server fetches its root's CRL after
sub-enrollment and on `crl fetch` (a root its authority's after `enroll online`); a tampered, an older, a refused or an oversized CRL is not
taken and the one held stays in force; once the root revokes the licensing server itself it stops
serving and /health says why."""
import http.client
import os
import re
import subprocess
import time

from enrollment import Authority, enroll_offline, pem_blocks, prepare_appliance, trust
from harness import check
from hsm import Token
from netboard import host_on_network, http_get, https_context, wait_health
from rights import HOST, licensing_prepare, root_server, tls_fingerprint
from upstream import Upstream

SERIAL = "4%031x"  # serials of this hierarchy: 16 bytes, the first 0x40..0x7f


def fetch(port, tls=False, path="/v1/crl", conn=None):
    """(status, content type, body bytes) of one GET; conn: reuse a keep-alive connection."""
    c = conn or (http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                             context=https_context()) if tls else
                 http.client.HTTPConnection("127.0.0.1", port, timeout=30))
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        if conn is None:
            c.close()


def save(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


def openssl_crl(der_path, issuer_pem):
    """openssl crl -verify of a DER CRL with its issuer: (verified, text)."""
    res = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", der_path, "-CAfile",
                          issuer_pem, "-noout", "-text"], capture_output=True, text=True,
                         timeout=60)
    return res.returncode == 0 and "verify OK" in res.stderr + res.stdout, res.stdout + res.stderr


def crl_number(text):
    m = re.search(r"X509v3 CRL Number:\s*\n\s+(\d+)", text)
    return int(m.group(1)) if m else None


def served(con, port, issuer_pem, tmp, want, timeout=60):
    """Poll GET /v1/crl on port until openssl verifies a CRL for which want(text) holds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        status, ctype, body = fetch(port)
        if status == 200:
            ok, text = openssl_crl(save(tmp, "poll.der", body), issuer_pem)
            last = text[:1500]
            if ok and want(text):
                return body, text
        else:
            last = (status, body[:200])
        time.sleep(0.5)
    con.fail("GET /v1/crl never served the CRL wanted; last %r" % (last,))


def slc_pem(tmp, con, name):
    certs = pem_blocks(con.command("slc export"))
    check(certs, "slc export printed no certificate", con)
    return [save(tmp, "%s-%d.pem" % (name, i), c) for i, c in enumerate(certs)]


def test_crl_served_on_both_ports_and_verified(tmp):
    auth = Authority(tmp)
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    con = nb.con
    prepare_appliance(con)
    trust(con, auth)
    wait_health(con, lambda: http_get(nb.http_port), (503, "not ready: not enrolled\n"))
    # Before an SLC signs one there is none, on either port.
    for tls, port in ((False, nb.http_port), (True, nb.https_port)):
        status, ctype, body = fetch(port, tls)
        check((status, body) == (503, b"no CRL yet\n"), "GET /v1/crl before enrolling (%s): %r"
              % ("443" if tls else "80", (status, body)), con)
    enroll_offline(con, auth)
    slc = slc_pem(tmp, con, "slc")[0]
    body, text = served(con, nb.http_port, slc, tmp, lambda t: crl_number(t) is not None)
    check("No Revoked Certificates" in text, "a fresh CRL lists something:\n" + text, con)

    con.command("revoke %s keyCompromise" % (SERIAL % 1))
    con.command("revoke user mallory@example.test")
    body, text = served(con, nb.http_port, slc, tmp, lambda t: (SERIAL % 1).upper() in t)
    check("Key Compromise" in text, "no reason code:\n" + text, con)
    # The same bytes on 443, as application/pkix-crl on both.
    status, ctype, body443 = fetch(nb.https_port, tls=True)
    check(status == 200 and ctype == "application/pkix-crl" and body443 == body,
          "443 serves %r %r, %d bytes (port 80: %d)" % (status, ctype, len(body443), len(body)),
          con)
    check(fetch(nb.http_port)[1] == "application/pkix-crl", "content type on 80", con)

    # Larger than a connection's output buffer (16 KiB): sent from revoke's buffer in pieces.
    for n in range(2, 521):
        con.send("revoke %s\n" % (SERIAL % n))
        if n % 50 == 0 or n == 520:
            con.expect("revoked %s " % (SERIAL % n), 60)
    big, text = served(con, nb.http_port, slc, tmp,
                       lambda t: len(re.findall(r"Serial Number: ", t)) == 520, 120)
    check(len(big) > 16384, "the 520-entry CRL is only %d bytes" % len(big), con)
    start = time.monotonic()
    for tls, port in ((False, nb.http_port), (True, nb.https_port)):
        c = (http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=https_context())
             if tls else http.client.HTTPConnection("127.0.0.1", port, timeout=30))
        # Keep-alive: after a kept body the connection answers its next request as usual.
        got = fetch(port, tls, conn=c)
        health = fetch(port, tls, "/health", conn=c)
        c.close()
        check(got == (200, "application/pkix-crl", big), "%s: %r, %d bytes of %d" %
              (port, got[:2], len(got[2]), len(big)), con)
        check(health[0] == 200 and health[2] == b"ok\n", "/health after the CRL: %r" %
              (health,), con)
    print("a %d-byte CRL fetched on both ports in %.2f s" % (len(big), time.monotonic() - start))
    con.close()
    auth.close()
    tok.close()


def test_licensing_server_fetches_its_roots_crl(tmp):
    auth = Authority(tmp)
    port = auth.serve()
    root_tok, root = root_server(tmp, auth, port)
    root_slc = slc_pem(tmp, root.con, "root-slc")[0]
    # The root's `enroll online` fetched the authority's CRL from <url>/v1/crl (serve).
    shown = root.con.command("crl show")
    check(re.search(r"^authority CRL: number \d+, .*, 0 entries", shown, re.M),
          "the root holds no authority CRL after enroll online:\n" + shown, root.con)
    lic_tok = Token(os.path.join(tmp, "lic1"))
    lic = host_on_network(tmp, lic_tok, nv="lic.img")
    licensing_prepare(lic.con, auth)
    fp = tls_fingerprint(lic.con)
    check("granted" in root.con.command("acl grant %s lic1" % fp), "acl grant", root.con)
    first, text = served(root.con, root.http_port, root_slc, tmp,
                         lambda t: crl_number(t) is not None)
    n1 = crl_number(text)

    # Sub-enrollment fetches the root's CRL at once: the licensing server serves.
    out = lic.con.command("enroll online https://%s:%d" % (HOST, root.https_port), 60)
    check("SLC installed for 'lic1'" in out, "sub-enrollment: %r" % out, lic.con)
    check(re.search(r"the root's CRL number %d accepted: 0 entries" % n1, out),
          "no root CRL after sub-enrollment:\n" + out, lic.con)
    wait_health(lic.con, lambda: http_get(lic.http_port), (200, "ok\n"))
    lic_certs = slc_pem(tmp, lic.con, "lic")
    leaf = lic_certs[0]
    serial = subprocess.run(["openssl", "x509", "-in", leaf, "-noout", "-serial"],
                            capture_output=True, text=True, check=True).stdout.split("=")[1]
    serial = serial.strip().lower()

    # openssl checks the licensing server's certificate against the root's CRL: good.
    def verify(crl_der):
        crl = save(tmp, "verify-crl.pem", subprocess.run(
            ["openssl", "crl", "-inform", "DER"], input=crl_der, capture_output=True,
            check=True).stdout)
        res = subprocess.run(["openssl", "verify", "-crl_check", "-CAfile", auth.root_pem,
                              "-untrusted", root_slc, "-CRLfile", crl, leaf],
                             capture_output=True, text=True, timeout=30)
        return res.returncode == 0, res.stdout + res.stderr

    ok, why = verify(first)
    check(ok, "openssl verify -crl_check of the licensing server: " + why, lic.con)

    # The root revokes something else: the licensing server takes the newer CRL on `crl fetch`.
    root.con.command("revoke %s superseded" % (SERIAL % 7))
    second, text = served(root.con, root.http_port, root_slc, tmp,
                          lambda t: (SERIAL % 7).upper() in t)
    n2 = crl_number(text)
    out = lic.con.command("crl fetch", 60)
    check("the root's CRL number %d accepted: 1 entries" % n2 in out, "crl fetch: %r" % out,
          lic.con)

    # What a server at another URL hands out is only taken when it is the root's, and newer.
    answer = {"v": (404, b"no such resource\n")}
    up = Upstream(tmp, lambda path, body: answer["v"], tls=True, name="fake-root")
    tampered = bytearray(second)
    tampered[-5] ^= 0x01  # inside the signature
    cases = [((200, first), "older than the CRL held (number %d < %d)" % (n1, n2)),
             ((200, bytes(tampered)), "signature"),
             ((200, b"not a CRL at all"), ""),
             ((404, b"no such resource\n"), "the root answered 404: no such resource"),
             (b"HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n" + b"x" * 1000,
              "the answer is larger than 1048576 bytes")]
    for result, reason in cases:
        answer["v"] = result
        out = lic.con.command("crl fetch https://%s:%d" % (HOST, up.port), 60)
        check(re.search(r"error: the root's CRL: [^\n]*%s[^\n]*; the one held stays in force" %
                        re.escape(reason), out), "crl fetch of %r: %r" %
              (result[1][:40] if isinstance(result, tuple) else result[:40], out), lic.con)
        shown = lic.con.command("crl show")
        check("root CRL: number %d," % n2 in shown, "the held CRL changed:\n" + shown, lic.con)
    check(up.requests == len(cases), "the fake root saw %d requests" % up.requests, lic.con)
    check(http_get(lic.http_port) == (200, "ok\n"), "a refused CRL stopped the service", lic.con)
    check(re.search(r"crl fetch: the root's CRL: older than", lic.con.command("audit show 20")),
          "a refused CRL is not audited", lic.con)
    up.close()

    # The root revokes the licensing server itself: openssl and the licensing server see it.
    out = root.con.command("revoke %s keyCompromise" % serial)
    check("revoked" in out and "error" not in out, "revoke the licensing server: %r" % out,
          root.con)
    third, text = served(root.con, root.http_port, root_slc, tmp,
                         lambda t: serial.upper() in t)
    ok, why = verify(third)
    check(not ok and "certificate revoked" in why, "openssl verify -crl_check after the "
          "revocation: " + why, lic.con)
    out = lic.con.command("crl fetch", 60)
    check(re.search(r"accepted: 2 entries.*\nserving:   no: the SLC is revoked by the root "
                    r"\(keyCompromise, ", out, re.S), "crl fetch of the revoking CRL: %r" % out,
          lic.con)
    status, body = http_get(lic.http_port)
    check(status == 503 and "not ready: the SLC is revoked by the root" in body,
          "/health of a revoked licensing server: %r" % ((status, body),), lic.con)
    lic.con.close()
    root.con.close()
    auth.close()
    lic_tok.close()
    root_tok.close()
