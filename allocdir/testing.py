"""Helpers for tests of code built on allocdir."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from .alloc_dir import AllocDir
from .errors import AllocDirError


@contextlib.contextmanager
def temp_alloc_dir(prefix: str = "", alloc_id: str | None = None) -> Iterator[AllocDir]:
    """A built AllocDir in a fresh temporary client root, destroyed on exit
    (Nomad's ``TestAllocDir``)."""
    root = tempfile.mkdtemp(prefix=prefix or "allocdir-")
    alloc = AllocDir(Path(root) / (alloc_id or str(uuid.uuid4())))
    try:
        alloc.build()
        yield alloc
    finally:
        try:
            alloc.destroy()
        except AllocDirError:
            alloc.logger.warning("temp alloc dir %s not fully destroyed", alloc.alloc_dir)
        shutil.rmtree(root, ignore_errors=True)
