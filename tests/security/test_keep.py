"""``keep`` against a hostile task: it races symlink swaps, FIFOs, a
swapped ``alloc/logs`` and ``local/``, hard-linked secrets and leases
against a keeper running as root. Nothing from outside the allocation and
no secret may reach the keep directory, nothing there may be anything but
files and directories, the canary stays as it was, and the keeper never
blocks."""

from __future__ import annotations

import os
import select
import signal
import time

from allocdir.dirfd import open_dir, unmount_at
from tests.hostile import NOBODY, Canary, Racer, exchange
from tests.keeping import (
    RunningKeeper, all_bytes, kept_set, records, special_files, wait_for,
)
from tests.security.test_reads import LeaseHolder

SECRET = b"SECRET-TOKEN-THAT-MUST-NOT-BE-KEPT\n"


def _logs(alloc) -> str:
    return os.path.join(alloc.alloc_dir, "alloc", "logs")


def _as_task(path: str) -> None:
    os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


def _write(path: str, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)
    _as_task(path)


def test_symlink_swaps_and_fifos_in_the_logs_and_local_dirs_keep_nothing_from_outside(
        alloc, canary: Canary, base):
    logs = _logs(alloc)
    local = os.path.join(alloc.alloc_dir, "web", "local")
    secrets = os.path.join(alloc.alloc_dir, "web", "secrets")
    with open(os.path.join(secrets, "token"), "wb") as f:
        f.write(SECRET)
    _write(os.path.join(logs, "web.stdout.0"), b"the task's own log\n")
    _write(os.path.join(local, "app.conf"), b"rendered\n")
    os.makedirs(os.path.join(local, "sub"))
    _as_task(os.path.join(local, "sub"))
    before = canary.state()
    host = str(canary.root)
    shared = os.path.join(alloc.alloc_dir, "alloc")
    attacks = 0

    def step() -> None:
        nonlocal attacks
        attacks += 1
        kind = attacks % 8
        if kind == 0:  # a member that is a link to a host file, and one into secrets/
            for name, target in (("web.stdout.1", f"{host}/data.txt"),
                                 ("web.stdout.3", "../../web/secrets/token")):
                try:
                    os.symlink(target, os.path.join(logs, name))
                except FileExistsError:
                    os.unlink(os.path.join(logs, name))
        elif kind == 1:  # the real log swapped with a link to a host file, and back
            link = os.path.join(logs, ".swap")
            if not os.path.lexists(link):
                os.symlink(f"{host}/token", link)
            exchange(os.path.join(logs, "web.stdout.0"), link)
            exchange(os.path.join(logs, "web.stdout.0"), link)
        elif kind == 2:  # a FIFO where a member is expected
            fifo = os.path.join(logs, "web.stdout.2")
            if os.path.lexists(fifo):
                os.unlink(fifo)
            else:
                os.mkfifo(fifo)
        elif kind == 3:  # alloc/logs itself swapped with a link to the host dir
            link = os.path.join(shared, ".logs-link")
            if not os.path.lexists(link):
                os.symlink(host, link)
            exchange(logs, link)
            exchange(logs, link)
        elif kind == 4:  # local/ swapped with a link to the host dir
            link = os.path.join(alloc.alloc_dir, "web", ".local-link")
            if not os.path.lexists(link):
                os.symlink(host, link)
            exchange(local, link)
            exchange(local, link)
        elif kind == 5:  # a file of local/ swapped with a link to a host file
            link = os.path.join(local, ".conf-link")
            if not os.path.lexists(link):
                os.symlink(f"{host}/sub/data.txt", link)
            exchange(os.path.join(local, "app.conf"), link)
            exchange(os.path.join(local, "app.conf"), link)
        elif kind == 6:  # a new file at a member's name, swapped with a link as it is opened
            member, link = os.path.join(logs, "web.stderr.5"), os.path.join(logs, ".link5")
            if not os.path.lexists(link):
                os.symlink(f"{host}/data.txt", link)
            if os.path.lexists(member):
                os.unlink(member)
            with open(member, "wb") as f:
                f.write(b"x")
            for _ in range(8):
                exchange(member, link)
        else:  # the task keeps writing its log
            with open(os.path.join(logs, "web.stdout.0"), "ab") as f:
                f.write(b"more of the task's own log\n")

    keep = base / "kept"
    racer = Racer(step, limit=4.0).__enter__()  # forked before the keeper's thread starts
    raced = False
    try:
        with RunningKeeper(alloc.alloc_dir.rsplit("/", 1)[0], keep, safety_interval=0.1,
                           tree_interval=0.1, tree_min_interval=0.0,
                           include=frozenset({"logs", "local", "data"})) as running:
            time.sleep(4.0)  # the race runs for its time limit
            racer.__exit__(None, None, None)
            raced = True
            # Swapping the log away and back did not make the keeper copy it again.
            log = os.path.join(logs, "web.stdout.0")
            wait_for(lambda: kept_set(keep, alloc.alloc_id, "web.stdout") ==
                     open(log, "rb").read(), timeout=30, what="the log kept once, whole")
            running.stop()
    finally:
        if not raced:
            racer.__exit__(None, None, None)
    assert racer.done > 100
    assert canary.state() == before
    assert special_files(keep) == []
    kept = all_bytes(keep)
    assert Canary.CONTENT not in kept
    assert SECRET not in kept
    assert b"the task's own log\n" in kept
    assert running.thread is not None and not running.thread.is_alive()


def test_a_hard_linked_secret_is_not_kept(alloc, base):
    # Without root, secrets/ is a plain directory a task can link out of.
    task_fd = open_dir(os.path.join(alloc.alloc_dir, "web"))
    try:
        unmount_at(task_fd, "secrets", "web/secrets")
    finally:
        os.close(task_fd)
    secret = os.path.join(alloc.alloc_dir, "web", "secrets", "token")
    with open(secret, "wb") as f:
        f.write(SECRET)
    _as_task(secret)
    os.link(secret, os.path.join(_logs(alloc), "web.stdout.4"))
    os.link(secret, os.path.join(alloc.alloc_dir, "web", "local", "token"))
    keep = base / "kept"
    with RunningKeeper(alloc.alloc_dir.rsplit("/", 1)[0], keep) as running:
        wait_for(lambda: records(keep, alloc.alloc_id).get("file:web/local/token"),
                 what="the linked secret noted")
        wait_for(lambda: records(keep, alloc.alloc_id).get("file:alloc/logs/web.stdout.4"))
        running.stop()
    assert SECRET not in all_bytes(keep)
    recs = records(keep, alloc.alloc_id)
    assert recs["file:web/local/token"]["kind"] == "secret"
    assert recs["file:alloc/logs/web.stdout.4"]["kind"] == "secret"


def test_a_fifo_among_the_logs_is_never_opened(alloc, base):
    fifo = os.path.join(_logs(alloc), "web.stdout.1")
    os.mkfifo(fifo)
    _as_task(fifo)
    _write(os.path.join(_logs(alloc), "web.stdout.0"), b"log\n")
    reader_r, reader_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a task waiting for a reader of its FIFO
        os.close(reader_r)
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        fd = os.open(fifo, os.O_WRONLY)  # blocks until someone opens it to read
        os.write(reader_w, b"opened")
        os.close(fd)
        os._exit(0)
    os.close(reader_w)
    keep = base / "kept"
    try:
        with RunningKeeper(alloc.alloc_dir.rsplit("/", 1)[0], keep, safety_interval=0.1) as run:
            wait_for(lambda: records(keep, alloc.alloc_id).get("file:alloc/logs/web.stdout.1"))
            wait_for(lambda: os.path.exists(keep / alloc.alloc_id / "alloc/logs/web.stdout.0"))
            opened = select.select([reader_r], [], [], 1.0)[0]
            run.stop()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(reader_r)
    assert not opened
    assert records(keep, alloc.alloc_id)["file:alloc/logs/web.stdout.1"]["kind"] == "fifo"


def test_a_lease_on_a_log_delays_it_and_blocks_nothing(alloc, base):
    held = os.path.join(_logs(alloc), "web.stdout.0")
    _write(held, b"held by a lease\n")
    _write(os.path.join(_logs(alloc), "web.stderr.0"), b"free\n")
    keep = base / "kept"
    kept = keep / alloc.alloc_id / "alloc" / "logs"

    def kept_whole(name: str, data: bytes) -> bool:
        return (kept / name).exists() and (kept / name).read_bytes() == data

    lease = LeaseHolder(held).__enter__()
    try:
        with RunningKeeper(alloc.alloc_dir.rsplit("/", 1)[0], keep,
                           safety_interval=0.2) as running:
            wait_for(lambda: kept_whole("web.stderr.0", b"free\n"), timeout=5,
                     what="the other log kept while the lease is held")
            note = wait_for(lambda: [e for e in running.kinds("note") if "lease" in e.text])
            assert not (kept / "web.stdout.0").exists()
            lease.__exit__(None, None, None)  # the task lets go: the next look keeps it
            lease = None
            wait_for(lambda: kept_whole("web.stdout.0", b"held by a lease\n"), timeout=5)
            running.stop()
    finally:
        if lease is not None:
            lease.__exit__(None, None, None)
    assert "web.stdout.0" in note[0].text
