"""The MATLAB v5 reader: every numeric class, compressed or not, as scipy writes them;
cells and strings skipped by name; damage (fuzzed bytes, absurd sizes) is a
MatFormatError, never a crash (scipy.io.loadmat can segfault on such files)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st

from motionvigil.io.matv5 import MatFormatError, read_mat_arrays


def _mat(compress: bool, **variables) -> bytes:
    buf = io.BytesIO()
    scipy.io.savemat(buf, variables, do_compression=compress)
    return buf.getvalue()


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", ["f8", "f4", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8"])
def test_numeric_arrays_read_as_scipy_writes_them(compress, dtype):
    arr = (np.arange(60) % 50).astype(dtype).reshape(4, 3, 5)
    out = read_mat_arrays(_mat(compress, d_skel=arr, label="punch", cell=np.array([1, "a"], dtype=object)))
    assert out["d_skel"].dtype == np.dtype(dtype) and np.array_equal(out["d_skel"], arr)
    assert out["label"] is None and out["cell"] is None


def test_headerless_and_bad_endian_files_are_refused():
    with pytest.raises(MatFormatError, match="MATLAB v5"):
        read_mat_arrays(b"hello")
    raw = bytearray(_mat(False, x=np.ones(3)))
    raw[126:128] = b"XX"
    with pytest.raises(MatFormatError, match="endian"):
        read_mat_arrays(bytes(raw))


def test_absurd_sizes_are_refused_without_allocating():
    raw = bytearray(_mat(False, x=np.ones((2, 2))))
    struct.pack_into("<I", raw, 132, 2**31)  # the matrix element claims 2 GB
    with pytest.raises(MatFormatError, match="claims"):
        read_mat_arrays(bytes(raw))
    packer, chunk = zlib.compressobj(9), b"\0" * 2**20
    bomb = b"".join(packer.compress(chunk) for _ in range(600)) + packer.flush()  # 600 MB of zeros, deflated
    head = raw[:128] + struct.pack("<II", 15, len(bomb)) + bomb
    with pytest.raises(MatFormatError, match="inflates beyond"):
        read_mat_arrays(bytes(head))


_VALID = _mat(True, d_skel=np.arange(60.0).reshape(20, 3, 1))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, len(_VALID)))
def test_damaged_bytes_give_arrays_or_mat_format_error(edits, cut):
    raw = bytearray(_VALID)
    for pos, value in edits:
        raw[pos] = value
    try:
        out = read_mat_arrays(bytes(raw[:cut]))
    except MatFormatError as exc:
        assert "\n" not in str(exc)
        return
    assert all(v is None or isinstance(v, np.ndarray) for v in out.values())
