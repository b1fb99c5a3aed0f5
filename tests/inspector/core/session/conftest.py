"""A reader session on a real alloc dir, run by the inline executor: every
job runs at once in the test's thread (follow lanes in threads, their
frames delivered when the test waits for them)."""

from __future__ import annotations

import os

import pytest

from inspector.core.session import InlineExecutor, ReaderSession

LOGS = "alloc/logs"


class Reader:
    """A session, its executor and every frame it handed out."""

    def __init__(self, alloc, **options) -> None:
        self.alloc = alloc
        self.executor = InlineExecutor()
        self.frames = []
        options.setdefault("width", 80)
        options.setdefault("height", 10)
        self.session = ReaderSession(self.executor, self.frames.append, **options)

    def __getattr__(self, name):
        return getattr(self.session, name)

    @property
    def lines(self) -> list[str]:
        return self.session.frame.lines

    @property
    def notice(self) -> str:
        return self.session.status.notice

    def write(self, rel: str, data: bytes, mode: str = "wb") -> str:
        path = os.path.join(self.alloc.alloc_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, mode) as fh:
            fh.write(data)
        return path

    def wait(self, predicate, timeout: float = 10.0, what: str = "") -> None:
        """Deliver what the follow threads hand over until ``predicate()``."""
        self.executor.wait_until(predicate, timeout,
                                 what or f"{predicate} (lines {self.lines[-3:]})")


@pytest.fixture
def reader(alloc):
    """A Reader on a fresh alloc dir; closed afterwards."""
    made = Reader(alloc)
    yield made
    made.session.close()


def numbered(count: int, prefix: str = "line") -> bytes:
    return "".join(f"{prefix} {i}\n" for i in range(count)).encode()


def make_set(reader: Reader, files: int = 4, lines: int = 50, stem: str = "web.stdout"):
    """A rotation set whose lines are numbered across files, a line split
    across every rotation."""
    every = [f"f{f} line {i:03d}".encode() for f in range(files) for i in range(lines)]
    data = b"\n".join(every) + b"\n"
    size = len(data) // files
    for f in range(files):
        reader.write(f"{LOGS}/{stem}.{f}", data[f * size: (f + 1) * size if f < files - 1
                                                 else len(data)])
    return [line.decode() for line in every]


def levels_log(count: int = 400) -> bytes:
    kinds = ["INFO", "INFO", "WARN", "INFO", "DEBUG"]
    return b"".join(
        (b"2026-11-28T%02d:%02d:%02d.000Z %-5s [web] #%d\n"
         % (10 + i // 3600, i // 60 % 60, i % 60,
            b"ERROR" if i % 50 == 7 else kinds[i % 5].encode(), i))
        for i in range(count))
