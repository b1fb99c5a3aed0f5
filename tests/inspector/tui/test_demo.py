"""The demo root: real layouts, every kind of file, rotating logs, removed on exit."""

from __future__ import annotations

import os
import stat
import time

from allocdir import AllocDir
from inspector.demo import ALLOCS, DemoRoot, LogStream, png_bytes
from inspector.core.roots import Root


def test_demo_builds_allocations_and_removes_everything():
    started = time.monotonic()
    with DemoRoot(large_size=4 * 1024 * 1024, interval=0.02, max_log_size=4096) as demo:
        assert time.monotonic() - started < 5.0
        root = Root.open(demo.path)
        found = root.discover()
        assert [a.alloc_id for a in found.allocs] == sorted(ALLOCS)
        web = AllocDir.discover(os.path.join(demo.path, list(ALLOCS)[0]))
        assert sorted(web.task_dirs) == ["redis", "web"]
        assert web.stat("web/local/static/img/logo.png").content_type == "image/png"
        assert web.stat("web/local/config.json").content_type == "application/json"
        assert web.stat("redis/local/dump.rdb").content_type == "application/octet-stream"
        assert "\x1b[" in open(os.path.join(web.alloc_dir, "web/local/access.log")).read()
        assert os.path.exists(os.path.join(web.alloc_dir, "web/secrets/vault_token"))
        fifo = os.path.join(web.alloc_dir, "alloc/logs/.web.stdout.fifo")
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
        assert demo.large_ready.wait(30)
        assert os.path.getsize(os.path.join(demo.path, demo.large_file)) >= 4 * 1024 * 1024
        # the writers append and rotate, keeping the last 3 files
        logs = os.path.join(web.alloc_dir, "alloc/logs")
        before = max(s.index for s in demo.streams if s.task == "web" and s.stream == "stdout")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = [s for s in demo.streams if s.task == "web" and s.stream == "stdout"][0]
            if now.index > before:
                break
            time.sleep(0.05)
        assert now.index > before
        names = sorted(n for n in os.listdir(logs) if n.startswith("web.stdout."))
        assert len(names) <= 3
        assert f"web.stdout.{now.index}" in names
        path = demo.tmp
    assert not os.path.exists(path)


def test_demo_is_removed_on_exceptions():
    try:
        with DemoRoot(writers=False, large_size=1024) as demo:
            path = demo.tmp
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert not os.path.exists(path)


def test_log_stream_rotates_like_logmon(tmp_path):
    log = LogStream(str(tmp_path), "web", "stdout", max_size=100, keep=2)
    for _ in range(20):
        log.write("x" * 40 + "\n")
    names = sorted(os.listdir(tmp_path))
    assert names == [f"web.stdout.{log.index - 1}", f"web.stdout.{log.index}"]
    assert all(os.path.getsize(tmp_path / n) <= 100 for n in names)


def test_png_is_valid():
    import struct
    import zlib

    data = png_bytes(4, 3)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (4, 3)
    idat_len = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41:41 + idat_len])
    assert len(raw) == 3 * (1 + 4 * 3)
