#!/usr/bin/env python3
"""tests/bench/bench_https.py — HTTPS on the host board beside the token's raw signing rate.

  raw sign    `key bench N tls` on the console: the TLS key's ECDSA P-256 signature over a digest,
              through our client and p11-kit server — exactly what one handshake asks of the token
  handshakes  wrk with "Connection: close": every request a full TLS 1.3 handshake (the appliance
              offers no resumption), GET /health
  keep-alive  wrk on kept-alive connections: GET /health requests per second

All three in one run, on one token and one board (build/host/signet, -O2). The ratio
handshakes / raw sign says how close a handshake comes to costing just its one token signature.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from enrollment import Authority, enroll_offline, prepare_appliance, trust  # noqa: E402
from hsm import Token  # noqa: E402
from netboard import host_on_network, https_get  # noqa: E402

N = int(os.environ.get("BENCH_SIGNATURES", "2000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
RATE = re.compile(r"(\d+) signatures in (\d+) ms: (\d+)/s")
WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")


def wrk(port, *extra):
    argv = ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", "%ds" % SECONDS] + list(extra) + \
        ["https://127.0.0.1:%d/health" % port]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=SECONDS + 60)
    m = WRK_RATE.search(res.stdout)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", res.stdout)
    if not m:
        sys.exit("wrk failed:\n" + res.stdout + res.stderr)
    return float(m.group(1)), bad.group(0) if bad else ""


def main():
    tmp = tempfile.mkdtemp(prefix="signet-bench-")
    tok = Token(tmp)
    os.environ["SIGNET_HOST_BIN"] = os.environ.get("SIGNET_HOST_BIN", "build/host/signet")
    nb = host_on_network(tmp, tok)
    auth = Authority(tmp)
    try:
        # A serving appliance: logged in (which makes the TLS key and certificate) and enrolled.
        prepare_appliance(nb.con)
        trust(nb.con, auth)
        enroll_offline(nb.con, auth)
        if https_get(nb.https_port)[0] != 200:
            sys.exit("the board does not serve HTTPS:\n" + nb.con.transcript())
        nb.con.command("key bench 50 tls", 60)  # warm-up
        m = RATE.search(nb.con.command("key bench %d tls" % N, 600))
        if not m:
            sys.exit("key bench failed:\n" + nb.con.transcript())
        raw = int(m.group(3))
        hs, hs_err = wrk(nb.https_port, "-H", "Connection: close")
        ka, ka_err = wrk(nb.https_port)
        status = https_get(nb.https_port, "/v1/status")[1]
    finally:
        nb.con.close()
        auth.close()
        tok.close()
    print("\nHTTPS on the host board, TLS key ECDSA P-256 in SoftHSM2 behind p11-kit server; "
          "wrk %d connections, %d s each:\n" % (CONNECTIONS, SECONDS))
    print("| what | per second | vs raw sign |")
    print("|---|---|---|")
    print("| token raw ECDSA P-256 sign over the link (%d signatures) | %d | 1.00 |" % (N, raw))
    print("| full TLS 1.3 handshakes (GET /health, Connection: close) | %.0f | %.2f |" %
          (hs, hs / raw))
    print("| GET /health on kept-alive HTTPS connections | %.0f | %.2f |" % (ka, ka / raw))
    for what, err in (("handshakes", hs_err), ("keep-alive", ka_err)):
        if err:
            print("note (%s): %s" % (what, err))
    print("\nhandshake rate / raw sign rate = %.2f (aim: >= 0.8)" % (hs / raw))
    print("appliance counters after the run: " + status.strip())


if __name__ == "__main__":
    main()
