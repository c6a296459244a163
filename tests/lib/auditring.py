"""tests/lib/auditring.py — the host board's audit ring, read and altered in its NV file the way
someone with the file (not the token) could: docs/audit.md has the layout.

The NV file holds the record store (HOST_NV_BLOCKS erase blocks) and then the ring
(HOST_AUDIT_BLOCKS). Each ring block is a segment: a 16-byte header ("SGAR", counter, first seq,
CRC-32) and records padded to 4 bytes: u16 len, u8 type, u8 version, u32 seq, i64 when,
prev[32], body, u32 CRC-32 of what comes before. A record's hash is the SHA-256 of its bytes
before the CRC.
"""
import hashlib
import struct
import zlib

BLOCK = 64 * 1024
STORE_BLOCKS = 2
RING_BLOCKS = 24
ALIGN = 4
SEG_HEAD = 16
REC_HEAD = 48
TEXT, SEAL, LOSS = 1, 2, 3


def ring_offset(block):
    return (STORE_BLOCKS + block) * BLOCK


class Record:
    def __init__(self, data, off):
        self.off = off  # in the file
        self.length = struct.unpack_from("<H", data, 0)[0]
        self.raw = bytes(data[:self.length])
        self.type, self.version, self.seq, self.when = struct.unpack_from("<BBIq", data, 2)
        self.prev = self.raw[16:48]
        self.body = self.raw[REC_HEAD:self.length - 4]
        self.hash = hashlib.sha256(self.raw[:-4]).digest()

    def padded(self):
        return (self.length + ALIGN - 1) // ALIGN * ALIGN

    def text(self):
        return self.body.decode("ascii", "replace")


def encode(rtype, seq, when, prev, body):
    head = struct.pack("<HBBIq", REC_HEAD + len(body) + 4, rtype, 1, seq, when) + prev
    data = head + body
    return data + struct.pack("<I", zlib.crc32(data))


def segments(image):
    """(block, counter, first seq) of every ring block with a good header, oldest first."""
    out = []
    for b in range(RING_BLOCKS):
        h = image[ring_offset(b):ring_offset(b) + SEG_HEAD]
        if len(h) < SEG_HEAD or h[:4] != b"SGAR":
            continue
        magic, counter, first, crc = struct.unpack("<IIII", h)
        if crc == zlib.crc32(h[:12]) and counter:
            out.append((b, counter, first))
    return sorted(out, key=lambda s: s[1])


def records(image):
    """Every intact record, in ring order (segments oldest first)."""
    out = []
    for b, _, _ in segments(image):
        off, end = ring_offset(b) + SEG_HEAD, ring_offset(b + 1)
        while off + REC_HEAD + 4 <= end:
            (length,) = struct.unpack_from("<H", image, off)
            if length == 0xFFFF:
                break
            data = image[off:off + length]
            if (REC_HEAD + 4 <= length <= end - off and
                    struct.unpack_from("<I", data, length - 4)[0] == zlib.crc32(data[:-4])):
                rec = Record(data, off)
                out.append(rec)
                off += rec.padded()
            else:
                off += ALIGN
    return out


def read(path):
    with open(path, "rb") as f:
        return bytearray(f.read())


def write(path, image):
    with open(path, "wb") as f:
        f.write(image)


def find(image, pred):
    for r in records(image):
        if pred(r):
            return r
    raise AssertionError("no such record in the ring")


def put(image, rec, data):
    """Replace rec's bytes by data (padded with erased bytes to rec's room)."""
    room = rec.padded()
    assert len(data) <= room
    image[rec.off:rec.off + room] = data + b"\xff" * (room - len(data))


def rewrite_from(image, start, new_body):
    """Give record `start` a new body and rewrite every later record in its segment with a good
    hash link and CRC, as an attacker with the file can; records keep their places."""
    recs = [r for r in records(image)]
    i = next(k for k, r in enumerate(recs) if r.seq == start.seq)
    prev = recs[i].prev
    for k in range(i, len(recs)):
        r = recs[k]
        body = new_body if k == i else r.body
        data = encode(r.type, r.seq, r.when, prev, body)
        if len(data) > r.padded():
            break
        put(image, r, data)
        prev = hashlib.sha256(data[:-4]).digest()


def torn_tail(image):
    """Bytes after the newest segment's last record that are neither a record nor erased: what a
    power cut mid-append leaves."""
    segs = segments(image)
    b = segs[-1][0]
    recs = [r for r in records(image) if ring_offset(b) <= r.off < ring_offset(b + 1)]
    start = recs[-1].off + recs[-1].padded() if recs else ring_offset(b) + SEG_HEAD
    return any(x != 0xFF for x in image[start:ring_offset(b + 1)])


def sealed_seq(seal):
    """The entry a seal record covers."""
    return struct.unpack_from("<I", seal.body, 8)[0]
