"""A stack trace goes with the line that logged it, in the session: the
``&`` filter shows it, ``e``/``E`` stop at the error once, following a
filter shows a trace written after its line."""

from __future__ import annotations

from .conftest import LOGS

LOG = f"{LOGS}/web.stderr.0"
ERROR_WITH_TRACE = (b"2026-11-28T10:00:%02d.000Z ERROR request %d failed\n"
                    b"Traceback (most recent call last):\n"
                    b"  File \"app.py\", line 3, in handle\n"
                    b"ValueError: ERROR in the trace\n")


def log(errors: int = 3) -> bytes:
    out = []
    for i in range(errors):
        out.append(b"2026-11-28T10:00:%02d.500Z INFO request %d ok\n" % (i, i))
        out.append(ERROR_WITH_TRACE % (i, i))
    return b"".join(out)


def test_the_filter_shows_each_error_with_its_trace(reader):
    reader.write(LOG, log())
    reader.open(reader.alloc, LOG)
    reader.filter("failed")
    assert reader.lines[:4] == ["2026-11-28T10:00:00.000Z ERROR request 0 failed",
                                "Traceback (most recent call last):",
                                '  File "app.py", line 3, in handle',
                                "ValueError: ERROR in the trace"]
    assert reader.lines[4] == "2026-11-28T10:00:01.000Z ERROR request 1 failed"
    assert "ok" not in " ".join(reader.lines) and reader.status.matches == 3


def test_e_and_E_go_from_error_to_error_not_through_the_trace(reader):
    reader.write(LOG, log(6))
    reader.open(reader.alloc, LOG)
    reader.next_error()
    assert reader.lines[0] == "2026-11-28T10:00:00.000Z ERROR request 0 failed"
    reader.next_error()
    assert reader.lines[0] == "2026-11-28T10:00:01.000Z ERROR request 1 failed"
    reader.line_down(3)  # the trace's own ERROR line at the top
    assert reader.lines[0] == "ValueError: ERROR in the trace"
    reader.next_error(backward=True)
    assert reader.lines[0] == "2026-11-28T10:00:01.000Z ERROR request 1 failed"


def test_following_a_filter_shows_the_trace_written_after_its_line(reader):
    reader.write(LOG, log(1))
    reader.open(reader.alloc, LOG)
    reader.filter("failed")
    reader.follow(True)
    reader.wait(lambda: reader.frame.following)
    reader.write(LOG, b"2026-11-28T10:00:09.000Z ERROR request 9 failed\n", mode="ab")
    reader.wait(lambda: reader.lines[-1].endswith("request 9 failed"))
    reader.write(LOG, b"  at the frame written later\n"
                      b"2026-11-28T10:00:10.000Z INFO fine\n", mode="ab")
    reader.wait(lambda: reader.lines[-1] == "  at the frame written later")
    assert "fine" not in " ".join(reader.lines)
