"""CRC-64 as Redis computes it (crc64.c): the "Jones" polynomial, reflected.

    width 64, poly 0xad93d23594c935a9, init 0, refin/refout true, xorout 0
    check value: crc64(0, b"123456789") == 0xe9c6d914c4b8d9ca

It covers a whole RDB file (header to EOF opcode) and every DUMP payload (body plus the
2-byte version). A CRC in pure Python costs ~100 ns a byte, so the table-driven C
implementation of `anycrc` does the work (several GB/s). `crc64(data, crc)` continues a
running CRC, so a file can be checksummed chunk by chunk as it streams.
"""
import anycrc

_JONES = anycrc.CRC(width=64, poly=0xAD93D23594C935A9, init=0, refin=True, refout=True,
                    xorout=0)
_calc = _JONES.calc


def crc64(data, crc: int = 0) -> int:
    """CRC-64/Jones of `data` (bytes-like), continuing from `crc` (0 to start)."""
    return _calc(data, crc)


if crc64(b"123456789") != 0xE9C6D914C4B8D9CA:     # the test vector of crc64.c
    raise ImportError("anycrc does not compute Redis's CRC-64/Jones here")
