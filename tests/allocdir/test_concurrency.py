"""Every method is safe for concurrent use: many threads calling list, stat,
read_at, change_events and snapshot at once while a writer appends."""

from __future__ import annotations

import io
import os
import tarfile
import threading
import time

import pytest

from allocdir import AllocDir, ChangeEvent


@pytest.mark.slow
def test_many_threads_at_once(alloc, measured):
    for name in ("web", "db"):
        alloc.new_task_dir(name).build(False, None)
    data = os.path.join(alloc.shared_dir, "data")
    fixed = {f"f{i}": os.urandom(1000 + i * 37) for i in range(20)}
    for name, content in fixed.items():
        with open(os.path.join(data, name), "wb") as f:
            f.write(content)
    log = os.path.join(alloc.shared_dir, "logs", "web.stdout.0")
    open(log, "wb").close()
    stop = threading.Event()
    errors: list[BaseException] = []
    counts = {"list": 0, "stat": 0, "read_at": 0, "change_events": 0, "snapshot": 0}
    lock = threading.Lock()

    def bump(k):
        with lock:
            counts[k] += 1

    def writer():
        with open(log, "ab", buffering=0) as f:
            while not stop.is_set():
                f.write(b"log line\n")
                time.sleep(0.001)

    def lister():
        while not stop.is_set():
            names = [i.name for i in alloc.list("alloc/data")]
            assert names == sorted(fixed)
            bump("list")

    def statter():
        while not stop.is_set():
            name = f"f{counts['stat'] % 20}"
            info = alloc.stat(f"alloc/data/{name}")
            assert info.size == len(fixed[name])
            assert info.content_type == "application/octet-stream" or info.content_type
            bump("stat")

    def reader():
        while not stop.is_set():
            name = f"f{counts['read_at'] % 20}"
            with alloc.read_at(f"alloc/data/{name}", 10) as f:
                assert f.read() == fixed[name][10:]
            bump("read_at")

    def watcher(poll):
        while not stop.is_set():
            with alloc.change_events("alloc/logs/web.stdout.0", 0, poll_interval=poll) as fc:
                assert next(fc) is ChangeEvent.MODIFIED
            bump("change_events")

    def snapshotter():
        while not stop.is_set():
            buf = io.BytesIO()
            alloc.snapshot(buf)
            buf.seek(0)
            with tarfile.open(fileobj=buf, mode="r|") as tf:
                names = set()
                for m in tf:
                    names.add(m.name)
                    if m.isreg():
                        assert tf.extractfile(m).read() == fixed[os.path.basename(m.name)]
            assert {f"alloc/data/{n}" for n in fixed} <= names
            bump("snapshot")

    def guarded(fn, *args):
        def run():
            try:
                fn(*args)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
                stop.set()
        return run

    targets = ([guarded(writer)] + [guarded(lister)] * 3 + [guarded(statter)] * 3
               + [guarded(reader)] * 3 + [guarded(watcher, None)] * 2
               + [guarded(watcher, 0.01)] * 2 + [guarded(snapshotter)] * 2)
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors
    measured["concurrency_calls"] = dict(counts)
    print("concurrent calls in 3 s:", counts)
    assert all(v > 0 for v in counts.values()), counts


def test_concurrent_task_builds_and_copies(alloc):
    errors = []

    def build(i):
        try:
            td = alloc.new_task_dir(f"task{i}")
            td.build(False, None)
            alloc.copy()
            alloc.build()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert set(alloc.task_dirs) == {f"task{i}" for i in range(12)}
    found = AllocDir.discover(alloc.alloc_dir)
    assert set(found.task_dirs) == set(alloc.task_dirs)


def test_concurrent_builds_of_same_task(alloc):
    td = alloc.new_task_dir("web")
    errors = []

    def build():
        try:
            td.build(False, None)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=build) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert os.path.isdir(td.local_dir) and os.path.isdir(td.secrets_dir)
