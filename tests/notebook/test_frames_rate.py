"""``nb.frame`` (the lines as a DataFrame), ``nb.rate`` (errors and warnings
per bucket) and the viewer's marks, fields, context and ``export``, called
as a notebook user calls them (real widgets, no browser)."""

from __future__ import annotations

import json
import os
import stat

import pytest

pytest.importorskip("ipywidgets")
pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from inspector import notebook as nb  # noqa: E402
from inspector.notebook.actions import ActionRefused  # noqa: E402

from .conftest import _write  # noqa: E402

LOG = "alloc/logs/api.stdout"


def _records(alloc, start: int, stop: int, index: int) -> None:
    _write(f"{alloc.alloc_dir}/{LOG}.{index}", "".join(json.dumps({
        "ts": f"2026-11-28T10:{i // 60:02d}:{i % 60:02d}Z",
        "level": "error" if i >= 200 and i % 4 == 0 else "warn" if i % 50 == 7 else "info",
        "status": 503 if i >= 200 and i % 4 == 0 else 200,
        "msg": f"request {i}"}) + "\n" for i in range(start, stop)))


@pytest.fixture
def api(alloc):
    _records(alloc, 0, 150, 0)
    _records(alloc, 150, 300, 1)
    return alloc


def test_frame_of_a_rotation_set_is_its_lines_with_their_fields(api):
    table = nb.frame(api, LOG)
    assert len(table) == 300
    assert list(table.columns[:5]) == ["time", "level", "source", "offset", "text"]
    assert {"ts", "level_field", "status", "msg"} <= set(table.columns)
    assert str(table["time"].dtype) == "datetime64[ns]"
    assert table["time"].iloc[61] == pd.Timestamp("2026-11-28T10:01:01")
    assert table["source"].iloc[149] == "api.stdout.0" and table["source"].iloc[150] == \
        "api.stdout.1"
    assert table["offset"].iloc[150] == 0
    assert (table["level"] == "error").sum() == 25
    assert table.loc[table["status"] >= 500, "msg"].iloc[0] == "request 200"


def test_frame_takes_a_field_filter_a_time_range_and_a_limit(api):
    errors = nb.frame(api, LOG, where="status>=500 and level>=error")
    assert len(errors) == 25 and set(errors["status"]) == {503}
    window = nb.frame(api, LOG, since="2026-11-28T10:02:00", until="2026-11-28T10:02:09")
    assert list(window["msg"]) == [f"request {i}" for i in range(120, 130)]
    assert len(nb.frame(api, LOG, limit=10)) == 10


def test_frame_of_a_viewer_is_what_it_shows(api):
    viewer = nb.view(api, LOG + ".0").wait()
    table = nb.frame(viewer, where='request 1[0-9]"')
    assert list(table["msg"]) == [f"request {i}" for i in range(10, 20)]


def test_rate_plots_errors_and_warnings_per_bucket(api):
    figure = nb.rate(api, LOG)
    [ax] = figure.axes
    bars = [patch.get_height() for patch in ax.patches]
    assert sum(bars) == 25 and bars[0] == 0  # errors start at 10:03:20
    assert "errors and warnings per" in ax.get_title(loc="left")


def test_marks_jump_and_the_fields_of_the_top_line(api):
    viewer = nb.view(api, LOG + ".0").wait()
    viewer.next_page()
    viewer.wait()
    top = viewer.text()[0]
    viewer.mark("a")
    viewer.tail()
    viewer.wait()
    viewer.jump("a")
    viewer.wait()
    assert viewer.text()[0] == top
    viewer.fields()
    viewer.wait()
    assert viewer.field_view is not None and viewer.field_view.kind == "json"
    assert '"msg": "request 40"' in "\n".join(viewer.field_view.lines)
    assert "request 40" in viewer.fields_box.value


def test_export_writes_the_filtered_view_0600_and_refuses_an_allocation(api, tmp_path):
    viewer = nb.view(api, LOG + ".0").wait()
    viewer.filter("status>=500")
    viewer.wait()
    with pytest.raises(ActionRefused, match="alloc"):
        viewer.export(os.path.join(api.alloc_dir, "alloc/data/out.log")).wait(10)
    out = tmp_path / "errors.log"
    outcome = viewer.export(out, fmt="raw").wait(10)
    assert outcome.written and outcome.lines == 25
    lines = out.read_text().splitlines()
    assert len(lines) == 25 and all('"status": 503' in line for line in lines)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with pytest.raises(ActionRefused, match="exists"):
        viewer.export(out).wait(10)


def test_frame_times_are_read_as_pandas_reads_the_keys(alloc):
    from inspector.notebook.dataframe import _datetimes

    keys = ["20261128100001500000000", None, "20240229235959999999999", "20230229000000000000000",
            "20261328000000000000000", "20261128235960000000000", "16000101000000000000000",
            "99991231000000000000000", "20261128240000000000000", "20261128000000000000001"]
    expected = pd.to_datetime(pd.Series(keys, dtype=object), format="%Y%m%d%H%M%S%f",
                              errors="coerce").to_numpy(dtype="datetime64[ns]")
    got = _datetimes(pd, keys)
    assert [str(t) for t in got] == [str(t) for t in expected]
    assert str(got[0]) == "2026-11-28T10:00:01.500000000" and str(got[1]) == "NaT"


def test_frame_of_records_with_different_fields_and_plain_lines(alloc):
    _write(f"{alloc.alloc_dir}/{LOG}.0",
           '{"ts":"2026-11-28T10:00:00Z","level":"info","a":1}\n'
           "2026-11-28T10:00:01Z [ERROR] plain \x1b[31mred\n"
           '{"level":"warn","b":"x","ts":"2026-11-28T10:00:02Z"}\n')
    table = nb.frame(alloc, LOG)
    assert list(table["level"]) == ["info", "error", "warn"]
    assert table["a"].iloc[0] == 1 and pd.isna(table["a"].iloc[1])
    assert pd.isna(table["b"].iloc[0]) and table["b"].iloc[2] == "x"
    assert table["text"].iloc[1] == "2026-11-28T10:00:01Z [ERROR] plain \\x1b[31mred"
    assert list(table["time"].dt.second) == [0, 1, 2]
