"""Reads what the connector and the server keep on disk, for tests that must look past the API:
the connector's durable queue (docs/format/queue.md), the readings in it (docs/format/batch.md)
and the server's SQLite databases. Standard library only. Read a queue only while its connector
is not running; the server's databases may be read while it runs (SQLite WAL)."""
import os
import sqlite3
import struct


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def read_ack(queue_dir):
    """(acked_seq, evicted_records) from <queue_dir>/ack; (0, 0) when there is none."""
    path = os.path.join(queue_dir, "ack")
    if not os.path.exists(path):
        return 0, 0
    with open(path, "rb") as f:
        data = f.read()
    crc, = struct.unpack_from("<I", data)
    if crc != crc32c(data[4:]):
        raise AssertionError(f"{path}: checksum mismatch")
    if data[4] == 1 and len(data) == 13:
        return struct.unpack_from("<Q", data, 5)[0], 0
    if data[4] == 2 and len(data) == 21:
        return struct.unpack_from("<QQ", data, 5)
    raise AssertionError(f"{path}: unknown version {data[4]} or size {len(data)}")


def read_records(queue_dir, after_seq=0):
    """[(seq, payload)] of the valid records above after_seq in every segment, in file order.
    Stops at the first invalid record of a segment (a torn tail)."""
    out = []
    for name in sorted(os.listdir(queue_dir)):
        if not name.endswith(".seg"):
            continue
        with open(os.path.join(queue_dir, name), "rb") as f:
            data = f.read()
        off = 0
        while off + 17 <= len(data):
            crc, length, rtype, seq = struct.unpack_from("<IIBQ", data, off)
            end = off + 17 + length
            if rtype != 1 or end > len(data):
                break
            if seq > after_seq:
                if crc != crc32c(data[off + 4:end]):
                    break
                out.append((seq, data[off + 17:end]))
            off = end
    return out


def _varint(data, pos):
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def decode_reading_key(payload):
    """(device, ts_ms) of an encoded reading (the part of it the tests need)."""
    if payload[0] != 1:
        raise AssertionError(f"reading version {payload[0]}")
    pos = 1
    n, pos = _varint(payload, pos)
    device = payload[pos:pos + n].decode()
    pos += n
    n, pos = _varint(payload, pos)
    pos += n  # model
    z, pos = _varint(payload, pos)
    ts_ms = (z >> 1) ^ -(z & 1)
    return device, ts_ms


class ServerDb:
    """The server's config.db and samples.db in <server data dir>."""

    def __init__(self, data_dir):
        self.config = os.path.join(data_dir, "config.db")
        self.samples = os.path.join(data_dir, "samples.db")

    def acked_seq(self, connector):
        with sqlite3.connect(self.config, timeout=10) as db:
            row = db.execute("SELECT acked_seq FROM connectors WHERE name = ?", (connector,)).fetchone()
        return row[0] if row else 0

    def readings(self):
        """{(device key, ts_ms): number of samples} over everything stored."""
        with sqlite3.connect(self.config, timeout=10) as db:
            signal_device = dict(db.execute(
                "SELECT signals.id, devices.key FROM signals JOIN devices ON devices.id = signals.device_id"))
        out = {}
        with sqlite3.connect(self.samples, timeout=10) as db:
            for signal_id, ts_ms in db.execute("SELECT signal_id, ts_ms FROM samples"):
                key = (signal_device[signal_id], ts_ms)
                out[key] = out.get(key, 0) + 1
        return out

    def duplicate_samples(self):
        """[(signal_id, ts_ms, count)] that occur more than once (the schema should forbid it)."""
        with sqlite3.connect(self.samples, timeout=10) as db:
            return db.execute("SELECT signal_id, ts_ms, count(*) FROM samples GROUP BY signal_id, ts_ms "
                              "HAVING count(*) > 1").fetchall()


def stored_ranges(server_log, connector):
    """[(first, last)] of the server's "records a..b stored" debug lines for `connector`, in order."""
    import re
    pattern = re.compile(rf"connector {re.escape(connector)}: records (\d+)\.\.(\d+) stored")
    return [(int(m.group(1)), int(m.group(2))) for m in pattern.finditer(server_log)]
