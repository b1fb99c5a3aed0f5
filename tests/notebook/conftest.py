"""Fixtures for the notebook front-end: allocations with hostile names,
secrets, FIFOs and big sparse files, and an fs that counts what is read."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from allocdir import AllocDir
from allocdir.testing import temp_alloc_dir

try:
    # Imported once up front: ipywidgets is slow to import the first time.
    from inspector.notebook._ui import widgets

    widgets()
except ImportError:
    pass

SECRET = "s.must-never-be-shown-4242"
HOSTILE_NAMES = [
    "<script>alert('x')<\\script>",
    '"quoted" & \'single\'',
    "title\x1b]0;pwned\x07",
    "new\nline",
    "bidi\u202etxt.exe",
    os.fsdecode(b"bad-\xff-utf8"),
]


@pytest.fixture
def alloc() -> Iterator[AllocDir]:
    """A built alloc dir with a task `web`: files, a secret, a FIFO, logs."""
    with temp_alloc_dir(prefix="nb-") as built:
        web = built.new_task_dir("web")
        web.build()
        root = built.alloc_dir
        _write(f"{root}/web/local/config.json", '{"listen": 8080}\n')
        _write(f"{root}/web/local/blob.bin", bytes(range(256)) * 64)
        _write(f"{root}/web/secrets/token", SECRET + "\n")
        _write(f"{root}/alloc/logs/web.stdout.0",
               "".join(f"line {n:04d} of the web task\n" for n in range(1, 301)))
        _write(f"{root}/alloc/logs/web.stderr.0", "\x1b[31mred\x1b[0m warning\n")
        os.mkfifo(f"{root}/alloc/logs/.web.stdout.fifo")
        yield built


def _write(path: str, content: str | bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(content, bytes) else "w") as f:
        f.write(content)


def make_sparse(path: str, size: int, head: bytes, tail: bytes) -> None:
    """A file of ``size`` bytes that takes no disk: ``head``, a hole, ``tail``."""
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size - len(tail))
        f.seek(size - len(tail))
        f.write(tail)


class CountingFile:
    """A file handle that adds every byte read to its fs's count."""

    def __init__(self, fh, fs: "CountingFS") -> None:
        self._fh, self._fs = fh, fs

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self._fs.add(len(data))
        return data

    def readline(self, limit: int = -1) -> bytes:
        data = self._fh.readline(limit)
        self._fs.add(len(data))
        return data

    def __getattr__(self, name: str):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()


class CountingFS:
    """An AllocDirFS that delegates to an AllocDir and counts bytes read."""

    def __init__(self, alloc: AllocDir) -> None:
        self.alloc = alloc
        self.alloc_id = alloc.alloc_id
        self.bytes_read = 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.bytes_read += n

    def read_at(self, path: str, offset: int):
        return CountingFile(self.alloc.read_at(path, offset), self)

    def __getattr__(self, name: str):
        return getattr(self.alloc, name)
