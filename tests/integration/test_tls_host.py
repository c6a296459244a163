"""HTTPS on the host board: TLS 1.3/1.2 with the key in the token, client certificates, hostile
TLS clients. Checked from outside with curl, openssl and pkcs11-tool."""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import time

from harness import PROMPT, check
from hsm import Token, console_login
from netboard import (host_on_network, http_get, https_context, https_get, open_many,
                      raw_exchange)

FP = re.compile(r"(?:[0-9A-F]{2}:){31}[0-9A-F]{2}")


def run(argv, timeout=60):
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    return res.returncode, res.stdout + res.stderr


def logged_in_board(tmp, tok=None, nv="nv.img"):
    tok = tok or Token(tmp)
    nb = host_on_network(tmp, tok, nv=nv)
    console_login(nb.con)
    return tok, nb


def console_fingerprint(con):
    out = con.command("tls fingerprint")
    m = FP.search(out)
    check(m, "tls fingerprint printed no fingerprint: %r" % out, con)
    return m.group(0)


def cert_fingerprint(pem_or_path, con):
    """openssl's SHA-256 fingerprint of a certificate (a file, or PEM text), as XX:XX:..."""
    argv = ["openssl", "x509", "-noout", "-fingerprint", "-sha256"]
    if os.path.exists(pem_or_path):
        res = subprocess.run(argv + ["-in", pem_or_path], capture_output=True, text=True,
                             timeout=30)
    else:
        res = subprocess.run(argv, input=pem_or_path, capture_output=True, text=True, timeout=30)
    out = res.stdout + res.stderr
    m = FP.search(out)
    check(res.returncode == 0 and m, "openssl x509 -fingerprint failed:\n" + out, con)
    return m.group(0)


def s_client(port, *args):
    return run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-showcerts"] +
               list(args), timeout=30)


def client_cert(tmp, name, keyspec):
    """A self-signed client certificate made by openssl: (cert path, key path)."""
    key, crt = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".pem")
    rc, out = run(["openssl", "req", "-x509", "-newkey", keyspec, "-nodes", "-keyout", key,
                   "-out", crt, "-days", "30", "-subj", "/CN=%s" % name] +
                  (["-pkeyopt", "ec_paramgen_curve:P-256"] if keyspec == "ec" else []))
    check(rc == 0, "openssl req failed:\n" + out)
    return crt, key


def status_json(nb, ctx=None):
    code, body = https_get(nb.https_port, "/v1/status", ctx=ctx)
    check(code == 200, "GET /v1/status: %d %r" % (code, body), nb.con)
    try:
        return json.loads(body)
    except ValueError:
        nb.con.fail("/v1/status is not JSON: %r" % body)


def test_https_needs_login_then_serves_tls13_with_the_token_key(tmp):
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    # Before login there is no key to handshake with: refused at once, and plain /health says why.
    rc, out = run(["curl", "-sk", "--max-time", "10", "https://127.0.0.1:%d/health" % nb.https_port])
    check(rc != 0, "HTTPS answered before login: %r" % out, nb.con)
    code, body = http_get(nb.http_port)
    check((code, body) == (503, "not ready: token not logged in\n"), "%d %r" % (code, body),
          nb.con)
    out = nb.con.command("tls fingerprint")
    check(out.startswith("error: no TLS certificate yet"), "fingerprint before login: %r" % out,
          nb.con)

    console_login(nb.con)
    fp = console_fingerprint(nb.con)
    # HTTPS is up; the service itself waits for an SLC (tests/integration/test_enroll_host.py).
    rc, out = run(["curl", "-sk", "--max-time", "20", "https://127.0.0.1:%d/health" % nb.https_port])
    check(rc == 0 and out == "not ready: not enrolled\n", "curl https /health: rc %d %r" % (rc, out),
          nb.con)
    st = status_json(nb)
    check(not st["serving"] and st["reason"] == "not enrolled" and st["token"]["link"] == "up" and
          st["token"]["logged_in"] and st["role"] == "root" and st["enrollment"] == "unprovisioned" and
          st["tls"]["handshakes"] >= 1 and st["uptime_s"] >= 0, "status: %r" % st, nb.con)

    rc, out = s_client(nb.https_port, "-tls1_3")
    check(rc == 0 and "New, TLSv1.3" in out, "openssl s_client -tls1_3:\n" + out[-2000:], nb.con)
    pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    check(pem, "no certificate in the s_client output", nb.con)
    check(cert_fingerprint(pem.group(0), nb.con) == fp,
          "the served certificate is not the one whose fingerprint the console prints", nb.con)
    rc, out = s_client(nb.https_port, "-tls1_2")
    check(rc == 0 and "New, TLSv1.2, Cipher is ECDHE-ECDSA-" in out,
          "TLS 1.2 with the ECDSA key:\n" + out[-2000:], nb.con)
    # Plain HTTP offers nothing but /health.
    code, body = http_get(nb.http_port, "/v1/status")
    check((code, body) == (403, "HTTPS required\n"), "plain /v1/status: %d %r" % (code, body),
          nb.con)
    tok.close()


def test_client_certificate_fingerprint_reaches_the_handler(tmp):
    tok, nb = logged_in_board(tmp)
    code, body = https_get(nb.https_port, "/v1/whoami")
    check(code == 200 and json.loads(body) == {"client_certificate": False, "fingerprint": ""},
          "without a client certificate: %d %r" % (code, body), nb.con)
    for name, spec in (("ec-client", "ec"), ("rsa-client", "rsa:2048")):
        crt, key = client_cert(tmp, name, spec)
        want = cert_fingerprint(crt, nb.con)
        rc, out = run(["curl", "-sk", "--max-time", "20", "--cert", crt, "--key", key,
                       "https://127.0.0.1:%d/v1/whoami" % nb.https_port])
        check(rc == 0, "curl with a client certificate failed: %r" % out, nb.con)
        got = json.loads(out)
        check(got == {"client_certificate": True, "fingerprint": want},
              "%s: the handler saw %r, openssl says %s" % (name, got, want), nb.con)
        # The same over TLS 1.2.
        ctx = https_context(crt, key, ssl.TLSVersion.TLSv1_2)
        code, body = https_get(nb.https_port, "/v1/whoami", ctx=ctx)
        check(code == 200 and json.loads(body)["fingerprint"] == want,
              "%s over TLS 1.2: %d %r" % (name, code, body), nb.con)
    check(status_json(nb)["tls"]["client_certificates"] >= 4, "client certificates not counted",
          nb.con)
    tok.close()


def test_full_size_records_are_read_over_tls12_and_tls13(tmp):
    """A request body over 4 KiB comes in 16 KiB records (OpenSSL negotiates no smaller fragment
    length): the session must keep a full-size receive buffer after the handshake, over TLS 1.2
    as over 1.3, and answer the request rather than drop the connection."""
    tok, nb = logged_in_board(tmp)
    body = b"<" + b"x" * 20000 + b">"
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        try:
            code, text = https_get(nb.https_port, "/v1/certify", "POST", body,
                                   {"Content-Type": "application/xml"},
                                   ctx=https_context(version=version))
        except (OSError, http.client.HTTPException) as e:
            nb.con.fail("%s: a 20 KB request body lost the connection: %r" % (version.name, e))
        check(code in (400, 401, 403, 503) and text.strip(),
              "%s: a 20 KB request body: %d %r" % (version.name, code, text), nb.con)
        code, text = https_get(nb.https_port, "/health", ctx=https_context(version=version))
        check(code in (200, 503), "%s: /health after it: %d" % (version.name, code), nb.con)
    tok.close()


def test_tls_key_stays_in_the_token_and_the_identity_persists(tmp):
    tok, nb = logged_in_board(tmp)
    fp = console_fingerprint(nb.con)
    rc, out = tok.pkcs11_tool("--list-objects", "--type", "privkey")
    blocks = [b for b in out.split("Private Key Object") if "label:      Signet TLS key" in b]
    check(rc == 0 and len(blocks) == 1, "expected one TLS private key:\n" + out, nb.con)
    key = blocks[0]
    check("EC" in key and "Usage:      sign" in key and "sensitive" in key and
          "never extractable" in key and "Usage:      sign, " not in key,
          "the TLS key is not sensitive, never-extractable and sign-only:\n" + key, nb.con)
    rc, out = tok.pkcs11_tool("--list-objects", "--type", "cert", login=False)
    check(rc == 0 and "Signet TLS certificate" in out, "no certificate object:\n" + out, nb.con)
    # A reboot finds the same key and certificate: the fingerprint operators wrote down holds.
    nb.con.send("reboot\n")
    nb.con.expect("Signet .* - HSM-backed signing appliance", 30)
    nb.con.expect(PROMPT, 30)
    console_login(nb.con)
    check(console_fingerprint(nb.con) == fp, "the fingerprint changed across a reboot", nb.con)
    check("new TLS key" not in nb.con.output_since(0).split("reboot")[-1],
          "a reboot made a new TLS key", nb.con)
    # A second appliance on the same token (a cluster member) serves the same identity.
    nb2 = host_on_network(tmp, tok, nv="nv2.img")
    console_login(nb2.con)
    check(console_fingerprint(nb2.con) == fp, "a cluster member has another identity", nb2.con)
    rc, out = s_client(nb2.https_port, "-tls1_3")
    check(rc == 0 and "New, TLSv1.3" in out, "the cluster member's HTTPS:\n" + out[-1500:], nb2.con)
    tok.close()


def client_hello_bytes():
    """A real TLS 1.3 ClientHello, from Python's own TLS client."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = https_context().wrap_bio(incoming, outgoing, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def test_hostile_tls_clients_then_a_normal_request(tmp):
    tok, nb = logged_in_board(tmp)
    port = nb.https_port
    hello = client_hello_bytes()
    check(len(hello) > 100 and hello[0] == 0x16, "could not capture a ClientHello")
    # Garbage instead of a handshake: an alert or a close, at once.
    out, secs = raw_exchange(port, bytes(range(256)) * 8)
    check(secs < 5, "garbage on the TLS port was not dropped promptly (%.1fs)" % secs, nb.con)
    # Plain HTTP on the TLS port: likewise.
    out, secs = raw_exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    check(b"HTTP/1.1" not in out and secs < 5, "plain HTTP on the TLS port: %r" % out[:80], nb.con)
    # A ClientHello cut in half: the handshake deadline drops it (HTTP_HEAD_TIMEOUT_MS, 10 s).
    out, secs = raw_exchange(port, hello[:len(hello) // 2], wait=30)
    check(out == b"" and 5 < secs < 20, "half a ClientHello: %r after %.1fs" % (out[:40], secs),
          nb.con)
    # Oversized headers and a 10 MB body, over TLS.
    ctx = https_context()
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=15)) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
        reply = s.recv(4096)
    check(reply.startswith(b"HTTP/1.1 431 "), "big header over TLS: %r" % reply[:80], nb.con)
    # A 10 MB body is refused from its Content-Length; curl reads the early answer.
    body = os.path.join(tmp, "10MB")
    with open(body, "wb") as f:
        f.truncate(10 << 20)
    t0 = time.monotonic()
    rc, out = run(["curl", "-sk", "--max-time", "30", "-o", "-", "-w", " %{http_code}",
                   "--data-binary", "@" + body, "https://127.0.0.1:%d/health" % port])
    check(out.endswith(" 413") and "body too large" in out and time.monotonic() - t0 < 15,
          "10 MB body over TLS: rc %d %r" % (rc, out[-200:]), nb.con)
    # 200 idle connections (more than the service holds): the excess is closed, the rest time out.
    idle = open_many(port, 200)
    check(len(idle) >= 100, "only %d of 200 connections got through" % len(idle), nb.con)
    time.sleep(1)
    for s in idle:
        s.close()
    # Afterwards a normal client is served; nothing is left behind.
    deadline = time.monotonic() + 30
    code = 0
    while time.monotonic() < deadline:
        try:
            code, body = https_get(port, "/v1/whoami")
            if code == 200:
                break
        except (OSError, ssl.SSLError):
            pass
        time.sleep(0.5)
    check(code == 200, "no HTTPS answer after the hostile clients", nb.con)
    deadline = time.monotonic() + 30
    while True:
        st = status_json(nb)
        if st["http"]["active"] == 1 or time.monotonic() > deadline:
            break
        time.sleep(1)
    check(st["http"]["active"] == 1, "connections left open: %r" % st["http"], nb.con)
    check(st["tls"]["handshake_failures"] >= 2, "failed handshakes not counted: %r" % st, nb.con)
    # With one connection open, mbedTLS holds one session's buffers and no more.
    check(st["tls"]["heap_in_use"] < 40000, "TLS memory not returned: %r" % st["tls"], nb.con)
    check("board:     host" in nb.con.command("status"), "the console stopped answering", nb.con)
    # Unplugging the console ends the process normally: under ASan, LeakSanitizer checks now.
    nb.con.proc.stdin.close()
    rc = nb.con.wait_exit(30)
    check(rc == 0, "the board exited with %d (a leak report?)" % rc, nb.con)
    tok.close()


def test_https_recovers_by_itself_after_the_token_link_drops(tmp):
    tok, nb = logged_in_board(tmp)
    check(https_get(nb.https_port, "/v1/whoami")[0] == 200, "HTTPS before the drop", nb.con)
    tok.stop()
    # No token: a new handshake cannot be signed. It fails cleanly and within the link time-out.
    t0 = time.monotonic()
    rc, out = run(["curl", "-sk", "--max-time", "30", "https://127.0.0.1:%d/health" %
                   nb.https_port])
    check(rc != 0 and time.monotonic() - t0 < 15, "HTTPS without a token: rc %d %r" % (rc, out),
          nb.con)
    code, body = http_get(nb.http_port)
    check((code, body) == (503, "not ready: token link down\n"), "%d %r" % (code, body), nb.con)
    tok.start()
    deadline = time.monotonic() + 30
    code = 0
    while code != 200 and time.monotonic() < deadline:
        try:
            code = https_get(nb.https_port, "/v1/whoami")[0]
        except (OSError, ssl.SSLError):
            time.sleep(0.5)
    check(code == 200, "HTTPS did not come back after the token link returned", nb.con)
    st = status_json(nb)
    check(st["token"]["relogins"] >= 1 and st["token"]["connects"] >= 2,
          "no reconnect and re-login recorded: %r" % st["token"], nb.con)
    tok.close()
