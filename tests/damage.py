"""Damaged copies of valid files, for the readers' hostile-input property tests."""

from __future__ import annotations

from hypothesis import strategies as st


def damaged(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    """Apply truncations, byte flips, deletions and insertions (positions taken modulo the length)."""
    buf = bytearray(data)
    for kind, position, value in ops:
        if not buf:
            break
        i = position % len(buf)
        if kind == "truncate":
            del buf[i:]
        elif kind == "flip":
            buf[i] = value
        elif kind == "delete":
            del buf[i]
        else:
            buf.insert(i, value)
    return bytes(buf)


def damage_ops(text_bytes: bytes = b"0123456789.-+eE \t\nnaif"):
    """Lists of 1-4 damage operations; inserted or flipped bytes favour ``text_bytes``
    (what a text format is made of), then NUL, 0xFF and any byte."""
    return st.lists(
        st.tuples(
            st.sampled_from(["truncate", "flip", "flip", "flip", "delete", "insert"]),
            st.integers(0, 10**6),
            st.sampled_from([*text_bytes, 0, 0xFF, 0x0C, 0x85]) | st.integers(0, 255),
        ),
        min_size=1,
        max_size=4,
    )
