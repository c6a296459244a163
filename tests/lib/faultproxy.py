"""tests/lib/faultproxy.py — a fault-injecting relay between a board and `p11-kit server`.

FaultProxy(tmp, upstream) listens on a Unix socket (its .path is what the board gets as --hsm)
and relays each connection's byte stream to the real server socket. It follows the p11-kit RPC
framing (docs/hsm-link.md: one version byte each way, then frames of a 12-byte header — request
code, options length, body length, big-endian u32 — whose body starts with the call id), so it
knows which answer belongs to which call: the server answers in order.

It counts the calls that change the token (MUTATING). arm(n, action) makes the n-th of them, from
then on, the fault point: the call is relayed and the token carries it out, but its answer is held
back and then
  "drop":  both sides of the connection are closed (the link drops);
  "power": on_power() is called first (the test SIGKILLs the board: a power cut), then the same.
The board never learns the call's outcome. With before=True the cut comes just before the n-th
call is forwarded instead: the token never sees it. One fault per arm(); later connections relay
untouched. Standard library only; the relay runs in threads of the test process.
"""
import os
import select
import socket
import struct
import threading

import harness

# p11-kit RPC call ids (crypto/p11/p11_wire.h) of the calls that change objects in the token.
MUTATING = {
    20: "C_CreateObject",
    21: "C_CopyObject",
    22: "C_DestroyObject",
    25: "C_SetAttributeValue",
    58: "C_GenerateKey",
    59: "C_GenerateKeyPair",
    61: "C_UnwrapKey",
}
FRAME_MAX = 1 << 20  # far above the firmware's 16 KiB: only a broken stream is bigger


class Frames:
    """Splits one direction's stream: the version byte, then whole frames (header + rest)."""

    def __init__(self):
        self.buf = b""
        self.version_seen = False

    def feed(self, data):
        """Returns the complete units now available as (call_id or None, bytes)."""
        self.buf += data
        out = []
        if not self.version_seen and self.buf:
            out.append((None, self.buf[:1]))
            self.buf = self.buf[1:]
            self.version_seen = True
        while len(self.buf) >= 12:
            _, opt_len, body_len = struct.unpack(">III", self.buf[:12])
            total = 12 + opt_len + body_len
            if opt_len + body_len > FRAME_MAX:
                raise ValueError("frame of %d bytes" % total)
            if len(self.buf) < total:
                break
            body = self.buf[12 + opt_len:total]
            call = struct.unpack(">I", body[:4])[0] if len(body) >= 4 else None
            out.append((call, self.buf[:total]))
            self.buf = self.buf[total:]
        return out


class FaultProxy:
    def __init__(self, tmp, upstream, name="faultproxy.sock"):
        self.path = os.path.join(tmp, name)
        self.upstream = upstream
        self.lock = threading.Lock()
        self.fired = threading.Event()
        self.seen = []  # names of the mutating calls answered since the last arm()/count()
        self.target = None
        self.action = None
        self.on_power = None
        self.before = False
        self.sent = 0  # mutating calls forwarded since the last arm()
        self.closed = False
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()
        harness.LIVE.append(self)  # the runner closes it after the test

    def count(self):
        """Start counting mutating calls afresh without arming a fault."""
        with self.lock:
            self.seen = []
            self.target = None
            self.fired.clear()

    def arm(self, n, action, on_power=None, before=False):
        assert action in ("drop", "power") and n >= 1
        with self.lock:
            self.seen = []
            self.target, self.action, self.on_power = n, action, on_power
            self.before = before
            self.sent = 0
            self.fired.clear()

    def calls(self):
        with self.lock:
            return list(self.seen)

    def _accept(self):
        while not self.closed:
            try:
                board, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                server.connect(self.upstream)
            except OSError:
                board.close()  # no server: the board sees the link down, as without us
                continue
            threading.Thread(target=self._relay, args=(board, server), daemon=True).start()

    def _fire(self):
        self.target = None
        if self.action == "power" and self.on_power:
            self.on_power()
        self.fired.set()
        return True

    def _sending(self, call):
        """The board sent call: True if the cut comes before it reaches the server."""
        if call not in MUTATING:
            return False
        with self.lock:
            self.sent += 1
            if self.target is None or not self.before or self.sent != self.target:
                return False
            return self._fire()

    def _answered(self, call):
        """An answer to call came from the server: True if it is the one to cut off at."""
        if call not in MUTATING:
            return False
        with self.lock:
            self.seen.append(MUTATING[call])
            if self.target is None or self.before or len(self.seen) != self.target:
                return False
            return self._fire()

    def _relay(self, board, server):
        up, down = Frames(), Frames()
        pending = []  # call ids sent to the server, not yet answered (answers come in order)
        try:
            while True:
                r, _, _ = select.select([board, server], [], [], 1.0)
                if self.closed:
                    return
                if board in r:
                    data = board.recv(65536)
                    if not data:
                        return
                    for call, unit in up.feed(data):
                        if call is not None:
                            if self._sending(call):
                                return  # never forwarded; the finally closes both sides
                            pending.append(call)
                        server.sendall(unit)
                if server in r:
                    data = server.recv(65536)
                    if not data:
                        return
                    for _, unit in down.feed(data):
                        call = pending.pop(0) if len(unit) >= 12 and pending else None
                        if self._answered(call):
                            return  # the answer is withheld; the finally closes both sides
                        board.sendall(unit)
        except (OSError, ValueError):
            return
        finally:
            for s in (board, server):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass
