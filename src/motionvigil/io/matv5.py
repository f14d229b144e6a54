"""A small, defensive reader of MATLAB v5 ``.mat`` files: numeric arrays only.

``scipy.io.loadmat`` parses variable headers in C and can crash the whole process on a
damaged file (seen on fuzzed UTD-MHAD files: a segmentation fault inside
``read_var_array``), which a reader of user files must never do. This module walks the
file in Python with every length checked against what is left, so damage gives a
:class:`MatFormatError`, never a crash or an unbounded allocation. It reads what motion
files hold: real numeric matrices (any of MATLAB's numeric classes), zlib-compressed
or not, little- or big-endian; other variables (cells, structs, strings, sparse,
complex) are listed by name and skipped.

Format facts (MATLAB's "MAT-File Format" document, level 5): a 128-byte header whose
last two bytes are ``IM`` (little-endian) or ``MI`` (big-endian); then data elements,
each an 8-byte tag (type, byte count) or a 4-byte "small element" tag, padded to 8
bytes; ``miCOMPRESSED`` (15) holds one zlib-deflated element; ``miMATRIX`` (14) holds
array flags, dimensions, a name and the real part, stored column-major.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

MI_MATRIX, MI_COMPRESSED = 14, 15
MI_DTYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
MX_CLASSES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
MAX_ELEMENTS = 50_000_000  # values per array: a motion file is far smaller
MAX_INFLATED = 512 * 2**20  # bytes one compressed element may inflate to


class MatFormatError(ValueError):
    """The file is not a readable MATLAB v5 file (one line saying why)."""


def _tag(buf: bytes, pos: int, order: str) -> tuple[int, int, int]:
    """``(type, nbytes, data_start)`` of the element at ``pos``."""
    if pos + 8 > len(buf):
        raise MatFormatError(f"truncated element tag at byte {pos}")
    first, second = struct.unpack_from(order + "II", buf, pos)
    if first >> 16:  # small data element: type and size in 4 bytes, data in the next 4
        return first & 0xFFFF, first >> 16, pos + 4
    return first, second, pos + 8


def _element(buf: bytes, pos: int, order: str) -> tuple[int, bytes, int]:
    """``(type, data, next_pos)`` of the element at ``pos``."""
    kind, size, start = _tag(buf, pos, order)
    if start + size > len(buf):
        raise MatFormatError(f"element at byte {pos} claims {size} bytes, {len(buf) - start} left")
    data = buf[start : start + size]
    if start - pos == 4:
        return kind, data, pos + 8
    end = start + size
    return kind, data, end if kind == MI_COMPRESSED else end + (-size % 8)


def _inflate(data: bytes) -> bytes:
    try:
        d = zlib.decompressobj()
        out = d.decompress(data, MAX_INFLATED)
    except zlib.error as exc:
        raise MatFormatError(f"corrupt compressed element ({exc})") from None
    if d.unconsumed_tail:
        raise MatFormatError(f"a compressed element inflates beyond {MAX_INFLATED // 2**20} MB")
    return out


def _numeric(kind: int, data: bytes, order: str) -> np.ndarray:
    if kind not in MI_DTYPES:
        raise MatFormatError(f"unsupported numeric data type {kind}")
    dtype = np.dtype(order + MI_DTYPES[kind])
    if len(data) % dtype.itemsize:
        raise MatFormatError("numeric data is not a whole number of values")
    return np.frombuffer(data, dtype=dtype)


def _matrix(data: bytes, order: str) -> tuple[str, np.ndarray | None]:
    """``(name, array)`` of an miMATRIX element's contents; array None if not real numeric."""
    pos = 0
    kind, flags, pos = _element(data, pos, order)
    if kind != 6 or len(flags) < 8:
        raise MatFormatError("matrix without array flags")
    word = struct.unpack_from(order + "I", flags, 0)[0]
    mx_class, is_complex = word & 0xFF, bool(word & 0x800)
    kind, dims_raw, pos = _element(data, pos, order)
    dims = [int(d) for d in _numeric(kind, dims_raw, order)]
    if len(dims) < 2 or min(dims) < 0:
        raise MatFormatError(f"bad matrix dimensions {dims}")
    kind, name_raw, pos = _element(data, pos, order)
    name = name_raw.decode("latin-1")
    if mx_class not in MX_CLASSES or is_complex:
        return name, None
    count = int(np.prod(dims, dtype=np.int64))
    if count > MAX_ELEMENTS:
        raise MatFormatError(f"variable {name!r} claims {count} values")
    kind, real, pos = _element(data, pos, order)
    values = _numeric(kind, real, order)
    if values.size != count:
        raise MatFormatError(f"variable {name!r}: {values.size} values for dimensions {dims}")
    return name, values.astype(MX_CLASSES[mx_class]).reshape(dims, order="F")


def read_mat_arrays(raw: bytes) -> dict[str, np.ndarray | None]:
    """Variables of a MATLAB v5 file's bytes: name -> array (``None`` for a variable that
    is not a real numeric matrix).

    Raises:
        MatFormatError: not MATLAB v5, or damaged.
    """
    if len(raw) < 128 or not raw.startswith(b"MATLAB 5.0 MAT-file"):
        raise MatFormatError("not a MATLAB v5 .mat file (no 'MATLAB 5.0 MAT-file' header)")
    order = {b"IM": "<", b"MI": ">"}.get(raw[126:128])
    if order is None:
        raise MatFormatError("bad endian indicator in the MATLAB header")
    out: dict[str, np.ndarray | None] = {}
    pos = 128
    while pos < len(raw):
        if len(raw) - pos < 8 and not raw[pos:].strip(b"\0"):
            break  # trailing padding
        kind, data, pos = _element(raw, pos, order)
        if kind == MI_COMPRESSED:
            kind, data, _ = _element(_inflate(data), 0, order)
        if kind == MI_MATRIX:
            name, array = _matrix(data, order)
            out[name] = array
    return out
