"""allocdir against the tools an operator would otherwise reach for:
GNU tar, ls -l, rm -rf, cp -a."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import uuid
from functools import partial

from allocdir import AllocDir, SecretReadError

from tests.hostile import make_many

from .harness import Row, median_time, run_quiet, timed

RUNS = 3
SNAPSHOT_RUNS = 5
MOVE_RUNS = 15  # a rename takes microseconds: more samples for a stable median


def _fill(directory: str, count: int, size: int) -> None:
    os.makedirs(directory, exist_ok=True)
    payload = os.urandom(size)
    for i in range(count):
        with open(os.path.join(directory, f"f{i:06d}"), "wb") as f:
            f.write(payload)


def _fresh_alloc(root: str, tasks=("web",)) -> AllocDir:
    alloc = AllocDir(os.path.join(root, str(uuid.uuid4())))
    alloc.build()
    for task in tasks:
        alloc.new_task_dir(task).build()
    return alloc


def _snapshot_pair(alloc: AllocDir, out_dir: str) -> tuple[float, float]:
    ours_out, tar_out = os.path.join(out_dir, "ours.tar"), os.path.join(out_dir, "gnu.tar")

    def ours():
        with open(ours_out, "wb") as f:
            alloc.snapshot(f)

    def theirs():
        run_quiet("tar", "-cf", tar_out, "-C", alloc.alloc_dir, "alloc/data", "web/local")

    ours(), theirs()  # warm the page cache for both
    samples = [(timed(ours), timed(theirs)) for _ in range(SNAPSHOT_RUNS)]  # interleaved
    return (statistics.median(o for o, _ in samples), statistics.median(t for _, t in samples))


def snapshot_small_files(work: str, scale: float) -> Row:
    count = max(100, int(20000 * scale))
    alloc = _fresh_alloc(work)
    _fill(alloc.task_dirs["web"].local_dir, count, 4096)
    ours, theirs = _snapshot_pair(alloc, work)
    alloc.destroy()
    return Row(f"snapshot of {count} 4 KiB files", ours, theirs, "`tar -cf` (GNU tar)",
               goal="≤ 1", limit=1.0)


def snapshot_large_files(work: str, scale: float) -> tuple[Row, int]:
    size_mib = max(4, int(128 * scale))
    alloc = _fresh_alloc(work)
    data = os.path.join(alloc.shared_dir, "data")
    block = os.urandom(1 << 20)
    for i in range(4):
        with open(os.path.join(data, f"blob{i}"), "wb") as f:
            for _ in range(size_mib):
                f.write(block)
    ours, theirs = _snapshot_pair(alloc, work)
    peak = _snapshot_peak_rss(alloc.alloc_dir, os.path.join(work, "rss.tar"))
    alloc.destroy()
    row = Row(f"snapshot of 4 × {size_mib} MiB files", ours, theirs, "`tar -cf`",
              goal="≤ 1.2", limit=1.2, note=f"peak RSS {peak / 1024:.0f} MiB")
    return row, peak


def _snapshot_peak_rss(alloc_dir: str, out: str) -> int:
    """Peak RSS (KiB) of a fresh process that snapshots ``alloc_dir``."""
    code = ("import resource, sys\n"
            "from allocdir import AllocDir\n"
            "a = AllocDir.discover(sys.argv[1])\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "a.snapshot(open(sys.argv[2], 'wb'))\n"
            "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    result = subprocess.run(["python3", "-c", code, alloc_dir, out], check=True,
                            capture_output=True, text=True)
    before, after = map(int, result.stdout.split())
    return after


def list_directory(work: str, scale: float) -> Row:
    count = max(1000, int(100_000 * scale))
    alloc = _fresh_alloc(work)
    big = os.path.join(alloc.shared_dir, "data", "big")
    os.makedirs(big)
    for i in range(count):
        os.close(os.open(os.path.join(big, f"entry-{i:06d}.log"), os.O_CREAT | os.O_WRONLY, 0o644))

    def ours():
        alloc.list("alloc/data/big")

    def theirs():
        run_quiet("ls", "-l", "--color=never", big)

    ours(), theirs()
    row = Row(f"`list` of a {count}-entry directory", median_time(ours, RUNS),
              median_time(theirs, RUNS), "`ls -l`", goal="≤ 1.5", limit=1.5)
    alloc.destroy()
    return row


def _open_at_once(alloc: AllocDir, rel: str) -> None:
    try:
        alloc.read_at(rel, 0).close()
    except SecretReadError:
        pass  # a refusal is an answer too: its time is what is measured


def hard_link_open(work: str, scale: float) -> list[Row]:
    """Opening a hard-linked file of ``local/`` while the task keeps a huge
    ``private/`` beside it (the check for a link into it is bounded, then
    kept), against the same open beside an empty ``private/``."""
    count = max(1000, int(100_000 * scale))
    huge = os.path.join(work, "huge-private")
    make_many(huge, count)  # made once, renamed into each fresh alloc

    def alloc_beside(private: str | None) -> AllocDir:
        alloc = _fresh_alloc(work)
        web = alloc.task_dirs["web"]
        if private is None:
            os.mkdir(os.path.join(web.dir, "private"))
        else:
            os.rename(private, os.path.join(web.dir, "private"))
        path = os.path.join(web.local_dir, "linked.log")
        with open(path, "w") as f:
            f.write("a line\n")
        os.link(path, path + ".1")
        return alloc

    rel = "web/local/linked.log"
    first_ours, first_theirs, again_ours, again_theirs = [], [], [], []
    for _ in range(RUNS):
        big, empty = alloc_beside(huge), alloc_beside(None)
        first_ours.append(timed(partial(_open_at_once, big, rel)))
        first_theirs.append(timed(partial(_open_at_once, empty, rel)))
        again_ours.append(median_time(partial(_open_at_once, big, rel), 50))
        again_theirs.append(median_time(partial(_open_at_once, empty, rel), 50))
        os.rename(os.path.join(big.alloc_dir, "web", "private"), huge)
        big.destroy(), empty.destroy()
    shutil.rmtree(huge)
    median = statistics.median
    return [
        Row(f"open of a hard-linked file beside a {count}-entry `private/`, first",
            median(first_ours), median(first_theirs), "beside an empty `private/`",
            goal="≤ 100 ms absolute", ceiling=0.1),
        Row(f"open of a hard-linked file beside a {count}-entry `private/`, again",
            median(again_ours), median(again_theirs), "beside an empty `private/`",
            goal="≤ 2", limit=2.0),
    ]


def destroy_tree(work: str, scale: float) -> Row:
    count = max(1000, int(100_000 * scale))

    template = os.path.join(work, "destroy-template")
    for d in range(100):
        sub = os.path.join(template, f"d{d:03d}")
        os.makedirs(sub)
        for i in range(count // 100):
            os.close(os.open(os.path.join(sub, f"f{i:05d}"), os.O_CREAT | os.O_WRONLY, 0o644))

    def make(parent: str) -> AllocDir:
        alloc = _fresh_alloc(parent)
        data = os.path.join(alloc.shared_dir, "data")
        os.rmdir(data)
        run_quiet("cp", "-al", template, data)  # hard links: quick to make, same to unlink
        return alloc

    ours_samples, theirs_samples = [], []
    for _ in range(RUNS):
        alloc = make(work)
        ours_samples.append(timed(alloc.destroy))
        other = make(work)
        other.unmount_all()  # rm -rf cannot remove the secrets tmpfs; not timed
        theirs_samples.append(timed(partial(run_quiet, "rm", "-rf", other.alloc_dir)))
    ours_samples.sort(), theirs_samples.sort()
    run_quiet("rm", "-rf", template)
    return Row(f"`destroy` of {count} files", ours_samples[RUNS // 2],
               theirs_samples[RUNS // 2], "`rm -rf`", goal="≤ 1", limit=1.0)


def move_same_filesystem(work: str, scale: float) -> Row:
    big_mib = max(8, int(1024 * scale))

    def measure(mib: int) -> float:
        a, b = _fresh_alloc(work), _fresh_alloc(work)
        _fill(os.path.join(a.shared_dir, "data"), mib, 1 << 20)
        os.sync()  # no writeback of the fresh data during the timed renames
        samples = []
        for _ in range(MOVE_RUNS):
            samples.append(timed(partial(b.move, a, ["web"])))
            a.build()
            a, b = b, a
        a.destroy(), b.destroy()
        return sorted(samples)[MOVE_RUNS // 2]

    large, small = measure(big_mib), measure(1)
    return Row(f"`move` on one filesystem, {big_mib} MiB", large, small,
               "itself with 1 MiB", goal="≈ 1 (constant time)", limit=3.0)


def _cp_then_rm(src: AllocDir, target: str) -> None:
    data, local = os.path.join(src.shared_dir, "data"), src.task_dirs["web"].local_dir
    run_quiet("cp", "-a", data, os.path.join(target, "data"))
    run_quiet("cp", "-a", local, os.path.join(target, "local"))
    run_quiet("rm", "-rf", data, local)


def move_across_filesystems(work: str, scale: float) -> Row:
    """From /dev/shm (tmpfs) to the work dir's disk file system."""
    shm = tempfile.mkdtemp(prefix="allocdir-bench-", dir="/dev/shm")
    if os.stat(shm).st_dev == os.stat(work).st_dev:
        shutil.rmtree(shm)
        raise RuntimeError("/dev/shm is on the same file system as the work dir")
    big_mib = max(4, int(64 * scale))
    files = max(100, int(5000 * scale))

    def populate(alloc: AllocDir) -> None:
        _fill(os.path.join(alloc.shared_dir, "data", "blobs"), big_mib, 1 << 20)
        _fill(os.path.join(alloc.task_dirs["web"].local_dir, "many"), files, 4096)

    ours_samples, theirs_samples = [], []
    try:
        for _ in range(RUNS):
            src, dst = _fresh_alloc(shm), _fresh_alloc(work)
            populate(src)
            os.rmdir(os.path.join(dst.shared_dir, "data"))
            shutil.rmtree(dst.task_dirs["web"].local_dir)
            ours_samples.append(timed(partial(dst.move, src, ["web"])))
            src.destroy(), dst.destroy()

            src = _fresh_alloc(shm)
            populate(src)
            target = os.path.join(work, "cp-target")
            os.makedirs(target)

            theirs_samples.append(timed(partial(_cp_then_rm, src, target)))
            shutil.rmtree(target)
            src.destroy()
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    return Row(f"`move` across filesystems ({big_mib} MiB + {files} small files)",
               sorted(ours_samples)[RUNS // 2], sorted(theirs_samples)[RUNS // 2],
               "`cp -a` then `rm -rf`", goal="≤ 1", limit=1.0)
