"""Reads what the connector and the server keep on disk, for tests that must look past the API:
the connector's durable queue (docs/format/queue.md), the readings in it (docs/format/batch.md)
and the server's SQLite databases; and writes batches (encode_batch) for tests that act as a
connector. Standard library only. Read a queue only while its connector
is not running; the server's databases may be read while it runs (SQLite WAL)."""
import os
import sqlite3
import subprocess
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


def _put_varint(out, n):
    """Appends n as unsigned LEB128."""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def _put_bytes(out, data):
    _put_varint(out, len(data))
    out += data


KINDS = {"instant": 0, "counter": 1}
QUALITIES = {"good": 0, "invalid": 1, "manual": 2}


def encode_reading(device, model, ts_ms, values):
    """One reading, version 1 (docs/format/batch.md). values: [(signal, unit, kind, quality,
    value)] with kind "instant"/"counter" and quality "good"/"invalid"/"manual"."""
    out = bytearray([1])
    _put_bytes(out, device.encode())
    _put_bytes(out, model.encode())
    _put_varint(out, (ts_ms << 1) ^ (ts_ms >> 63))  # zigzag
    _put_varint(out, len(values))
    for signal, unit, kind, quality, value in values:
        _put_bytes(out, signal.encode())
        _put_bytes(out, unit.encode())
        out.append(KINDS[kind])
        out.append(QUALITIES[quality])
        out += struct.pack("<d", value)
    return bytes(out)


def encode_batch(connector_id, first_seq, readings):
    """A batch, version 1, with a plain (uncompressed) body: flags bit 0 clear. readings are
    encoded readings, numbered first_seq, first_seq + 1, ..."""
    body = bytearray()
    for i, reading in enumerate(readings):
        _put_varint(body, 0 if i == 0 else 1)
        _put_bytes(body, reading)
    out = bytearray(b"WLB")
    out += bytes([1, 0])
    _put_bytes(out, connector_id.encode())
    _put_varint(out, len(readings))
    _put_varint(out, first_seq if readings else 0)
    _put_bytes(out, body)
    out += struct.pack("<I", crc32c(out))
    return bytes(out)


class ServerDb:
    """The server's config.db and its historian (read through `wattline-server dump-samples`),
    in <server data dir>. Read only while the server is stopped."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.config = os.path.join(data_dir, "config.db")

    def acked_seq(self, connector):
        with sqlite3.connect(self.config, timeout=10) as db:
            row = db.execute("SELECT acked_seq FROM connectors WHERE name = ?", (connector,)).fetchone()
        return row[0] if row else 0

    def samples(self, values=None):
        """[(signal_id, ts_ms)] of every stored sample, as the historian returns them. With a
        dict for `values`, also fills it with {signal_id: [(ts_ms, value), ...]}."""
        from stack import BIN_DIR
        run = subprocess.run([os.path.join(BIN_DIR, "wattline-server"), "--data_dir", self.data_dir,
                              "--log_level", "warn", "dump-samples"], capture_output=True, text=True, timeout=300)
        if run.returncode != 0:
            raise AssertionError(f"dump-samples failed ({run.returncode}): {run.stderr[-2000:]}")
        lines = run.stdout.splitlines()
        assert lines[0] == "signal_id,ts_ms,value,quality", lines[:1]
        out = []
        for line in lines[1:]:
            signal_id, ts_ms, value, _ = line.split(",")
            out.append((int(signal_id), int(ts_ms)))
            if values is not None:
                values.setdefault(int(signal_id), []).append((int(ts_ms), float(value)))
        return out

    def readings(self, samples=None):
        """{(device key, ts_ms): number of samples} over everything stored."""
        with sqlite3.connect(self.config, timeout=10) as db:
            signal_device = dict(db.execute(
                "SELECT signals.id, devices.key FROM signals JOIN devices ON devices.id = signals.device_id"))
        out = {}
        for signal_id, ts_ms in samples if samples is not None else self.samples():
            key = (signal_device[signal_id], ts_ms)
            out[key] = out.get(key, 0) + 1
        return out

    @staticmethod
    def duplicate_samples(samples):
        """[(signal_id, ts_ms, count)] that occur more than once (the historian must not store any)."""
        counts = {}
        for key in samples:
            counts[key] = counts.get(key, 0) + 1
        return [(k[0], k[1], n) for k, n in counts.items() if n > 1]


def stored_ranges(server_log, connector):
    """[(first, last)] of the server's "records a..b stored" debug lines for `connector`, in order."""
    import re
    pattern = re.compile(rf"connector {re.escape(connector)}: records (\d+)\.\.(\d+) stored")
    return [(int(m.group(1)), int(m.group(2))) for m in pattern.finditer(server_log)]
