#!/usr/bin/python3
"""Writes the discovery protocol corpus (valid_*.bin, bad_*.bin) from docs/discovery.md alone,
independently of the C++ codec. Run from this folder: /usr/bin/python3 make_corpus.py"""
import struct


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def datagram(msg_type, body, nonce=0x1122334455667788, version=1, magic=b"WLDP", fix_len=None):
    head = magic + bytes([version, msg_type]) + struct.pack(">H", len(body) if fix_len is None else fix_len)
    head += struct.pack(">Q", nonce)
    data = head + body
    return data + struct.pack(">I", crc32c(data))


def field(tag, value):
    return bytes([tag]) + struct.pack(">H", len(value)) + value


def endpoint(ip, port, units=None, profile=None):
    v = field(0x01, bytes(int(x) for x in ip.split("."))) + field(0x02, struct.pack(">H", port))
    if units is not None:
        v += field(0x03, bytes(units))
    if profile is not None:
        v += field(0x04, profile.encode())
    return field(0x10, v)


meter = (field(0x01, b"\x01") + field(0x02, b"Janitza") + field(0x03, b"UMG 96RM-E") +
         field(0x04, b"70000002") + field(0x05, b"meter-01") +
         endpoint("10.211.0.11", 502, [1], "janitza-umg96rm-e"))
gateway = (field(0x01, b"\x02") + field(0x05, b"gateway:5020") +
           endpoint("0.0.0.0", 5020, [1], "eastron-sdm630") + endpoint("0.0.0.0", 5020, [2, 3]))
files = {
    "valid_query.bin": datagram(1, b""),
    "valid_query_meters.bin": datagram(1, field(0x01, b"\x01")),
    "valid_answer_meter.bin": datagram(2, meter),
    "valid_answer_gateway.bin": datagram(2, gateway),
    "valid_answer_future_fields.bin": datagram(2, field(0x60, b"later") + meter + field(0xFF, b"")),
    "bad_magic.bin": datagram(1, b"", magic=b"WLDQ"),
    "bad_version.bin": datagram(1, b"", version=2),
    "bad_type.bin": datagram(9, b""),
    "bad_checksum.bin": datagram(2, meter)[:-1] + b"\x00",
    "bad_truncated.bin": datagram(2, meter)[:30],
    "bad_body_length.bin": datagram(2, meter, fix_len=len(meter) + 1),
    "bad_field_overrun.bin": datagram(2, field(0x01, b"\x01") + b"\x02\x01\x00abc"),
    "bad_repeated_kind.bin": datagram(2, field(0x01, b"\x01") + field(0x01, b"\x01")),
    "bad_kind_zero.bin": datagram(2, field(0x01, b"\x00")),
    "bad_no_kind.bin": datagram(2, field(0x02, b"Janitza")),
    "bad_control_char.bin": datagram(2, field(0x01, b"\x01") + field(0x03, b"UMG\x1b[2J")),
    "bad_endpoint_no_port.bin": datagram(2, field(0x01, b"\x01") + field(0x10, field(0x01, b"\x0a\x00\x00\x01"))),
    "bad_endpoint_port_zero.bin": datagram(2, field(0x01, b"\x01") + endpoint("10.0.0.1", 0)),
    "bad_empty.bin": b"",
}
for name, data in files.items():
    with open(name, "wb") as f:
        f.write(data)
