"""Nomad's own settings: the client block of an agent configuration.

``--config PATH`` takes what ``nomad agent -config`` takes: one file, or a
directory whose ``*.hcl`` and ``*.json`` files are read in lexical order,
each later file overriding what an earlier one set. Read from it:
``data_dir`` (top level), and in ``client``: ``alloc_dir``,
``gc_disk_usage_threshold``, ``gc_inode_usage_threshold``,
``gc_max_allocs``. HCL goes through ``python-hcl2``, JSON through ``json``.
A file that cannot be read or parsed is one line in ``errors``; the others
still count.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from ..text import printable
from .thresholds import (
    DEFAULT_DISK_THRESHOLD, DEFAULT_INODE_THRESHOLD, DEFAULT_MAX_ALLOCS, GcSettings,
)

CONFIG_SUFFIXES = (".hcl", ".json")
MAX_CONFIG_BYTES = 4 << 20
"""A larger file is not an agent configuration: refused rather than parsed."""

_GC_KEYS = {
    "gc_disk_usage_threshold": float,
    "gc_inode_usage_threshold": float,
    "gc_max_allocs": int,
}


class ConfigError(Exception):
    """PATH itself cannot be used (missing, empty directory): the one-line reason."""


@dataclass
class AgentConfig:
    """What the agent configuration says, merged across its files."""

    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    data_dir: str | None = None
    alloc_dir: str | None = None
    values: dict[str, float] = field(default_factory=dict)

    @property
    def alloc_root(self) -> str | None:
        """The client alloc root: ``client.alloc_dir``, else ``<data_dir>/alloc``."""
        if self.alloc_dir:
            return self.alloc_dir
        return os.path.join(self.data_dir, "alloc") if self.data_dir else None

    @property
    def gc(self) -> GcSettings:
        """The GC thresholds, each from the configuration or Nomad's default;
        labelled with the files when any was set there."""
        v = self.values
        source = ", ".join(os.path.basename(f) for f in self.files) if v else ""
        return GcSettings(
            float(v.get("gc_disk_usage_threshold", DEFAULT_DISK_THRESHOLD)),
            float(v.get("gc_inode_usage_threshold", DEFAULT_INODE_THRESHOLD)),
            int(v.get("gc_max_allocs", DEFAULT_MAX_ALLOCS)), source)


def read_config(path: str) -> AgentConfig:
    """Read the agent configuration at ``path`` (a file or a directory).

    Raises :class:`ConfigError` when ``path`` is missing or holds no
    configuration file; a bad file is an entry of ``errors``."""
    config = AgentConfig()
    for file in _config_files(path):
        try:
            doc = _parse(file)
        except (OSError, ValueError) as exc:
            config.errors.append(f"{printable(file)}: {_one_line(exc)}")
            continue
        config.files.append(file)
        _merge(config, doc, file)
    return config


def _config_files(path: str) -> list[str]:
    if os.path.isdir(path):
        try:
            names = sorted(os.listdir(path))
        except OSError as exc:
            raise ConfigError(f"{printable(path)}: {_one_line(exc)}") from None
        files = [os.path.join(path, n) for n in names
                 if n.endswith(CONFIG_SUFFIXES) and os.path.isfile(os.path.join(path, n))]
        if not files:
            raise ConfigError(f"{printable(path)}: no *.hcl or *.json file in it")
        return files
    if not os.path.exists(path):
        raise ConfigError(f"{printable(path)}: no such file or directory")
    return [path]


def _parse(file: str) -> dict:
    with open(file, "rb") as f:
        data = f.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(f"larger than {MAX_CONFIG_BYTES >> 20} MiB: not an agent configuration")
    text = data.decode("utf-8", "replace")
    if file.endswith(".json"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"JSON syntax error at line {exc.lineno}, column {exc.colno}: "
                             f"{exc.msg}") from None
    else:
        doc = _parse_hcl(text)
    if not isinstance(doc, dict):
        raise ValueError("not an agent configuration (the top level is not an object)")
    return doc


def _parse_hcl(text: str) -> dict:
    import hcl2  # loaded only when a --config is given: parsing HCL is not on the start path

    try:
        return hcl2.loads(text)
    except Exception as exc:  # lark's errors: turned into one line naming the place
        line, column = getattr(exc, "line", None), getattr(exc, "column", None)
        where = f" at line {line}, column {column}" if line else ""
        raise ValueError(f"HCL syntax error{where}") from None


def _merge(config: AgentConfig, doc: dict, file: str) -> None:
    data_dir = _scalar(doc.get("data_dir"))
    if data_dir is not None:
        config.data_dir = str(data_dir)
    for block in _blocks(doc.get("client")):
        alloc_dir = _scalar(block.get("alloc_dir"))
        if alloc_dir:
            config.alloc_dir = str(alloc_dir)
        for key, kind in _GC_KEYS.items():
            if key not in block:
                continue
            value = _scalar(block[key])
            try:
                number = kind(value)
            except (TypeError, ValueError):
                config.errors.append(f"{printable(file)}: client.{key} is not a number: "
                                     f"{printable(value)}")
                continue
            config.values[key] = number


def _blocks(value) -> list[dict]:
    """A block as HCL (a list of dicts) or JSON (a dict, or a list of them) gives it."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _scalar(value):
    """An HCL string comes quoted (``'"/opt/nomad"'``): unquoted here."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value[1:-1]
    return value


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()
    return printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
