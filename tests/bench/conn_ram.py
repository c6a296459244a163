#!/usr/bin/env python3
"""tests/bench/conn_ram.py — what one HTTP connection costs the appliance, by state.

Boots the host board (build/host/signet, or SIGNET_HOST_BIN), logs in, and holds K connections
in each state in turn, reading the crypto heap (mbedTLS's allocations, crypto/heap.c) from
/v1/status before and after: the difference over K is one connection's TLS cost. The status
request itself costs the same session each time, so it cancels out. The fixed part — the
connection record, the lwIP PCB, a request buffer, a TLS session slot — is read from the
firmware's symbol table. Prints one line per state.

  idle TCP       connected, nothing sent (either port)
  handshaking    TLS: ClientHello sent, the server's flight read, no answer
  TLS idle       TLS handshake done, one keep-alive request answered, now idle
  busy           TLS idle + a request buffer while a request is read or answered
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import harness  # noqa: E402
from hsm import Token, console_login  # noqa: E402
from netboard import host_on_network, https_context, https_get, open_many  # noqa: E402

K = int(os.environ.get("CONN_RAM_K", "16"))


def heap(nb):
    code, body = https_get(nb.https_port, "/v1/status")
    if code != 200:
        sys.exit("GET /v1/status: %d %r" % (code, body))
    tls = json.loads(body)["tls"]
    return tls["heap_in_use"], tls["heap_peak"]


def symbol_sizes(binary, names):
    out = subprocess.run(["nm", "-S", "--size-sort", binary], capture_output=True, text=True,
                         check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] in names:
            sizes[parts[3]] = int(parts[1], 16)
    return sizes


def handshaking(port):
    """A TLS 1.3 client that sends its ClientHello, reads the answer and then says nothing."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = https_context().wrap_bio(incoming, outgoing, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(outgoing.read())
    s.recv(65536)  # the server's flight: its handshake state now exists
    return s


def main():
    binary = harness.HOST_BIN
    tmp = tempfile.mkdtemp(prefix="conn-ram-")
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    console_login(nb.con)
    https_get(nb.https_port)  # first handshake: lazily made state is in place from here on
    rows = []

    base, _ = heap(nb)
    socks = open_many(nb.https_port, K) + open_many(nb.http_port, K)
    time.sleep(0.5)
    now, _ = heap(nb)
    rows.append(("idle TCP", (now - base) / len(socks)))
    for s in socks:
        s.close()
    time.sleep(0.5)

    base, _ = heap(nb)
    socks = [handshaking(nb.https_port) for _ in range(K)]
    time.sleep(0.5)
    now, _ = heap(nb)
    rows.append(("handshaking", (now - base) / K))
    for s in socks:
        s.close()
    time.sleep(1)

    base, _ = heap(nb)
    conns = []
    for _ in range(K):
        c = https_context().wrap_socket(socket.create_connection(("127.0.0.1", nb.https_port),
                                                                 timeout=10))
        c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        c.recv(4096)
        conns.append(c)
    time.sleep(0.5)
    now, peak = heap(nb)
    tls_idle = (now - base) / K
    rows.append(("TLS idle", tls_idle))
    for c in conns:
        c.close()

    sizes = symbol_sizes(binary, {"conns", "bufs", "pool", "memp_memory_TCP_PCB_base"})
    fixed = {
        "connection record": sizes.get("conns", 0) // int(os.environ.get("HTTP_CONN_MAX", "96")),
        "request buffer (taken while busy)": sizes.get("bufs", 0) //
        int(os.environ.get("HTTP_BUFS", "10")),
    }
    rows.append(("busy", tls_idle + fixed["request buffer (taken while busy)"]))
    print("crypto heap per connection (K=%d, %s):" % (K, os.path.relpath(binary, ROOT)))
    for name, b in rows:
        print("  %-12s %8.0f bytes" % (name, b))
    print("crypto heap peak during the run: %d bytes" % peak)
    print("static, from the symbol table:")
    for name, b in fixed.items():
        print("  %-34s %7d bytes" % (name, b))
    for name in ("pool", "memp_memory_TCP_PCB_base"):
        if name in sizes:
            print("  %-34s %7d bytes in all" % (name, sizes[name]))
    nb.con.close()
    tok.close()


if __name__ == "__main__":
    main()
