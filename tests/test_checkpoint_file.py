"""A state file's bytes (``scsim.checkpoint_file``): aligned parts, written by direct I/O or
through the page cache to the same bytes, read back whole, refused when damaged or of another
format."""

from __future__ import annotations

import errno
import json
import mmap
import os

import numpy as np
import pytest

from scsim.checkpoint_file import (
    ALIGN,
    BOUNCE,
    FORMAT,
    CheckpointError,
    _Sink,
    offsets,
    read_parts,
    read_trailer,
    write_parts,
)


def _parts() -> list[np.ndarray]:
    """A pickle-sized part, a block on page boundaries (as a checkpoint's copy buffers are)
    whose size is not a multiple of ``ALIGN``, and one off them larger than the bounce buffer."""
    rng = np.random.default_rng(7)
    aligned = np.frombuffer(mmap.mmap(-1, 3 * ALIGN + 5), np.uint8)
    aligned[:] = rng.integers(0, 256, aligned.size, dtype=np.uint8)
    loose = rng.integers(0, 256, BOUNCE + 3 * ALIGN + 11, dtype=np.uint8)[1:]
    return [rng.integers(0, 256, 1001, dtype=np.uint8), aligned, loose]


def _write(path, parts, form: int = FORMAT) -> None:
    write_parts(
        path,
        [memoryview(p) for p in parts],
        lambda sums: json.dumps({"format": form, "sizes": sums}).encode(),
    )


def _read(path) -> list[np.ndarray]:
    trailer = read_trailer(path)
    blocks = [np.empty(size, np.uint8) for size, _ in trailer["sizes"][1:]]
    body = read_parts(path, trailer, [memoryview(b) for b in blocks])
    return [np.frombuffer(body, np.uint8), *blocks]


@pytest.mark.parametrize("direct", ["1", "0"])
def test_parts_come_back_whole_from_aligned_offsets(tmp_path, monkeypatch, direct):
    monkeypatch.setenv("SCSIM_DIRECT_IO", direct)
    parts = _parts()
    _write(tmp_path / "s.bin", parts)
    for wrote, read in zip(parts, _read(tmp_path / "s.bin"), strict=True):
        assert np.array_equal(wrote, read)
    starts, _ = offsets([p.size for p in parts])
    assert [s % ALIGN for s in starts[1:]] == [0, 0]
    raw = (tmp_path / "s.bin").read_bytes()
    assert raw[starts[2] : starts[2] + parts[2].size] == parts[2].tobytes()


def test_direct_io_and_the_page_cache_write_the_same_bytes(tmp_path, monkeypatch):
    parts = _parts()
    for direct in ("1", "0"):
        monkeypatch.setenv("SCSIM_DIRECT_IO", direct)
        _write(tmp_path / f"{direct}.bin", parts)
    assert (tmp_path / "1.bin").read_bytes() == (tmp_path / "0.bin").read_bytes()


def test_direct_writes_are_whole_units_and_aligned_blocks_go_straight_from_memory(
    tmp_path, monkeypatch
):
    # direct I/O refuses (EINVAL) a write whose address, length or file offset is not a
    # multiple of the device's unit; the writes are recorded on an ordinary file
    writes = []

    def record(sink, data):
        address = np.frombuffer(data, np.uint8).ctypes.data
        writes.append((address, data.nbytes, os.lseek(sink.fd, 0, os.SEEK_CUR)))
        os.write(sink.fd, data)

    monkeypatch.setattr(_Sink, "_write", record)
    parts = _parts()
    fd = os.open(tmp_path / "s.bin", os.O_WRONLY | os.O_CREAT, 0o644)
    sink = _Sink(fd, direct=True)
    for p in parts:
        sink.part(memoryview(p))
    os.close(fd)
    assert writes and all(a % ALIGN == 0 and n % ALIGN == 0 and at % ALIGN == 0
                          for a, n, at in writes)  # fmt: skip
    assert (parts[1].ctypes.data, 3 * ALIGN, ALIGN) in writes  # no copy of the aligned block


def test_a_file_system_that_refuses_direct_writes_gets_the_same_file(tmp_path, monkeypatch):
    parts = _parts()
    _write(tmp_path / "direct.bin", parts)
    write = _Sink._write

    def refuse(sink, data):
        if sink.direct:
            raise OSError(errno.EINVAL, "Invalid argument")
        write(sink, data)

    monkeypatch.setattr(_Sink, "_write", refuse)
    _write(tmp_path / "refused.bin", parts)
    assert (tmp_path / "refused.bin").read_bytes() == (tmp_path / "direct.bin").read_bytes()
    assert not list(tmp_path.glob("*.tmp"))


def test_a_changed_byte_is_found(tmp_path):
    parts = _parts()
    _write(tmp_path / "s.bin", parts)
    starts, _ = offsets([p.size for p in parts])
    with open(tmp_path / "s.bin", "r+b") as f:
        f.seek(starts[1] + 2)
        byte = f.read(1)
        f.seek(starts[1] + 2)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(CheckpointError, match="a checksum does not match"):
        _read(tmp_path / "s.bin")


def test_a_file_of_another_format_is_named(tmp_path):
    _write(tmp_path / "old.bin", _parts(), form=1)
    with pytest.raises(CheckpointError, match="format 1, but this code reads format 2"):
        read_trailer(tmp_path / "old.bin")
