"""--config on the app's command line: the GC thresholds reach the app, the
data_dir stands in for an omitted PATH, and a bad file is one line."""

from __future__ import annotations

from inspector.tui import cli


def _fake(monkeypatch) -> dict:
    seen: dict = {}

    class FakeApp:
        def __init__(self, root, *, open_file=None, follow=False, first_screen=None,
                     gc_settings=None):
            seen.update(root=root, gc=gc_settings)

        def run(self):
            pass

    monkeypatch.setattr("inspector.tui.app.InspectorApp", FakeApp)
    return seen


def test_the_config_gives_the_path_and_the_thresholds(data_dir, tmp_path, monkeypatch):
    seen = _fake(monkeypatch)
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "a.hcl").write_text(f'data_dir = "{data_dir}"\n')
    (tmp_path / "conf" / "b.json").write_text('{"client": {"gc_inode_usage_threshold": 55}}')
    assert cli.main(["--config", str(tmp_path / "conf")]) == 0
    assert seen["root"].path == str(data_dir / "alloc")
    assert seen["gc"].inode_threshold == 55 and seen["gc"].disk_threshold == 80
    assert seen["gc"].label == "from a.hcl, b.json"


def test_a_bad_config_is_one_line_and_the_app_still_opens(alloc_root, tmp_path, monkeypatch,
                                                          capfd):
    seen = _fake(monkeypatch)
    bad = tmp_path / "bad.hcl"
    bad.write_text("client {\n")
    assert cli.main([str(alloc_root), "--config", str(bad)]) == 0
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("allocdir-inspector: --config: ")
    assert "HCL syntax error" in err[0]
    assert seen["root"].path == str(alloc_root)
    assert seen["gc"].label == "Nomad's defaults"
