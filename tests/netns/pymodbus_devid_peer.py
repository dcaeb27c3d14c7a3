#!/usr/bin/python3
"""A Modbus TCP meter we did not write that does not speak the Wattline discovery protocol:
Debian's pymodbus serving unit 1 with FC43/14 device identification (vendor name, product code,
revision as given) and the Janitza float block (holding registers 19000..19121, 0-based, 50.0
at 19050). Prints "READY <port>" once listening."""
import argparse
import asyncio
import struct
import sys
import types

# pymodbus imports pyserial modules even for TCP only; stub them when missing (as tests/peers).
for _name in ("serial", "serial_asyncio"):
    try:
        __import__(_name)
    except ImportError:
        _stub = types.ModuleType(_name)
        _stub.create_serial_connection = None
        sys.modules[_name] = _stub

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.device import ModbusDeviceIdentification
from pymodbus.server.async_io import ModbusTcpServer


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--vendor", default="Janitza")
    parser.add_argument("--product", default="UMG 604-PRO")
    parser.add_argument("--revision", default="5.1")
    args = parser.parse_args()

    regs = [0] * 122
    regs[50:52] = struct.unpack(">HH", struct.pack(">f", 50.0))
    store = ModbusSlaveContext(hr=ModbusSequentialDataBlock(19000, regs), zero_mode=True)
    context = ModbusServerContext(slaves={1: store}, single=False)
    identity = ModbusDeviceIdentification(info_name={
        "VendorName": args.vendor, "ProductCode": args.product, "MajorMinorRevision": args.revision})
    server = ModbusTcpServer(context, identity=identity, address=(args.host, args.port),
                             allow_reuse_address=True)
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    print(f"READY {server.server.sockets[0].getsockname()[1]}", flush=True)
    await task


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
