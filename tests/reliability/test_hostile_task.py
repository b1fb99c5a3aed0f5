"""A hostile task racing root, counted: the task (a child running as
nobody) swaps its directories for symlinks to the host as fast as it can
while the library builds, destroys, snapshots and moves. Each check counts
its attempts and every one that changed a canary outside the alloc dir,
leaked a host or secret byte into a tar, or lost a file."""

from __future__ import annotations

import io
import os

import pytest

from allocdir import AllocDir, AllocDirError
from tests import mounting
from tests.hostile import Canary, Racer, exchange, tree_state, work_dir

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="plays root against a task")

SECRET = b"s.the-task-secret-token"


def _alloc(root, name: str) -> AllocDir:
    a = AllocDir(os.path.join(root, name))
    a.build()
    a.new_task_dir("web").build()
    return a


def _link(path: str, target) -> None:
    os.symlink(target, path)
    os.lchown(path, 65534, 65534)


def test_build_and_destroy_racing_a_task(soak, figures):
    rounds = 200 if soak else 40
    failures = swaps = 0
    with work_dir() as base:
        canary = Canary.make(base)
        before = canary.state()
        for i in range(rounds):
            a = _alloc(base / "alloc", f"a{i}")
            web = a.task_dirs["web"]
            os.makedirs(web.shared_task_dir)
            os.chown(web.shared_task_dir, 65534, 65534)
            pairs = [(web.local_dir, os.path.join(web.dir, "l1")),
                     (web.shared_task_dir, os.path.join(web.dir, "l2")),
                     (os.path.join(a.shared_dir, "data"), os.path.join(a.shared_dir, "l3"))]
            for _, link in pairs:
                _link(link, canary.root)

            def swap(pairs=pairs):
                for real, link in pairs:
                    exchange(real, link)

            with Racer(swap) as racer:
                for _ in range(5):
                    try:
                        a.build()
                        web.build()
                    except (AllocDirError, OSError):
                        pass
                try:
                    a.destroy()
                except AllocDirError:
                    pass
            swaps += racer.done
            if os.path.lexists(a.alloc_dir):
                a.destroy()
            if canary.state() != before:
                failures += 1
                before = canary.state()
    figures.update(attempts=rounds, builds=rounds * 5, task_swaps=swaps, failures=failures)
    assert failures == 0


def test_snapshots_racing_a_task(soak, figures):
    snapshots = 1000 if soak else 200
    leaked = invalid = 0
    with work_dir() as base:
        canary = Canary.make(base)
        a = _alloc(base / "alloc", "a")
        web = a.task_dirs["web"]
        with open(os.path.join(web.secrets_dir, "data.txt"), "wb") as f:
            f.write(SECRET)
        sub = os.path.join(web.local_dir, "sub")
        os.makedirs(sub)
        for name in ("data.txt", "token"):
            with open(os.path.join(sub, name), "wb") as f:
                f.write(b"inside")
        os.chown(sub, 65534, 65534)
        links = [os.path.join(web.local_dir, "l1"), os.path.join(web.local_dir, "l2")]
        _link(links[0], canary.root)
        _link(links[1], "../secrets")
        turn = [0]

        def swap():
            link = links[turn[0] % 2]
            exchange(sub, link)
            exchange(sub, link)
            turn[0] += 1

        with Racer(swap) as racer:
            for _ in range(snapshots):
                buf = io.BytesIO()
                try:
                    a.snapshot(buf)
                except AllocDirError:
                    invalid += 1
                raw = buf.getvalue()
                leaked += Canary.CONTENT in raw or SECRET in raw
        a.destroy()
    figures.update(attempts=snapshots, task_swaps=racer.done, failures=leaked,
                   failed_snapshots=invalid)
    assert leaked == 0


def test_moves_racing_both_tasks(soak, figures):
    moves = 30 if soak else 6
    lost_files = host_changes = completed = 0
    with work_dir() as base:
        canary = Canary.make(base)
        before = canary.state()
        other = base / "otherfs"
        other.mkdir()
        mounting.tmpfs(other, "256m")
        for i in range(moves):
            src = _alloc(other, f"src-{i}")
            web = src.task_dirs["web"]
            spare = os.path.join(web.dir, "spare")
            os.makedirs(spare)
            for top, tag in ((web.local_dir, b"L"), (spare, b"S")):
                for n in range(100):
                    with open(os.path.join(top, f"f{n}"), "wb") as f:
                        f.write(tag + os.urandom(4096))
                os.chown(top, 65534, 65534)
            digests = {e[3] for top in (web.local_dir, spare)
                       for e in tree_state(top).values() if e[3]}
            dst = AllocDir(os.path.join(base, "dst", f"dst-{i}"))
            dst.build()
            os.makedirs(os.path.join(dst.alloc_dir, "web"))
            os.chown(os.path.join(dst.alloc_dir, "web"), 65534, 65534)
            plant = os.path.join(dst.alloc_dir, "web", "local")

            turn = [0]

            def race(a=web.local_dir, b=spare, plant=plant, turn=turn):
                exchange(a, b)  # the old task shuffles its own dirs
                turn[0] += 1
                if turn[0] % 500 == 0:  # and now and then the new one plants a link
                    try:
                        os.symlink(canary.root, plant)
                    except FileExistsError:
                        pass

            with Racer(race):
                try:
                    dst.move(src, ["web"])
                    completed += 1
                except AllocDirError:
                    pass  # refused as a whole: the source is checked below
            found = {e[3] for top in (web.dir, os.path.join(dst.alloc_dir, "web"))
                     for e in tree_state(top).values() if e[3]}
            lost_files += len(digests - found)
            if canary.state() != before:
                host_changes += 1
                before = canary.state()
            src.destroy(), dst.destroy()
    figures.update(attempts=moves, completed=completed, failures=lost_files + host_changes,
                   files_lost=lost_files, host_changes=host_changes)
    assert lost_files == 0 and host_changes == 0
