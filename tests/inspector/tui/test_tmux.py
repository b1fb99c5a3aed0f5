"""Drive the real command in a detached tmux session: open, page, follow, quit."""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ..conftest import ALLOC_A

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def command() -> list[str]:
    script = shutil.which("allocdir-inspector")
    return [script] if script else [sys.executable, "-m", "inspector"]


class Tmux:
    """A private tmux server (own socket) running one command at a fixed size.

    ``config`` lines (e.g. "set -g set-clipboard on") are the server's whole
    configuration, read before the command starts.
    """

    def __init__(self, tmp: Path, config: list[str] | None = None) -> None:
        self.socket = f"inspector-test-{uuid.uuid4().hex[:8]}"
        self.status = tmp / "exit-status"
        self.config = tmp / "tmux.conf"
        self.config.write_text("".join(f"{line}\n" for line in config or []))

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.config), *args], capture_output=True,
            text=True, check=True, timeout=30,
        ).stdout

    def start(self, argv: list[str], size: tuple[int, int] = (120, 36), *,
              hold: bool = False) -> None:
        """Run ``argv``; with ``hold`` the pane stays open after it exits."""
        # COLUMNS and LINES, when the pane's shell sets them, would win over
        # the pane's real size: the command sees the size of the window.
        shell = (f"unset COLUMNS LINES; {shlex.join(argv)}; "
                 f"echo $? > {shlex.quote(str(self.status))}")
        if hold:
            shell += "; sleep 60"
        self.tmux("new-session", "-d", "-s", "t", "-x", str(size[0]), "-y", str(size[1]), shell)

    def pane_title(self) -> str:
        """The pane's title, which OSC 0 / OSC 2 would change."""
        return self.tmux("display-message", "-p", "-t", "t", "#{pane_title}").rstrip("\n")

    def buffers(self) -> str:
        """The paste buffers (with set-clipboard on, an OSC 52 adds one)."""
        return self.tmux("list-buffers")

    def screen_with_attributes(self) -> str:
        """The pane with its colours and attributes as escape sequences."""
        return self.tmux("capture-pane", "-p", "-e", "-t", "t")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "t", key)
            time.sleep(0.15)

    def screen(self) -> str:
        """The pane's text."""
        return self.tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, predicate, timeout: float = 20.0, what: str = "") -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                text = self.screen()
            except subprocess.CalledProcessError:
                text = ""
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{text}")
            time.sleep(0.1)

    def exit_status(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while not self.status.exists() or not self.status.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"the command did not exit:\n{self.screen()}")
            time.sleep(0.1)
        return int(self.status.read_text())

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux(tmp_path):
    session = Tmux(tmp_path)
    yield session
    session.close()


def test_open_page_follow_and_quit(alloc_root, tmux):
    log = alloc_root / ALLOC_A / "alloc/logs/web.stdout.0"
    tmux.start([*command(), str(alloc_root), "--open", f"{ALLOC_A}/alloc/logs/web.stdout.0"])
    tmux.wait_for(lambda s: "line 0001 of the web task" in s, what="the file")
    tmux.keys("Space")
    tmux.wait_for(lambda s: "line 0001" not in s and "line 0040" in s, what="next page")
    tmux.keys("G")
    tmux.wait_for(lambda s: "line 0300" in s, what="the tail")
    tmux.keys("f")
    time.sleep(0.5)  # the follower starts in a worker
    with open(log, "a") as out:
        out.write("appended from the tmux test\n")
    tmux.wait_for(lambda s: "appended from the tmux test" in s, timeout=10, what="the append")
    tmux.keys("q")
    assert tmux.exit_status() == 0


def demo_dirs() -> set[str]:
    base = os.environ.get("TMPDIR") or "/tmp"  # where the command makes it
    return set(glob.glob(os.path.join(base, "allocdir-demo-*")))


def started_demo(tmux) -> str:
    """Start the demo and return its directory (the screen may be too narrow to show it)."""
    before = demo_dirs()
    tmux.start([*command(), "--demo"])
    tmux.wait_for(lambda s: "5f0c3b2e " in s, what="demo")
    new = demo_dirs() - before
    assert len(new) == 1, new
    return new.pop()


def test_demo_runs_and_is_removed_on_quit(tmux):
    demo_dir = started_demo(tmux)
    assert os.path.isdir(demo_dir)
    # open the first allocation's web task config with the keyboard
    tmux.keys("Down", "Enter")
    tmux.wait_for(lambda s: "web/" in s, what="allocation expanded")
    tmux.keys("q")
    assert tmux.exit_status() == 0
    assert not os.path.exists(demo_dir)


def test_demo_is_removed_when_the_terminal_goes_away(tmux):
    """Closing the terminal (SIGHUP) must not leave the demo root, and its
    secrets tmpfs mounts, behind."""
    demo_dir = started_demo(tmux)
    tmux.close()  # the pane's terminal is gone: the app gets SIGHUP
    deadline = time.monotonic() + 20
    while os.path.exists(demo_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(demo_dir)


# -- operator-grade reading, in a real terminal --------------------------------


def status_line(screen: str) -> str:
    """The status line: the last line with a position (or FOLLOW) on it."""
    found = [line for line in screen.splitlines()
             if re.search(r"  @[\d,]+  ", line) or "FOLLOW" in line]
    return found[-1] if found else ""


def write_set(logs: Path, files: int = 3, lines: int = 200) -> None:
    every = [f"set line {f}-{i:03d}" for f in range(files) for i in range(lines)]
    data = ("\n".join(every) + "\n").encode()
    size = len(data) // files
    for f in range(files):
        end = (f + 1) * size if f < files - 1 else len(data)
        (logs / f"web.stdout.{f}").write_bytes(data[f * size : end])


def test_journey_rotation_set_as_one_log(alloc_root, tmux):
    """Point 1: open .0 of a set, G reaches the end of .2, [ and ] move by
    file, a search finds a line of .0 from the end."""
    logs = alloc_root / ALLOC_A / "alloc/logs"
    write_set(logs)
    tmux.start([*command(), str(alloc_root), "--open", f"{ALLOC_A[:8]}/alloc/logs/web.stdout.0"])
    tmux.wait_for(lambda s: "set line 0-000" in s, what="the head of .0")
    tmux.keys("G")
    # The status line follows the rows within a frame: wait for both.
    tmux.wait_for(lambda s: "set line 2-199" in s and "web.stdout.2 [3/3]" in status_line(s),
                  what="the end of the set, named in the status line")
    tmux.keys("[")
    tmux.wait_for(lambda s: "web.stdout.1 [2/3]" in status_line(s), what="previous file")
    tmux.keys("/", *"set line 0-010", "Enter")
    text = tmux.wait_for(lambda s: "wrapped to the top" in s, what="a match in .0")
    assert "set line 0-010" in text
    tmux.keys("q")
    assert tmux.exit_status() == 0


def test_journey_search_backward_regex_and_help_on_f1(alloc_root, tmux):
    """Point 2: ? searches backward with a regex, n goes on, F1 is help."""
    log = alloc_root / ALLOC_A / "alloc/logs/web.stdout.0"
    log.write_text("".join(f"entry {i:03d}{' ERROR boom' if i in (30, 90) else ''}\n"
                           for i in range(150)))
    tmux.start([*command(), str(alloc_root), "--open", f"{ALLOC_A}/alloc/logs/web.stdout.0"])
    tmux.wait_for(lambda s: "entry 000" in s, what="the log")
    tmux.keys("G", "?", *"ERR.R b", "Enter")
    tmux.wait_for(lambda s: "?ERR.R b" in status_line(s), what="backward match")
    tmux.wait_for(lambda s: "entry 090 ERROR boom" in s, what="the last error")
    tmux.keys("n")
    tmux.wait_for(lambda s: s.splitlines()[2].strip().endswith("entry 030 ERROR boom")
                  or "entry 030 ERROR boom" in s.splitlines()[1], what="n goes on backward")
    tmux.keys("F1")
    tmux.wait_for(lambda s: "escape / q / F1 to close" in s, what="help")
    tmux.keys("Escape", "q")
    assert tmux.exit_status() == 0


def test_journey_filter_and_errors(alloc_root, tmux):
    """Point 3: & shows only matching lines with a count, & alone clears, e jumps."""
    log = alloc_root / ALLOC_A / "alloc/logs/web.stdout.0"
    log.write_text("".join(
        f"2026-11-28T10:00:{i % 60:02d}Z {'ERROR' if i % 25 == 3 else 'INFO '} item {i}\n"
        for i in range(300)))
    tmux.start([*command(), str(alloc_root), "--open", f"{ALLOC_A}/alloc/logs/web.stdout.0"])
    tmux.wait_for(lambda s: "item 0" in s, what="the log")
    tmux.keys("&", *"ERROR", "Enter")
    # The rows and the status line come within a frame of each other: wait for both.
    tmux.wait_for(lambda s: "&ERROR: 12 lines" in s
                  and "INFO" not in s.split("&ERROR")[0].split("\n", 1)[1],
                  what="the count and only the matching lines")
    tmux.keys("&", "Enter")
    tmux.wait_for(lambda s: "INFO" in s, what="every line again")
    tmux.keys("e")
    tmux.wait_for(lambda s: "error line" in status_line(s), what="the next error line")
    tmux.keys("q")
    assert tmux.exit_status() == 0


def test_journey_line_numbers_and_go_to(alloc_root, tmux):
    """Point 4: # numbers lines, :N, N% and :@time go there."""
    log = alloc_root / ALLOC_A / "alloc/logs/web.stdout.0"
    log.write_text("".join(f"2026-11-28T{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z "
                           f"row {i}\n" for i in range(5000)))
    tmux.start([*command(), str(alloc_root), "--open", f"{ALLOC_A}/alloc/logs/web.stdout.0"])
    tmux.wait_for(lambda s: "row 0" in s, what="the log")
    tmux.keys("#")
    tmux.wait_for(lambda s: "L1/5,000" in s, what="line numbers counted")
    tmux.keys(":", *"4000", "Enter")
    tmux.wait_for(lambda s: " 4000 2026-11-28T11:06:39Z row 3999" in s, what="line 4000")
    tmux.keys("5", "0", "%", "Enter")
    tmux.wait_for(lambda s: "50%" in status_line(s) or "51%" in status_line(s), what="half-way")
    tmux.keys(":", *"@2026-11-28T10:30", "Enter")
    tmux.wait_for(lambda s: "2026-11-28T10:30:00Z row 1800" in s, what="the time")
    tmux.keys("q")
    assert tmux.exit_status() == 0


def test_journey_tree_big_directory_filter_and_live_refresh(alloc_root, tmux):
    """Point 5: a big directory is one list (G reaches its end), & narrows
    names, a new file shows up without r, .2 sorts before .10."""
    big = alloc_root / ALLOC_A / "alloc/data/big"
    big.mkdir()
    for n in range(3000):
        (big / f"item.{n}").touch()
    tmux.start([*command(), str(alloc_root), "--open", f"{ALLOC_A}/alloc/data/big/item.2"])
    tmux.wait_for(lambda s: "item.2" in s and "item.10" in s, what="the big directory")
    text = tmux.screen()
    assert text.index("item.2 ") < text.index("item.10")  # natural order
    tmux.keys("Tab", "G", "k", "k")
    tmux.wait_for(lambda s: "item.2999" in s, what="the last entry")
    tmux.keys("&", *"item.123", "Enter")
    tmux.wait_for(lambda s: "item.1234" in s and "item.2999" not in s, what="filtered")
    tmux.keys("&", "Escape", "g")
    (big / "item.0-fresh").write_text("new\n")
    tmux.wait_for(lambda s: "item.0-fresh" in s, timeout=10, what="live refresh")
    tmux.keys("q")
    assert tmux.exit_status() == 0


def test_journey_follow_reopens_and_marks_truncation(alloc_root, tmux):
    """Point 6: follow survives deletion and re-creation (tail -F), and a
    truncation draws a separator."""
    log = alloc_root / ALLOC_A / "alloc/data/app.log"
    log.write_text("first life\n")
    tmux.start([*command(), str(alloc_root), "--open", f"{ALLOC_A}/alloc/data/app.log",
                "--follow"])
    tmux.wait_for(lambda s: "first life" in s and "FOLLOW" in s, what="following")
    time.sleep(0.5)
    log.write_text("after truncation\n")
    tmux.wait_for(lambda s: "── truncated ──" in s and "after truncation" in s, what="separator")
    log.unlink()
    tmux.wait_for(lambda s: "deleted" in status_line(s), what="deleted")
    log.write_text("second life\n")
    tmux.wait_for(lambda s: "second life" in s and "recreated" in s, what="reopened")
    assert "FOLLOW" in status_line(tmux.screen())
    tmux.keys("q")
    assert tmux.exit_status() == 0


def test_journey_layout_at_80x24(alloc_root, tmux):
    """Point 7: at 80x24 the status line fits, ctrl+b hides the tree, > widens it."""
    tmux.start([*command(), str(alloc_root), "--open", f"{ALLOC_A}/alloc/logs/web.stdout.0"],
               size=(80, 24))
    text = tmux.wait_for(lambda s: "line 0001 of the web task" in s and "WRAP" in s,
                         what="the log and its status")
    status = status_line(text)
    assert status.strip().startswith(f"{ALLOC_A}/alloc/logs/web.stdout.0  ")  # full id: it fits
    assert "WRAP" in status  # position and flags fit in 80 columns
    line = next(line for line in text.splitlines() if "line 0001 of the web task" in line)
    assert line.index("line 0001") <= 26  # the tree takes 24 columns
    tmux.keys("C-b")
    text = tmux.wait_for(lambda s: any(row.startswith("line 0001") for row in s.splitlines()),
                         what="tree hidden")
    tmux.keys("C-b", "Tab", ">", ">")
    text = tmux.wait_for(lambda s: any(row.find("line 0001") >= 32 for row in s.splitlines()
                                       if "line 0001" in row), what="wider tree")
    tmux.keys("q")
    assert tmux.exit_status() == 0


def test_keys_typed_right_after_a_prompt_key_go_to_the_prompt(alloc_root, tmux):
    """`&ERROR`, `/needle` and `:120` each in one write, as a paste or a fast
    typist sends them: every key after the first is typed into the prompt,
    none reaches the viewer's bindings (E is "previous error", n "next
    match", 1 "go to")."""
    log = alloc_root / ALLOC_A / "alloc/logs/web.stdout.0"
    log.write_text("".join(
        f"2026-11-28T10:{i // 60 % 60:02d}:{i % 60:02d}Z "
        f"{'ERROR' if i % 25 == 3 else 'INFO '} item {i}{' needle' if i == 150 else ''}\n"
        for i in range(300)))
    tmux.start([*command(), str(alloc_root), "--open", f"{ALLOC_A}/alloc/logs/web.stdout.0"])
    tmux.wait_for(lambda s: "item 0" in s, what="the log")
    for round_ in range(5):
        tmux.tmux("send-keys", "-t", "t", "&ERROR", "Enter")
        tmux.wait_for(lambda s: "&ERROR: 12 lines" in status_line(s),
                      what=f"the filter ERROR, round {round_}")
        tmux.tmux("send-keys", "-t", "t", "&", "Enter")
        tmux.wait_for(lambda s: "&ERROR" not in status_line(s), what="the filter off")
    tmux.tmux("send-keys", "-t", "t", "/needle", "Enter")
    tmux.wait_for(lambda s: "/needle at byte" in status_line(s), what="the search")
    tmux.tmux("send-keys", "-t", "t", "g:120", "Enter")
    tmux.wait_for(lambda s: any(row.split("│")[-1].strip().endswith("item 119")
                                for row in s.splitlines()[1:3]), what="line 120 at the top")
    tmux.keys("Tab")  # the tree has the focus: its f would be "follow"
    tmux.tmux("send-keys", "-t", "t", "?ERROR item 3", "Enter")
    tmux.wait_for(lambda s: "?ERROR item 3 at byte" in status_line(s),
                  what="a search from the tree")
    assert "FOLLOW" not in status_line(tmux.screen())
    tmux.keys("q")
    assert tmux.exit_status() == 0


def test_journey_all_logs_of_an_allocation_merged_at_80x24(alloc_root, tmux):
    """Issue 18: the tree's "all logs" entry opens every task's stdout and
    stderr as one stream, each line after its source's tag, in time order;
    `t` shows one source, then the other, then both; following shows a
    line appended to either."""
    logs = alloc_root / ALLOC_A / "alloc/logs"
    (logs / "web.stdout.0").write_text(
        "".join(f"2024-01-01T10:00:{s:02d}Z out {s}\n" for s in range(0, 10, 2)))
    (logs / "web.stderr.0").write_text(
        "".join(f"2024-01-01T10:00:{s:02d}Z err {s}\n" for s in range(1, 10, 2)))
    tmux.start([*command(), str(alloc_root)], size=(80, 24))
    tmux.wait_for(lambda s: ALLOC_A[:8] in s, what="the allocations")
    tmux.keys("j", "Right")
    tmux.wait_for(lambda s: "all logs" in s, what="the all-logs entry")
    tmux.keys("j", "Enter")

    def rows(screen: str) -> list[str]:
        return [row[row.index("web▸"):].split("  ")[0].rstrip()
                for row in screen.splitlines() if "web▸" in row]

    merged = [f"web▸{'out' if s % 2 == 0 else 'err'} 2024-01-01T10:00:{s:02d}Z "
              f"{'out' if s % 2 == 0 else 'err'} {s}" for s in range(10)]
    tmux.wait_for(lambda s: rows(s)[:10] == merged, what="tagged lines in time order")
    tmux.keys("t")
    tmux.wait_for(lambda s: rows(s)[:5] == merged[0::2] and "web▸err" not in s,
                  what="stdout alone")
    tmux.keys("t")
    tmux.wait_for(lambda s: rows(s)[:5] == merged[1::2] and "web▸out" not in s,
                  what="stderr alone")
    tmux.keys("t")
    tmux.wait_for(lambda s: rows(s)[:10] == merged, what="both again")
    tmux.keys("f")
    tmux.wait_for(lambda s: "FOLLOW" in status_line(s), what="following")
    with open(logs / "web.stderr.0", "a") as out:
        out.write("2024-01-01T10:00:10Z err appended\n")
    tmux.wait_for(lambda s: rows(s)[-1:] == ["web▸err 2024-01-01T10:00:10Z err appended"],
                  what="the appended line, tagged")
    tmux.keys("q")
    assert tmux.exit_status() == 0
