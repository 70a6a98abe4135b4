"""A Chrome extension package (CRX3) as the service serves it for self-hosted updates: its
extension id (from the signed header) and its version (from the manifest inside). Pure parsing.

The id of an extension is the first 16 bytes of the SHA-256 of its public key, written with the
letters a to p; a CRX carries it in its signed header, and an unpacked extension gets it from the
manifest's `key`.
"""

import base64
import hashlib
import io
import json
import struct
import zipfile
from dataclasses import dataclass

MAGIC = b"Cr24"


class CrxError(ValueError):
    """Not a CRX3 package this can read (the message says what is wrong)."""


@dataclass(frozen=True, slots=True)
class Package:
    extension_id: str
    version: str


def id_from_bytes(digest16: bytes) -> str:
    return "".join("abcdefghijklmnop"[int(c, 16)] for c in digest16.hex())


def id_from_public_key(der: bytes) -> str:
    """The extension id of a public key (DER SubjectPublicKeyInfo)."""
    return id_from_bytes(hashlib.sha256(der).digest()[:16])


def id_from_manifest_key(key: str) -> str:
    """The extension id of a manifest's `key` (the public key, base64 DER)."""
    return id_from_public_key(base64.b64decode(key))


def _fields(data: bytes) -> list[tuple[int, bytes | int]]:
    """The top-level fields of a protobuf message: (field number, bytes or varint)."""
    out: list[tuple[int, bytes | int]] = []
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            if i >= len(data) or shift > 63:
                raise CrxError("the CRX header is truncated")
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while i < len(data):
        tag = varint()
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            out.append((number, varint()))
        elif wire == 2:
            length = varint()
            if i + length > len(data):
                raise CrxError("the CRX header is truncated")
            out.append((number, data[i : i + length]))
            i += length
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise CrxError("the CRX header is not a protobuf message")
    return out


def read_package(data: bytes) -> Package:
    if data[:4] != MAGIC or len(data) < 12:
        raise CrxError("not a CRX file (it does not start with Cr24)")
    version, header_size = struct.unpack("<II", data[4:12])
    if version != 3:
        raise CrxError(f"a CRX version {version} file: only CRX3 is read (Chrome 64 and later)")
    header = data[12 : 12 + header_size]
    signed = [v for n, v in _fields(header) if n == 10000 and isinstance(v, bytes)]
    crx_id = [v for n, v in _fields(signed[0]) if n == 1 and isinstance(v, bytes)] if signed else []
    if not crx_id or len(crx_id[0]) != 16:
        raise CrxError("the CRX header carries no extension id")
    try:
        with zipfile.ZipFile(io.BytesIO(data[12 + header_size :])) as archive:
            manifest = json.loads(archive.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CrxError(f"the CRX holds no readable manifest.json ({exc})") from None
    return Package(id_from_bytes(crx_id[0]), str(manifest.get("version", "")))
