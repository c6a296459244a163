"""tests/lib/upstream.py — servers the appliance's HTTP client talks to, well-behaved or hostile.

Upstream(tmp, answer, tls=..., client_ca=...) listens on 127.0.0.1 (the board reaches it as
10.0.2.2 through the user network), reads one HTTP/1.1 request per connection and calls
answer(path, body) -> (status, body bytes), or raw bytes to send as the whole answer, in its own
thread. With tls=True it is a TLS server
(TLS 1.2/1.3, a P-256 certificate made with openssl); client_ca=PEM text requires a client
certificate that verifies against it (CERT_REQUIRED) — load the appliance's own self-signed
certificate to accept exactly that client. Every accepted client certificate's SHA-256
fingerprint is recorded in .client_fps. hold() makes answers wait until release().

Hostile(mode) is a raw TCP server that misbehaves in one way: "garbage" (answers any bytes with
non-TLS junk), "alert" (answers the ClientHello with a fatal TLS alert), "silent" (accepts, reads,
never answers until close()).
"""
import hashlib
import os
import socket
import ssl
import subprocess
import threading

import harness


def fingerprint(der):
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def read_request(conn, limit=1 << 20):
    """(path, body) of one HTTP/1.1 request with Content-Length, or None."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > limit:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return path, body[:length]


def self_signed(tmp, name):
    key, crt = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                    "-subj", "/CN=" + name, "-days", "2"], check=True, capture_output=True,
                   timeout=30)
    return crt, key


class _Server:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()
        harness.LIVE.append(self)

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._serve_guarded, args=(conn,), daemon=True).start()

    def _serve_guarded(self, conn):
        try:
            self.serve(conn)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            for c in self.conns:
                try:
                    c.close()
                except OSError:
                    pass


class Upstream(_Server):
    def __init__(self, tmp, answer, tls=False, client_ca=None, name="upstream", tls13=True):
        self.answer = answer
        self.client_fps = []
        self.requests = 0
        self.errors = []
        self.gate = threading.Event()
        self.gate.set()
        self.ctx = None
        if tls:
            crt, key = self_signed(tmp, name)
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(crt, key)
            if not tls13:
                self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            if client_ca:
                self.ctx.verify_mode = ssl.CERT_REQUIRED
                self.ctx.load_verify_locations(cadata=client_ca)
        super().__init__()

    def hold(self):
        self.gate.clear()

    def release(self):
        self.gate.set()

    def serve(self, conn):
        if self.ctx:
            try:
                conn = self.ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.errors.append(str(e))
                raise
            der = conn.getpeercert(binary_form=True)
            if der:
                self.client_fps.append(fingerprint(der))
        req = read_request(conn)
        if req is None:
            return
        with self.lock:
            self.requests += 1
        self.gate.wait(120)
        result = self.answer(*req)
        if isinstance(result, bytes):  # a whole raw answer, however malformed
            try:
                conn.sendall(result)
            except OSError:
                pass
            return
        status, body = result
        conn.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (status, len(body)) +
                     body)
        if self.ctx:
            try:
                conn.unwrap()
            except (ssl.SSLError, OSError):
                pass


# A fatal alert record: TLS 1.2 framing, level 2 (fatal), handshake_failure (40).
ALERT = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])


class Hostile(_Server):
    def __init__(self, mode):
        self.mode = mode
        self.stop = threading.Event()
        super().__init__()

    def serve(self, conn):
        data = conn.recv(65536)
        if not data:
            return
        if self.mode == "garbage":
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nthis is not TLS at all\r\n" * 20)
        elif self.mode == "alert":
            conn.sendall(ALERT)
        elif self.mode == "silent":
            self.stop.wait(600)

    def close(self):
        self.stop.set()
        super().close()
