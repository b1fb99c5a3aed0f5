"""The command line: one-line errors with exit status 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from inspector.tui import cli

from ..conftest import ALLOC_A, AGE_SECONDS


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("allocdir-inspector: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]
    assert proc.stdout == ""


def test_help_works():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for option in ("PATH", "--open", "--follow", "--demo"):
        assert option in proc.stdout


def test_missing_path(tmp_path):
    missing = tmp_path / "nope"
    assert_one_line_error(run_cli(str(missing)), str(missing), "no such file or directory")


def test_path_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    assert_one_line_error(run_cli(str(tmp_path / "file")), "not a directory")


def test_directory_without_alloc_dirs(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    assert_one_line_error(run_cli(str(tmp_path)), str(tmp_path), "not an alloc dir")


def test_tmp_like_directory_is_refused(tmp_path):
    """A directory one of whose subdirs has an alloc/ is not a root (it once was)."""
    tmp = tmp_path / "tmp"
    (tmp / "nomad-test" / "alloc").mkdir(parents=True)
    (tmp / "other.txt").write_text("x")
    assert_one_line_error(run_cli(str(tmp)), str(tmp),
                          "not an alloc dir, a client alloc root nor a Nomad data_dir")


def test_a_data_dir_reaches_the_app_as_its_alloc_root(data_dir, monkeypatch):
    seen = {}

    class FakeApp:
        def __init__(self, root, *, open_file=None, follow=False, first_screen=None):
            seen["root"] = root
            if first_screen is not None and first_screen.pager is not None:
                first_screen.pager.source.close()

        def run(self):
            pass

    monkeypatch.setattr("inspector.tui.app.InspectorApp", FakeApp)
    assert cli.main([str(data_dir), "--open", f"{ALLOC_A}/web/local/notes.txt"]) == 0
    assert seen["root"].path == str(data_dir / "alloc")
    assert seen["root"].description.startswith(f"data_dir {data_dir} → client root")


def test_unreadable_directory(shared_tmp, capfd):
    """As an unprivileged user (root reads everything) a 000 directory is refused."""
    from ..conftest import run_as_nobody

    locked = shared_tmp / "locked"
    locked.mkdir()
    (locked / "x").mkdir()
    locked.chmod(0o000)
    code, err = run_as_nobody(lambda: cli.main([str(locked)]))
    assert code == 2
    assert err.strip().splitlines() == [f"allocdir-inspector: {locked}: permission denied"]


@pytest.mark.parametrize(
    "rel, needle",
    [
        (f"{ALLOC_A}/web/local/missing.txt", "no such file"),
        (f"{ALLOC_A}/web/secrets/token", "Reading secret file prohibited"),
        (f"{ALLOC_A}/alloc/logs/.web.stdout.fifo", "is a FIFO"),
        (f"{ALLOC_A}/web/local", "is a directory"),
        (f"{ALLOC_A}/../../escape.txt", "escapes"),
        ("no-such-alloc/web/local/notes.txt", "no such allocation"),
    ],
)
def test_bad_open(alloc_root, rel, needle):
    (alloc_root.parent / "escape.txt").write_text("outside\n")
    assert_one_line_error(run_cli(str(alloc_root), "--open", rel), rel, needle)


def test_bad_open_in_a_single_alloc_dir(alloc_root):
    proc = run_cli(str(alloc_root / ALLOC_A), "--open", "web/secrets/token")
    assert_one_line_error(proc, "Reading secret file prohibited")


def test_follow_needs_open(alloc_root):
    assert_one_line_error(run_cli(str(alloc_root), "--follow"), "--follow", "--open")


def test_demo_takes_no_path(alloc_root):
    assert_one_line_error(run_cli("--demo", str(alloc_root)), "--demo")


def test_unknown_option_is_one_line():
    assert_one_line_error(run_cli("--bogus"), "unrecognized arguments")


def test_good_path_and_open_reach_the_app(alloc_root, monkeypatch):
    """A valid PATH and --open run the app with the located file and follow flag."""
    seen = {}

    class FakeApp:
        def __init__(self, root, *, open_file=None, follow=False, first_screen=None):
            seen.update(root=root, open_file=open_file, follow=follow, first=first_screen)

        def run(self):
            seen["ran"] = True

    monkeypatch.setattr("inspector.tui.app.InspectorApp", FakeApp)
    code = cli.main([str(alloc_root), "--open", f"{ALLOC_A}/alloc/logs/web.stdout.0", "--follow"])
    assert code == 0 and seen["ran"]
    alloc, rel = seen["open_file"]
    assert alloc.alloc_id == ALLOC_A and rel == "alloc/logs/web.stdout.0"
    assert seen["follow"] is True and seen["root"].path == str(alloc_root)
    # Its first screen was read before the app started (the tail: --follow),
    # so that the app's first frame shows it.
    first = seen["first"]
    try:
        assert first.pager is not None and first.message == ""
        shown = [row.text.plain for row in first.rows]
        last_line = (alloc_root / ALLOC_A / "alloc/logs/web.stdout.0").read_text().splitlines()[-1]
        assert last_line in shown
    finally:
        first.pager.source.close()
    assert AGE_SECONDS > 0


class RecordingApp:
    """Stands in for the app: records what the command line hands it."""

    seen: dict = {}

    def __init__(self, root, **options):
        RecordingApp.seen = dict(options, root=root)

    def run(self):
        first = RecordingApp.seen.get("first_screen")
        if first is not None and first.pager is not None:
            RecordingApp.seen["shown"] = [row.text.plain for row in first.rows]
            first.pager.source.close()


def test_open_a_set_by_its_name_whose_first_file_nomad_deleted(alloc_root, monkeypatch):
    logs = alloc_root / ALLOC_A / "alloc/logs"
    (logs / "web.stdout.0").rename(logs / "web.stdout.3")
    monkeypatch.setattr("inspector.tui.app.InspectorApp", RecordingApp)
    assert cli.main([str(alloc_root), "--open", f"{ALLOC_A}/alloc/logs/web.stdout",
                     "--follow"]) == 0
    seen = RecordingApp.seen
    assert seen["open_file"][1] == "alloc/logs/web.stdout" and "open_logs" not in seen
    last_line = (logs / "web.stdout.3").read_text().splitlines()[-1]
    assert last_line in seen["shown"]


def test_open_a_task_opens_its_stdout_and_stderr_merged(alloc_root, monkeypatch):
    monkeypatch.setattr("inspector.tui.app.InspectorApp", RecordingApp)
    assert cli.main([str(alloc_root), "--open", f"{ALLOC_A}/web"]) == 0
    assert [spec.tag for spec in RecordingApp.seen["open_logs"]] == ["web▸out", "web▸err"]


def test_open_a_set_name_with_no_file_is_one_line(alloc_root):
    assert_one_line_error(run_cli(str(alloc_root), "--open", f"{ALLOC_A}/alloc/logs/db.stdout"),
                          "no such file")
