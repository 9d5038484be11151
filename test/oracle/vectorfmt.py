"""An independent model of Vector's on-disk formats, for tests that compare the TypeScript code against it.

Written apart from src/vector/ on purpose (another language, another shape), so that a misreading of Vector's rules
would have to be made twice to pass. Facts, from Vector's lib/file-source:
- fingerprint: CRC-64/ECMA-182 (poly 0x42F0E1EBA9EA3693, init 0, no reflection, no final xor) over the file's bytes
  up to and including the first newline, read from the decompressed stream of a gzip file, and capped at
  max_line_bytes (kubernetes_logs: 32 KiB). Fewer than 2 bytes, or no newline within the cap while the file is
  shorter than the cap: not ready yet.
- checkpoints.json v1: {"version":"1","checkpoints":[{"fingerprint":{...},"position":u64,"modified":RFC 3339}]};
  strict_parse refuses what Vector >= 0.51 refuses.
"""
import gzip
import json
import re

_POLY = 0x42F0E1EBA9EA3693
_U64 = 0xFFFFFFFFFFFFFFFF


def _table_entry(byte):
    reg = byte << 56
    for _ in range(8):
        carry = reg >> 63
        reg = (reg << 1) & _U64
        if carry:
            reg ^= _POLY
    return reg


_TABLE = tuple(_table_entry(b) for b in range(256))


def crc64(data):
    reg = 0
    for byte in data:
        reg = _TABLE[(reg >> 56) ^ byte] ^ ((reg << 8) & _U64)
    return reg


if crc64(b"123456789") != 0x6C40DF5F0B497347:  # the catalogue's check value
    raise AssertionError("crc64 check value")


def _head(path, cap):
    with open(path, "rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
    if gz:
        with gzip.open(path, "rb") as stream:
            return stream.read(cap)
    with open(path, "rb") as stream:
        return stream.read(cap)


def fingerprint(path, max_line_bytes=32768, lines=1):
    """The checksum as an int, or None while the file is not ready to be fingerprinted."""
    data = _head(path, max_line_bytes)
    if len(data) < 2:
        return None
    end = -1
    for _ in range(lines):
        end = data.find(b"\n", end + 1)
        if end < 0:
            break
    if end >= 0:
        return crc64(data[: end + 1])
    return crc64(data) if len(data) >= max_line_bytes else None


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")


def _u64(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _U64


def _key(fp):
    if not isinstance(fp, dict) or len(fp) != 1:
        raise ValueError("fingerprint needs exactly one variant: %r" % (fp,))
    variant, value = next(iter(fp.items()))
    if variant in ("first_lines_checksum", "first_line_checksum"):
        if not _u64(value):
            raise ValueError("checksum is not a u64: %r" % (value,))
        return ("flc", value)
    if variant == "dev_inode":
        if not (isinstance(value, list) and len(value) == 2 and all(_u64(v) for v in value)):
            raise ValueError("dev_inode is not two u64: %r" % (value,))
        return ("di", value[0], value[1])
    raise ValueError("variant refused by Vector >= 0.51: %s" % variant)


def strict_parse(text):
    """{key: (position, modified)}; raises ValueError where Vector >= 0.51 refuses the file."""
    doc = json.loads(text)  # Python ints are exact: u64 survives
    if not isinstance(doc, dict) or doc.get("version") != "1":
        raise ValueError('version must be "1"')
    entries = doc.get("checkpoints")
    if not isinstance(entries, list):
        raise ValueError("checkpoints must be a list")
    parsed = {}
    for entry in entries:
        key = _key(entry.get("fingerprint"))
        position, modified = entry.get("position"), entry.get("modified")
        if not _u64(position):
            raise ValueError("position is not a u64: %r" % (position,))
        if not (isinstance(modified, str) and _RFC3339.fullmatch(modified)):
            raise ValueError("modified is not RFC 3339: %r" % (modified,))
        parsed[key] = (position, modified)
    return parsed


def doc(entries):
    """(fingerprint dict, position, modified) triples -> checkpoints.json text, compact as Vector writes it."""
    body = [{"fingerprint": fp, "position": pos, "modified": mod} for fp, pos, mod in entries]
    return json.dumps({"version": "1", "checkpoints": body}, separators=(",", ":"))
