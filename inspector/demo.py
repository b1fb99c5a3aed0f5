"""A live demo client alloc root in a temporary directory.

`DemoRoot` builds three allocations with real `AllocDir`/`TaskDir` layouts
(no chroot): text, JSON, binary, PNG and large files, an ANSI-coloured log,
a secret per task, logmon's FIFOs and a Consul socket, and writer threads that
append timestamped lines to `alloc/logs/<task>.stdout.N` / `.stderr.N` and
rotate them at a small size as Nomad's logmon does. Leaving the context stops
the writers, destroys the allocations and removes the directory.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import struct
import tempfile
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone

from allocdir import ALLOC_GRPC_SOCKET, LOG_DIR_NAME, AllocDir, TaskDir

ALLOCS: dict[str, tuple[str, ...]] = {
    "5f0c3b2e-8d1a-4c7e-9b6a-2e4f1d7c9a01": ("web", "redis"),
    "a3d9e6f1-47b2-4f08-8c3e-91b5d0e2f7a4": ("batch",),
    "c81b7d40-2e9f-4a6d-b1c5-6f3e8a9d0b27": ("web",),
}
"""The demo allocations (fixed ids, so screenshots are stable) and their tasks."""

ANSI = {"INFO": "\x1b[32m", "WARN": "\x1b[33m", "ERROR": "\x1b[31m", "DEBUG": "\x1b[36m"}
RESET = "\x1b[0m"

WORDS = (
    "request served upstream cache miss hit backend pool worker queued job "
    "connection accepted closed retry timeout healthy checkpoint flushed"
).split()


def png_bytes(width: int = 48, height: int = 32) -> bytes:
    """A valid RGB PNG of a colour gradient, written with zlib and struct only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + bytes(
            v for x in range(width)
            for v in (x * 255 // (width - 1), y * 255 // (height - 1), 160)
        )
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def large_text(path: str, size: int) -> None:
    """Write about `size` bytes of numbered text lines, a megabyte at a time."""
    line_no = 0
    with open(path, "w", encoding="ascii") as out:
        written = 0
        while written < size:
            lines = [
                f"{n:09d} {WORDS[n % len(WORDS)]} {WORDS[(n * 7) % len(WORDS)]} "
                f"lorem ipsum dolor sit amet consectetur adipiscing elit sed do\n"
                for n in range(line_no, line_no + 12_000)
            ]
            line_no += len(lines)
            block = "".join(lines)
            out.write(block)
            written += len(block)


def log_line(task: str, stream: str, seq: int, *, colour: bool, now: datetime | None = None) -> str:
    """One timestamped log line as a task would print it."""
    now = now or datetime.now(timezone.utc)
    level = ("INFO", "INFO", "DEBUG", "WARN", "INFO", "ERROR")[seq % 6]
    if stream == "stderr":
        level = "WARN" if seq % 2 else "ERROR"
    shown = f"{ANSI[level]}{level:5}{RESET}" if colour else f"{level:5}"
    words = " ".join(WORDS[(seq * k) % len(WORDS)] for k in (1, 3, 5))
    return f"{now:%Y-%m-%dT%H:%M:%S.%fZ} {shown} [{task}] #{seq} {words}\n"


@dataclass
class LogStream:
    """Nomad logmon's rotation for one stream: `<task>.<stream>.<N>` -> N+1."""

    log_dir: str
    task: str
    stream: str  # "stdout" | "stderr"
    max_size: int = 64 * 1024
    keep: int = 3
    index: int = 0
    seq: int = 0

    def path(self, index: int | None = None) -> str:
        """The file of rotation `index` (the current one by default)."""
        return os.path.join(self.log_dir, f"{self.task}.{self.stream}.{self.index if index is None else index}")

    def write(self, text: str) -> None:
        """Append `text`, rotating first when the current file is full."""
        try:
            size = os.path.getsize(self.path())
        except FileNotFoundError:
            size = 0
        if size and size + len(text) > self.max_size:
            self.index += 1
            stale = self.path(self.index - self.keep)
            if self.index >= self.keep and os.path.exists(stale):
                os.unlink(stale)
        with open(self.path(), "a", encoding="utf-8") as out:
            out.write(text)

    def emit(self, *, colour: bool) -> None:
        """Append the next log line."""
        self.seq += 1
        self.write(log_line(self.task, self.stream, self.seq, colour=colour))


class DemoRoot:
    """Build a demo client alloc root; use as a context manager.

    `writers` starts the log writer threads (a line per stream every
    `interval` seconds); `large_size` is the size of the big text file,
    written in a background thread so start-up stays fast.
    """

    def __init__(
        self,
        *,
        writers: bool = True,
        interval: float = 0.25,
        large_size: int = 96 * 1024 * 1024,
        max_log_size: int = 64 * 1024,
        base: str | None = None,
    ) -> None:
        self.writers = writers
        self.interval = interval
        self.large_size = large_size
        self.max_log_size = max_log_size
        self._base = base
        self.tmp: str | None = None
        self.path = ""
        self.allocs: list[AllocDir] = []
        self.streams: list[LogStream] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.large_ready = threading.Event()

    # ----------------------------------------------------------- lifecycle

    def __enter__(self) -> DemoRoot:
        """Build the demo root and start its writers."""
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the writers and remove the demo root."""
        self.close()

    def start(self) -> None:
        """Create the root, the allocations and their files; start the threads."""
        self.tmp = tempfile.mkdtemp(prefix="allocdir-demo-", dir=self._base)
        self.path = os.path.join(self.tmp, "alloc")
        os.mkdir(self.path)
        for alloc_id, tasks in ALLOCS.items():
            self._build_alloc(alloc_id, tasks)
        self._spawn(self._write_large, "demo-large")
        if self.writers:
            self._spawn(self._write_logs, "demo-logs")

    def close(self) -> None:
        """Stop the writers, destroy the allocations and remove the directory."""
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        for alloc in self.allocs:
            try:
                alloc.destroy()
            except Exception:  # already removed (e.g. destroyed in the app)
                pass
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    # ----------------------------------------------------------- content

    @property
    def large_file(self) -> str:
        """The big text file's path relative to the root."""
        return f"{list(ALLOCS)[1]}/batch/local/dataset.txt"

    def _build_alloc(self, alloc_id: str, tasks: tuple[str, ...]) -> AllocDir:
        alloc = AllocDir(os.path.join(self.path, alloc_id))
        self.allocs.append(alloc)  # recorded first, so close() unmounts a half-built one
        alloc.build()
        rng = random.Random(alloc_id)
        shared = alloc.shared_dir
        logs = os.path.join(shared, LOG_DIR_NAME)
        _write(os.path.join(shared, "data", "state.json"), json.dumps(
            {"alloc_id": alloc_id, "tasks": list(tasks), "restarts": rng.randint(0, 4),
             "healthy": True, "ports": {"http": 20000 + rng.randint(0, 9999)}},
            indent=2,
        ) + "\n")
        _make_socket(os.path.join(alloc.alloc_dir, ALLOC_GRPC_SOCKET))
        for task in tasks:
            task_dir = alloc.new_task_dir(task)
            task_dir.build()
            self._fill_task(task_dir, task, rng)
            for stream in ("stdout", "stderr"):
                os.mkfifo(os.path.join(logs, f".{task}.{stream}.fifo"))
                log = LogStream(logs, task, stream, max_size=self.max_log_size)
                # History: two rotated files and a current one, as after a while.
                while log.index < 2 or os.path.getsize(log.path()) < self.max_log_size // 3:
                    log.emit(colour=task == "web")
                self.streams.append(log)
        return alloc

    def _fill_task(self, task_dir: TaskDir, task: str, rng: random.Random) -> None:
        local = task_dir.local_dir
        _write(os.path.join(task_dir.secrets_dir, "vault_token"), "s.demo-secret-token\n")
        _write(os.path.join(local, "README.txt"), f"Task {task} of the allocdir demo.\n")
        if task == "web":
            _write(os.path.join(local, "nginx.conf"), NGINX_CONF)
            _write(os.path.join(local, "config.json"), json.dumps(
                {"listen": 8080, "upstreams": ["10.0.0.2:6379", "10.0.0.3:6379"],
                 "timeouts": {"read": "5s", "write": "5s"}, "features": ["gzip", "http2"]},
                indent=2,
            ) + "\n")
            _write(os.path.join(local, "access.log"), _ansi_log(task, 400))
            os.makedirs(os.path.join(local, "static", "img"), exist_ok=True)
            _write(os.path.join(local, "static", "img", "logo.png"), png_bytes())
        elif task == "redis":
            _write(os.path.join(local, "redis.conf"), REDIS_CONF)
            _write(os.path.join(local, "dump.rdb"), b"REDIS0009" + rng.randbytes(6000))
        elif task == "batch":
            _write(os.path.join(local, "report.png"), png_bytes(64, 40))
            _write(os.path.join(local, "results.json"), json.dumps(
                [{"shard": i, "rows": rng.randint(1000, 99999), "ok": i % 5 != 3}
                 for i in range(40)], indent=1) + "\n")
            _write(os.path.join(local, "model.bin"), rng.randbytes(20_000))

    def _write_large(self) -> None:
        try:
            large_text(os.path.join(self.path, self.large_file), self.large_size)
        except OSError:
            pass  # the root was removed while writing (a very short demo)
        finally:
            self.large_ready.set()

    def _write_logs(self) -> None:
        while not self._stop.wait(self.interval):
            for log in self.streams:
                try:
                    log.emit(colour=log.task == "web")
                except OSError:
                    pass  # the allocation was destroyed or moved in the app


def _write(path: str, content: str | bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(path, mode) as out:
        out.write(content)


def _make_socket(path: str) -> None:
    """Leave a unix socket file behind, as Consul's gRPC listener would."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(path)
        except OSError:  # the path is longer than AF_UNIX allows: no socket then
            pass


def _ansi_log(task: str, lines: int) -> str:
    stamp = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    return "".join(log_line(task, "stdout", n, colour=True, now=stamp) for n in range(lines))


NGINX_CONF = """\
worker_processes auto;

events {
    worker_connections 1024;
}

http {
    upstream backend {
        server 10.0.0.2:6379;
        server 10.0.0.3:6379;
    }
    server {
        listen 8080;
        location / {
            proxy_pass http://backend;
        }
    }
}
"""

REDIS_CONF = """\
bind 0.0.0.0
port 6379
maxmemory 256mb
maxmemory-policy allkeys-lru
appendonly yes
dir /local
"""

__all__ = ["ALLOCS", "DemoRoot", "LogStream", "png_bytes"]
