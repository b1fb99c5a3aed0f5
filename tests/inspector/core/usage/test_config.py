"""--config: Nomad agent configurations in HCL and JSON, a directory of them
merged in lexical order, and bad files that cost one line each."""

from __future__ import annotations

import json

import pytest

from inspector.core.usage.config import ConfigError, read_config
from inspector.core.usage.thresholds import GcSettings

CLIENT_HCL = """
# /etc/nomad.d/client.hcl, as the Nomad docs write one
data_dir  = "/opt/nomad/data"
bind_addr = "0.0.0.0"

client {
  enabled = true
  servers = ["10.0.0.1:4647"]
  gc_interval              = "1m"
  gc_disk_usage_threshold  = 90
  gc_inode_usage_threshold = 75.5
  gc_max_allocs            = 120
  options = {
    "driver.raw_exec.enable" = "1"
  }
  meta {
    rack = "r1"
  }
}
"""


def test_an_hcl_agent_config(tmp_path):
    path = tmp_path / "client.hcl"
    path.write_text(CLIENT_HCL)
    config = read_config(str(path))
    assert config.errors == []
    assert config.data_dir == "/opt/nomad/data"
    assert config.alloc_root == "/opt/nomad/data/alloc"
    assert config.gc == GcSettings(90.0, 75.5, 120, "client.hcl")


def test_a_json_agent_config_with_alloc_dir(tmp_path):
    path = tmp_path / "agent.json"
    path.write_text(json.dumps({"data_dir": "/var/lib/nomad",
                                "client": {"enabled": True, "alloc_dir": "/srv/allocs",
                                           "gc_max_allocs": 10}}))
    config = read_config(str(path))
    assert config.alloc_root == "/srv/allocs"
    assert config.gc.max_allocs == 10
    assert config.gc.disk_threshold == 80.0 and config.gc.inode_threshold == 70.0
    assert config.gc.label == "from agent.json"


def test_without_gc_settings_the_defaults_are_labelled_as_such(tmp_path):
    (tmp_path / "base.hcl").write_text('data_dir = "/opt/nomad"\n')
    config = read_config(str(tmp_path))
    assert config.gc == GcSettings() and config.gc.label == "Nomad's defaults"


def test_a_directory_is_merged_in_lexical_order(tmp_path):
    (tmp_path / "00-base.hcl").write_text('data_dir = "/first"\nclient { gc_max_allocs = 5 }\n')
    (tmp_path / "10-client.json").write_text(json.dumps({"client": {"gc_max_allocs": 7}}))
    (tmp_path / "20-later.hcl").write_text('data_dir = "/second"\n')
    (tmp_path / "README.md").write_text("not a config")
    config = read_config(str(tmp_path))
    assert config.errors == []
    assert [p.rsplit("/", 1)[1] for p in config.files] == \
        ["00-base.hcl", "10-client.json", "20-later.hcl"]
    assert config.data_dir == "/second"
    assert config.gc.max_allocs == 7


def test_a_syntax_error_is_one_line_and_the_rest_still_counts(tmp_path):
    (tmp_path / "a.hcl").write_text(CLIENT_HCL)
    (tmp_path / "b.hcl").write_text('client {\n  gc_max_allocs = \n')
    (tmp_path / "c.json").write_text('{"client": {"gc_max_allocs": 3,}}')
    (tmp_path / "d.hcl").write_text('client { gc_disk_usage_threshold = "lots" }\n')
    config = read_config(str(tmp_path))
    assert len(config.errors) == 3
    assert all("\n" not in e for e in config.errors)
    assert "b.hcl: HCL syntax error at line" in config.errors[0]
    assert "c.json: JSON syntax error at line 1" in config.errors[1]
    assert "gc_disk_usage_threshold is not a number" in config.errors[2]
    assert config.data_dir == "/opt/nomad/data"
    assert config.gc.max_allocs == 120 and config.gc.disk_threshold == 90.0


@pytest.mark.parametrize("setup, reason", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "no *.hcl or *.json"),
])
def test_an_unusable_path_is_refused(tmp_path, setup, reason):
    path = tmp_path / "conf"
    setup(path)
    with pytest.raises(ConfigError, match=reason.replace("*", r"\*")):
        read_config(str(path))
