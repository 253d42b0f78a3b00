#!/usr/bin/env python3
"""pad_module.py SRC DST BYTES - DST is the module SRC with a custom section
(id 0, name "pad") of BYTES zero bytes appended: still a valid module, as
large as a test needs."""
import sys


def leb128(n):
    out = b''
    while True:
        b = n & 0x7f
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


src, dst, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, 'rb').read()
section = b'\x03pad' + b'\0' * size
open(dst, 'wb').write(data + b'\x00' + leb128(len(section)) + section)
