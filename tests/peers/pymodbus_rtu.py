#!/usr/bin/python3
"""A Modbus RTU peer we did not write: Debian's pymodbus serial server (RTU framer, pyserial)
on a serial device, e.g. one end of a socat pseudo-terminal pair, serving the same Janitza UMG
float block as pymodbus_umg.py on unit 1. Prints "READY" on stdout once the port is open.
"""
import argparse
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pymodbus_umg  # noqa: E402  (the register values, and the stubs for missing modules)

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext  # noqa: E402
from pymodbus.server.async_io import ModbusSerialServer  # noqa: E402
from pymodbus.transaction import ModbusRtuFramer  # noqa: E402


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", required=True)
    parser.add_argument("--baud", type=int, default=9600)
    args = parser.parse_args()

    regs = [0] * 122
    for address, value in pymodbus_umg.VALUES.items():
        regs[address - 19000:address - 19000 + 2] = pymodbus_umg.f32(value)
    store = ModbusSlaveContext(hr=ModbusSequentialDataBlock(19000, regs), zero_mode=True)
    context = ModbusServerContext(slaves={1: store}, single=False)
    server = ModbusSerialServer(context, framer=ModbusRtuFramer, port=args.device,
                                baudrate=args.baud, bytesize=8, parity="N", stopbits=1,
                                timeout=0.05)
    await server.start()
    print("READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
