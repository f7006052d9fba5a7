"""The bytes of one checkpoint state file: its layout, checksums, and an atomic write that
spends little of the run's CPU.

Layout (``FORMAT`` 2): ``MAGIC`` and the pickle, then each raw block of memory, every part
starting at a multiple of ``ALIGN`` bytes (zeros between), then a JSON trailer (version tag,
day, each part's size and XXH3-64 checksum), its length and ``END``; the file ends there.

Aligned parts let a block that sits on page boundaries in memory (a running checkpoint's copy
buffers, ``scsim.checkpoint._buffer_like``) go to the disk by direct I/O (``O_DIRECT``): the
device reads it from the process's memory, without a copy into the page cache. At 10 M citizens
of sc-core a save then costs the writing thread 0.02 s of CPU for the write instead of
0.18-0.95 s (``bench/README.md``, session 19). Where direct I/O is refused (tmpfs, another OS;
at opening, or a write refused with EINVAL) or ``$SCSIM_DIRECT_IO`` is 0, the file is written
through the page cache, and its pages leave the cache after the fsync. The bytes are the same.
XXH3 (the ``xxhash`` package) checks 0.55 GB in 0.02 s, CRC-32 in 0.13 s.
"""

from __future__ import annotations

import errno
import fcntl
import json
import mmap
import os
import struct
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xxhash

FORMAT = 2
MAGIC = b"scsim checkpoint\n"
END = b"\nscsim checkpoint end\n"
ALIGN = 4096
"""Every part of a state file starts at a multiple of this many bytes (direct I/O's unit)."""
CHUNK = 64 << 20
"""Bytes written or read at a time."""
BOUNCE = 8 << 20
"""Bytes of the aligned buffer that parts not aligned in memory are copied through."""
TAIL = 8 + len(END)
"""The trailer's length field and ``END``."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be written or resumed; the message names the path and why."""


def checksum(data: memoryview) -> int:
    """XXH3-64 of a block of bytes (releases the interpreter's lock)."""
    return xxhash.xxh3_64_intdigest(data)


def padded(size: int) -> int:
    """``size`` rounded up to a multiple of ``ALIGN``."""
    return -(-size // ALIGN) * ALIGN


def offsets(sizes: Sequence[int]) -> tuple[list[int], int]:
    """Where each part starts (the pickle's part after ``MAGIC``), and where the trailer does."""
    starts, at = [len(MAGIC)], padded(len(MAGIC) + sizes[0])
    for size in sizes[1:]:
        starts.append(at)
        at += padded(size)
    return starts, at


class _Sink:
    """A file written part by part, each part padded with zeros to a multiple of ``ALIGN``;
    by direct I/O when the file was opened for it."""

    def __init__(self, fd: int, direct: bool) -> None:
        self.fd, self.direct, self.at = fd, direct, 0
        self.bounce = memoryview(mmap.mmap(-1, BOUNCE)) if direct else None

    def part(self, data: memoryview, pad: bool = True) -> None:
        """Write ``data`` at the current end, then zeros to the next multiple of ``ALIGN``
        (without ``pad``, the file ends right after ``data``)."""
        size, end = data.nbytes, self.at + (padded(data.nbytes) if pad else data.nbytes)
        if self.direct:
            aligned = _address(data) % ALIGN == 0
            whole = size - size % ALIGN if aligned else 0
            for start in range(0, whole, CHUNK):  # straight from memory
                self._write(data[start : min(start + CHUNK, whole)])
            for start in range(whole, size, BOUNCE):  # the rest through the bounce buffer
                piece = data[start : start + BOUNCE]
                self.bounce[: piece.nbytes] = piece
                stop = padded(piece.nbytes)
                self.bounce[piece.nbytes : stop] = bytes(stop - piece.nbytes)
                self._write(self.bounce[:stop])
        else:
            for start in range(0, size, CHUNK):
                self._write(data[start : start + CHUNK])
            self._write(memoryview(bytes(end - self.at - size)))
        if not pad:  # direct I/O wrote whole units
            os.ftruncate(self.fd, end)
        self.at = end

    def _write(self, data: memoryview) -> None:
        done = 0
        while done < data.nbytes:
            done += os.write(self.fd, data[done:])


def _address(data: memoryview) -> int:
    return np.frombuffer(data, np.uint8).ctypes.data if data.nbytes else 0


def write_parts(path: Path, parts: Sequence[memoryview], trailer: Callable[[list], bytes]) -> None:
    """Write a state file atomically: ``MAGIC``, ``parts`` aligned, then ``trailer(sums)``
    (the JSON of the trailer, given each part's [size, checksum]), its length and ``END``."""

    def write(sink: _Sink) -> None:
        sums = []
        for k, data in enumerate(parts):
            sink.part(memoryview(MAGIC + data) if k == 0 else data)
            sums.append([data.nbytes, checksum(data)])
        text = trailer(sums)
        sink.part(memoryview(text + struct.pack("<Q", len(text)) + END), pad=False)

    write_atomically(path, write, direct=True)


def write_atomically(path: Path, write: Callable, direct: bool = False) -> None:
    """``write(file)`` to a temporary file beside ``path``, fsync it and rename it over, so a
    ``kill -9`` leaves the old file or the new one. With ``direct``, ``write`` gets a ``_Sink``,
    by direct I/O where the file system allows it (``$SCSIM_DIRECT_IO=0``: never); otherwise a
    binary file. Pages written through the page cache leave it after the fsync (the next
    write, or the deletion of the file it replaces, would pay for them)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        try:
            _write_file(tmp, write, direct, direct_io=direct)
        except OSError as e:  # direct writes refused after all: through the page cache
            if not (direct and e.errno == errno.EINVAL):
                raise
            _write_file(tmp, write, direct, direct_io=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # the rename itself reaches the disk
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_file(path: Path, write: Callable, sink: bool, direct_io: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = -1
    if direct_io and hasattr(os, "O_DIRECT") and os.environ.get("SCSIM_DIRECT_IO") != "0":
        try:
            fd = os.open(path, flags | os.O_DIRECT, 0o644)
        except OSError:  # a file system without direct I/O (tmpfs)
            pass
    if fd < 0:
        fd = os.open(path, flags, 0o644)
    try:
        if sink:
            write(_Sink(fd, direct=_is_direct(fd)))
        else:
            with os.fdopen(fd, "wb", closefd=False) as f:
                write(f)
        os.fsync(fd)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _is_direct(fd: int) -> bool:
    return bool(hasattr(os, "O_DIRECT") and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)


def read_trailer(path: Path) -> dict:
    """The trailer of a state file, checked against the file's size."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if f.read(len(MAGIC)) != MAGIC:
                raise CheckpointError(f"{path}: is not a scsim checkpoint state file")
            if size < len(MAGIC) + TAIL:
                raise CheckpointError(f"{path}: is truncated ({size} bytes)")
            f.seek(size - TAIL)
            (length,) = struct.unpack("<Q", f.read(8))
            if f.read(len(END)) != END or length > size - len(MAGIC) - TAIL:
                raise CheckpointError(f"{path}: is truncated or corrupt (no complete trailer)")
            f.seek(size - TAIL - length)
            trailer = json.loads(f.read(length))
            if trailer.get("format") != FORMAT:
                raise CheckpointError(
                    f"{path}: is a checkpoint of format {trailer.get('format')}, but this code "
                    f"reads format {FORMAT}; resume it with the version that wrote it"
                )
            expected = offsets([s for s, _ in trailer["sizes"]])[1] + length + TAIL
    except OSError as e:
        raise CheckpointError(f"{path}: cannot be read ({e.strerror or e})") from None
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, struct.error):
        raise CheckpointError(f"{path}: is corrupt (its trailer does not parse)") from None
    if expected != size:
        raise CheckpointError(
            f"{path}: is truncated or corrupt ({size} bytes; its trailer says {expected})"
        )
    return trailer


def read_parts(path: Path, trailer: dict, into: Sequence[memoryview]) -> bytes:
    """The pickle of a state file, and every raw block read into ``into`` (their sizes are
    checked); ``CheckpointError`` when a checksum does not match."""
    sizes = trailer["sizes"]
    starts, _ = offsets([s for s, _ in sizes])
    with open(path, "rb") as f:
        f.seek(starts[0])
        views = [memoryview(f.read(sizes[0][0]))]
        for view, start, (size, _) in zip(into, starts[1:], sizes[1:], strict=True):
            if view.nbytes != size:
                raise CheckpointError(f"{path}: is corrupt (a block's size does not match)")
            f.seek(start)
            for at in range(0, size, CHUNK):
                f.readinto(view[at : at + CHUNK])
            views.append(view)
    if any(checksum(view) != crc for view, (_, crc) in zip(views, sizes, strict=True)):
        raise CheckpointError(f"{path}: is corrupt (a checksum does not match)")
    return views[0].tobytes()
