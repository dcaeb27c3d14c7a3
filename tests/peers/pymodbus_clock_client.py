#!/usr/bin/python3
"""A Modbus TCP client we did not write (Debian's pymodbus 3.0.0rc1) sets and reads the clock of a
meter with a ymdhms-u16 clock (six holding registers: year - year base, month, day, hour, minute,
second) and reads the newest history record (float32, high word first).

Steps, one result line each on stdout:
  BAD <exception code>     write of month 13 at --write-address (expect 3)
  SET ok                   write of --time at --write-address
  CLOCK YYYY-MM-DD HH:MM:SS  read of the six registers at --read-address
  HISTORY <float>          read of two registers at --history-address
Exit code 0 when every request got an answer (the caller checks the values), 1 otherwise.
"""
import argparse
import datetime
import struct
import sys
import types

# pymodbus imports pyserial and serial_asyncio even for TCP-only use, but Debian's
# python3-pymodbus only recommends them. The TCP client never touches them: stub what's missing.
for _name in ("serial", "serial_asyncio"):
    try:
        __import__(_name)
    except ImportError:
        _stub = types.ModuleType(_name)
        _stub.create_serial_connection = None
        sys.modules[_name] = _stub

from pymodbus.client import ModbusTcpClient  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--read-address", type=int, required=True)
    parser.add_argument("--write-address", type=int, required=True)
    parser.add_argument("--year-base", type=int, default=0)
    parser.add_argument("--history-address", type=int, required=True)
    parser.add_argument("--time", required=True, help="UTC time to set, YYYY-MM-DDTHH:MM:SS")
    args = parser.parse_args()
    t = datetime.datetime.strptime(args.time, "%Y-%m-%dT%H:%M:%S")

    client = ModbusTcpClient(args.host, port=args.port, timeout=3, retries=1)
    if not client.connect():
        print("cannot connect", file=sys.stderr)
        return 1
    try:
        bad = client.write_registers(args.write_address,
                                     [t.year - args.year_base, 13, 1, 0, 0, 0], slave=1)
        print(f"BAD {getattr(bad, 'exception_code', 'none')}", flush=True)

        done = client.write_registers(
            args.write_address,
            [t.year - args.year_base, t.month, t.day, t.hour, t.minute, t.second], slave=1)
        if done.isError():
            print(f"write failed: {done}", file=sys.stderr)
            return 1
        print("SET ok", flush=True)

        clock = client.read_holding_registers(args.read_address, 6, slave=1)
        if clock.isError():
            print(f"clock read failed: {clock}", file=sys.stderr)
            return 1
        y, mo, d, h, mi, s = clock.registers
        print(f"CLOCK {y + args.year_base:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}", flush=True)

        record = client.read_holding_registers(args.history_address, 2, slave=1)
        if record.isError():
            print(f"history read failed: {record}", file=sys.stderr)
            return 1
        value = struct.unpack(">f", struct.pack(">HH", *record.registers))[0]
        print(f"HISTORY {value!r}", flush=True)
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
