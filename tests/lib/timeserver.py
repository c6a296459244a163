"""tests/lib/timeserver.py — an NTP server for a test: Debian's chronyd on a loopback port.

Chrony(tmp) serves the host's clock (its local reference, stratum 8) and never touches it (-x);
Chrony(tmp, ahead="+2d") serves a clock that far off, by running chronyd under libfaketime: a
server that lies. A board on the user network reaches either as 10.0.2.2:port (`server`).
"""
import os
import socket
import struct
import subprocess
import time

import harness
from nameserver import free_udp_port


class Chrony:
    def __init__(self, tmp, ahead=None, port=None):
        self.port = port or free_udp_port()
        self.dir = os.path.join(tmp, "chrony-%d" % self.port)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "chrony.conf")
        with open(self.conf, "w") as f:
            f.write("port %d\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 8\n"
                    "cmdport 0\npidfile %s/chronyd.pid\n" % (self.port, self.dir))
        argv = ["chronyd", "-f", self.conf, "-d", "-x"]
        if ahead:
            argv = ["faketime", "-f", ahead] + argv
        self.log = open(os.path.join(self.dir, "chronyd.log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        harness.LIVE.append(self)
        deadline = time.monotonic() + 10
        while self.offset() is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chronyd did not start: see %s" % self.log.name)
            time.sleep(0.1)

    def offset(self):
        """Ask it ourselves: its clock minus ours in seconds, or None before it serves."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            try:
                s.sendto(b"\x23" + b"\0" * 39 + b"signet!!", ("127.0.0.1", self.port))
                d = s.recv(128)
            except OSError:
                return None
        if len(d) < 48 or d[24:32] != b"signet!!" or d[1] == 0:
            return None
        secs, frac = struct.unpack("!II", d[40:48])
        return secs - 2208988800 + frac / 2 ** 32 - time.time()

    @property
    def server(self):
        return "10.0.2.2:%d" % self.port

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()
