#!/usr/bin/python3
"""A Modbus TCP peer we did not write: Debian's pymodbus (3.0.0rc1) serving the Janitza UMG
float block (holding registers 19000..19121, float32 big-endian ABCD, 0-based) with fixed
known values. Prints "READY <port>" on stdout once listening (--port 0 picks a free port).

Known values: U L-N 230.0 V, U L-L 398.0 V, I 10.0 A, cos phi 0.9, per phase
P = U*I*cos = 2070.0 W, S = U*I = 2300.0 VA, Q = sqrt(S^2-P^2), frequency 50.0 Hz,
energies 1000000.0 Wh (19060, 19068) and 0.0 Wh export (19076). Answers unit id 1 only.
"""
import argparse
import asyncio
import math
import struct
import sys
import types

# pymodbus imports pyserial and serial_asyncio even for TCP-only use, but Debian's
# python3-pymodbus only recommends them. The TCP server never touches them: stub what's missing.
for _name in ("serial", "serial_asyncio"):
    try:
        __import__(_name)
    except ImportError:
        _stub = types.ModuleType(_name)
        _stub.create_serial_connection = None
        sys.modules[_name] = _stub

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server.async_io import ModbusTcpServer

U, ULL, I, COS, F, E = 230.0, 398.0, 10.0, 0.9, 50.0, 1000000.0
P = U * I * COS
S = U * I
Q = math.sqrt(S * S - P * P)

VALUES = {
    19000: U, 19002: U, 19004: U,
    19006: ULL, 19008: ULL, 19010: ULL,
    19012: I, 19014: I, 19016: I, 19018: 3 * I,
    19020: P, 19022: P, 19024: P, 19026: 3 * P,
    19028: S, 19030: S, 19032: S, 19034: 3 * S,
    19036: Q, 19038: Q, 19040: Q, 19042: 3 * Q,
    19044: COS, 19046: COS, 19048: COS,
    19050: F, 19052: 1.0,
    19060: E, 19068: E, 19076: 0.0,
}


def f32(value):
    """float -> two registers, high word first (ABCD)."""
    return list(struct.unpack(">HH", struct.pack(">f", value)))


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    regs = [0] * 122
    for address, value in VALUES.items():
        regs[address - 19000:address - 19000 + 2] = f32(value)
    # zero_mode: addresses are protocol addresses (no +1 shift).
    store = ModbusSlaveContext(hr=ModbusSequentialDataBlock(19000, regs), zero_mode=True)
    context = ModbusServerContext(slaves={1: store}, single=False)
    server = ModbusTcpServer(context, address=(args.host, args.port), allow_reuse_address=True)
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    port = server.server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    await task


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
