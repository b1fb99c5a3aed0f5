"""``keep`` under faults: stopped (SIGTERM) or killed (SIGKILL) mid-copy and
started again, a full disk (a small tmpfs as DIR), and a task with 20,000
rotated files. Each check counts its attempts and failures; ``--soak``
runs more of them."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests import mounting
from tests.keeping import (
    ALLOC, RunningKeeper, claims_hold, kept_set, make_alloc, records, wait_for,
)

ALLOCS = [ALLOC, "6a6a6a6a-0000-1111-2222-333344445555", "7b7b7b7b-0000-1111-2222-333344445555"]

# Tasks writing their logs, rotating at ``rotate`` bytes, until stdin closes.
_WRITER = r"""
import os, sys, threading
logs, rotate = sys.argv[2:], int(sys.argv[1])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
n = [0] * len(logs)
sizes = [0] * len(logs)
line = 0
while not stop.is_set():
    for i, logs_dir in enumerate(logs):
        data = b"%09d %s\n" % (line, b"x" * (line % 300))
        line += 1
        with open(os.path.join(logs_dir, "web.stdout.%d" % n[i]), "ab") as f:
            f.write(data)
        sizes[i] += len(data)
        if sizes[i] >= rotate:
            n[i] += 1
            sizes[i] = 0
print(" ".join(map(str, n)), flush=True)
"""


def _log_dirs(root) -> list[str]:
    return [str(root / alloc_id / "alloc" / "logs") for alloc_id in ALLOCS]


def _source(logs_dir: str) -> bytes:
    names = sorted((n for n in os.listdir(logs_dir) if n.startswith("web.stdout.")),
                   key=lambda n: int(n.rsplit(".", 1)[1]))
    return b"".join(open(os.path.join(logs_dir, n), "rb").read() for n in names)


def _keep(root, keep) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "keep", str(root), "--to",
                             str(keep), "--quiet"], stderr=subprocess.PIPE, text=True)
    wait_for(lambda: _running(keep, proc.pid), timeout=30, what="keep started")
    return proc


def _running(keep, pid: int) -> bool:
    try:
        return json.loads((keep / ".allocdir-keep").read_text()).get("pid") == pid
    except (OSError, ValueError):
        return False


def _kept_bytes(keep) -> int:
    return sum(os.path.getsize(keep / a / "alloc" / "logs" / n)
               for a in ALLOCS if (keep / a / "alloc" / "logs").exists()
               for n in os.listdir(keep / a / "alloc" / "logs"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_stopped_mid_copy_then_started_again(tmp_path, soak, figures, signum):
    root = tmp_path / "alloc"
    root.mkdir()
    for alloc_id in ALLOCS:
        make_alloc(root, alloc_id)
    keep = tmp_path / "kept"
    rng = random.Random(11)
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(256 << 10),
                               *_log_dirs(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    rounds = 20 if soak else 4
    inconsistent = recopied = 0
    try:
        for _ in range(rounds):
            proc = _keep(root, keep)
            time.sleep(rng.uniform(0.05, 0.6))  # mid-copy: the writers never stop
            proc.send_signal(signum)
            code = proc.wait(30)
            assert code == (0 if signum == signal.SIGTERM else -signal.SIGKILL), proc.stderr.read()
            for alloc_id in ALLOCS:
                if (keep / alloc_id / ".keep").exists():
                    inconsistent += bool(claims_hold(keep, alloc_id))
            held = _kept_bytes(keep)
            # The next run copies only what was not kept yet.
            proc = _keep(root, keep)
            time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0, proc.stderr.read()
            run = json.loads((keep / ".allocdir-keep").read_text())["last_run"]
            recopied += _kept_bytes(keep) - held != run["log_bytes"]
    finally:
        writer.stdin.close()
        writer.wait(30)
    proc = _keep(root, keep)
    try:
        for alloc_id, logs_dir in zip(ALLOCS, _log_dirs(root), strict=True):
            wait_for(lambda a=alloc_id, d=logs_dir: kept_set(keep, a, "web.stdout") ==
                     _source(d), timeout=60, what=f"{alloc_id} caught up")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    figures.update(attempts=rounds, failures=inconsistent + recopied,
                   inconsistent=inconsistent, recopied=recopied,
                   signal=signal.Signals(signum).name)
    assert inconsistent == 0
    assert recopied == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs")
def test_a_full_disk_pauses_keeping_and_loses_nothing(tmp_path, figures):
    root = tmp_path / "alloc"
    root.mkdir()
    alloc = make_alloc(root)
    content = random.Random(5).randbytes(6 << 20)
    log = os.path.join(alloc.alloc_dir, "alloc", "logs", "web.stdout.0")
    with open(log, "wb") as f:
        f.write(content)
    fs = tmp_path / "small"
    fs.mkdir()
    mounting.tmpfs(fs, "2m")
    keep = fs / "kept"
    try:
        with RunningKeeper(root, keep) as running:
            full = running.wait_event("disk-full", timeout=30)
            kept = (keep / ALLOC / "alloc" / "logs" / "web.stdout.0").read_bytes()
            assert content.startswith(kept)
            assert claims_hold(keep, ALLOC) == []
            mounting.mount("tmpfs", fs, None, 32, "size=16m")  # MS_REMOUNT: room again
            running.wait_event("resumed", timeout=30)
            wait_for(lambda: (keep / ALLOC / "alloc/logs/web.stdout.0").read_bytes() == content,
                     timeout=30, what="the rest kept")
            running.stop()
        summary = json.loads((keep / ALLOC / ".keep" / "alloc.json").read_text())
        assert any("copying was paused" in text for _, text in summary["notes"])
        assert records(keep, ALLOC)["log:web.stdout.0"]["bytes"] == len(content)
    finally:
        mounting.umount(fs)
    assert "No space left on device" in full.text
    figures.update(attempts=1, failures=0, kept_before_full=len(kept))


def test_twenty_thousand_rotated_files_hold_few_fds(tmp_path, monkeypatch, figures):
    root = tmp_path / "alloc"
    root.mkdir()
    alloc = make_alloc(root)
    logs = os.path.join(alloc.alloc_dir, "alloc", "logs")
    count = 20_000
    for n in range(count):
        with open(os.path.join(logs, f"web.stdout.{n}"), "wb") as f:
            f.write(b"%d\n" % n)
    monkeypatch.setattr("inspector.core.keep.keeper.raise_fd_limit", lambda: 1024)
    baseline = len(os.listdir("/proc/self/fd"))
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], len(os.listdir("/proc/self/fd")))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    keep = tmp_path / "kept"
    started = time.monotonic()
    try:
        with RunningKeeper(root, keep, start_timeout=120) as running:
            wait_for(lambda: records(keep, ALLOC).get(f"log:web.stdout.{count - 1}", {})
                     .get("bytes"), timeout=120, what="every member kept")
            running.stop()
    finally:
        done.set()
        sampler.join()
    took = time.monotonic() - started
    kept = kept_set(keep, ALLOC, "web.stdout")
    assert kept == b"".join(b"%d\n" % n for n in range(count))
    figures.update(attempts=count, failures=0, peak_fds=peak[0] - baseline, seconds=round(took, 1))
    assert peak[0] - baseline <= 1024 // 4 + 64
