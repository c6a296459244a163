#!/usr/bin/env python3
"""tests/bench/cpu_per_request.py — the host board's own CPU time per HTTPS request.

Rates on a shared machine swing with whatever else runs; the CPU time the board's process
spends per request does not. Boots the host board (build/host/signet, or SIGNET_HOST_BIN), logs
in, runs wrk against GET /health for BENCH_SECONDS with "Connection: close" (every request a
full TLS 1.3 handshake) and then kept alive, and divides the process's user+system time
(/proc/PID/stat) by the requests the board counted.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from hsm import Token, console_login  # noqa: E402
from netboard import host_on_network, https_get  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "6"))


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def counters(nb):
    st = json.loads(https_get(nb.https_port, "/v1/status")[1])
    return st["http"]["requests"], st["tls"]["handshakes"]


def main():
    tmp = tempfile.mkdtemp(prefix="cpu-per-request-")
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    console_login(nb.con)
    pid = nb.con.proc.pid
    https_get(nb.https_port)
    for name, extra in (("handshake per request", ["-H", "Connection: close"]),
                        ("kept alive", [])):
        r0, h0 = counters(nb)
        c0 = cpu_seconds(pid)
        subprocess.run(["wrk", "-t", "2", "-c", "4", "-d", "%ds" % SECONDS] + extra +
                       ["https://127.0.0.1:%d/health" % nb.https_port], capture_output=True,
                       timeout=SECONDS + 60)
        c1 = cpu_seconds(pid)
        r1, h1 = counters(nb)
        requests = max(r1 - r0 - 1, 1)  # less the status request itself
        print("%-22s %7d requests, %5d handshakes, %6.1f us of board CPU each" %
              (name, requests, h1 - h0 - 1, (c1 - c0) * 1e6 / requests))
    nb.con.close()
    tok.close()


if __name__ == "__main__":
    main()
