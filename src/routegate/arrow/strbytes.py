"""The bytes of an Arrow string column as numpy words, for hashing strings vectorised over the column:
``plan.traffic_draw``'s SipHash and ``string_keys``, which proves a million ids distinct without
sorting the strings (``suite``'s duplicate-id check)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def string_words(strings: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(words, start, length): the column's UTF-8 bytes as little-endian uint64 words, padded so that
    any 8 bytes can be read as two words (:func:`bytes_at`), and each string's first byte and its
    length in bytes (int64). A null's bytes are whatever its slot holds (usually none: Arrow allows
    any), so callers that care fill nulls first."""
    if strings.type not in (pa.string(), pa.large_string()):
        strings = strings.cast(pa.string())
    _, offset_buffer, data_buffer = strings.buffers()
    width = np.int64 if strings.type == pa.large_string() else np.int32
    offsets = np.frombuffer(
        offset_buffer, dtype=width, count=len(strings) + 1, offset=strings.offset * width().itemsize
    )
    raw = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    padded = np.zeros((raw.size // 8 + 2) * 8, dtype=np.uint8)
    padded[: raw.size] = raw
    return padded.view("<u8"), offsets[:-1].astype(np.int64), np.diff(offsets).astype(np.int64)


def bytes_at(words: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The 8 bytes starting at byte ``pos`` (any alignment), as little-endian uint64: two aligned words."""
    shift = (pos & 7).astype(np.uint64) * np.uint64(8)
    low, high = words[pos >> 3], words[(pos >> 3) + 1]
    # ``high << (64 - shift)`` in two steps: a shift by 64 is not defined, and must give 0 here.
    return np.asarray((low >> shift) | ((high << (np.uint64(63) - shift)) << np.uint64(1)), dtype=np.uint64)


def low_bytes(word: np.ndarray, count: np.ndarray) -> np.ndarray:
    """``word`` with only its ``count`` low bytes kept (``count`` in 0..7; 8 or more keeps all), in place."""
    keep = np.where(
        count >= 8,
        np.uint64(0xFFFFFFFFFFFFFFFF),
        (np.uint64(1) << (count.astype(np.uint64) * np.uint64(8))) - np.uint64(1),
    )
    word &= keep
    return word


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xBF58476D1CE4E5B9)
KEY_CHUNK = 1 << 15
"""Strings keyed together: a dozen passes over each chunk's arrays stay in the CPU's L2 cache."""


def string_keys(strings: pa.Array) -> np.ndarray:
    """A 64-bit key per string (uint64), a function of its bytes alone: equal strings have equal keys,
    so distinct keys prove the strings distinct (equal keys prove nothing: a hash, not an encoding).

    Each 8-byte block of a string is mixed into its key in turn (SplitMix64's multiply and shift),
    all strings of a chunk at once per block: one block for ids of up to 8 bytes.
    """
    words, start, length = string_words(strings)
    out = np.empty(length.size, dtype=np.uint64)
    for lo in range(0, length.size, KEY_CHUNK):
        part = slice(lo, lo + KEY_CHUNK)
        out[part] = _keys_chunk(words, start[part], length[part])
    return out


def _keys_chunk(words: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    key = length.astype(np.uint64) * _GOLDEN
    blocks = (length + 7) >> 3
    for block in range(int(blocks.max()) if length.size else 0):
        rows = None if bool((blocks > block).all()) else np.flatnonzero(blocks > block)
        at = start + 8 * block if rows is None else start[rows] + 8 * block
        left = length - 8 * block if rows is None else length[rows] - 8 * block
        mixed = (key if rows is None else key[rows]) ^ low_bytes(bytes_at(words, at), left)
        mixed *= _MIX
        mixed ^= mixed >> np.uint64(31)
        if rows is None:
            key = mixed
        else:
            key[rows] = mixed
    return key
