"""Constants, ``snapshot_error_filename``, the errors, ``AllocFileInfo``,
``AllocDirFS`` and ``allocdir.testing.temp_alloc_dir`` (SPEC §1-2)."""

from __future__ import annotations

import dataclasses
import inspect
import os
from datetime import datetime, timezone

import pytest

import allocdir
from allocdir import (
    ALLOC_GRPC_SOCKET,
    ALLOC_HTTP_SOCKET,
    LOG_DIR_NAME,
    SHARED_ALLOC_CONTAINER_PATH,
    SHARED_ALLOC_DIRS,
    SHARED_ALLOC_NAME,
    SHARED_DATA_DIR,
    SNAPSHOT_ERROR_TIME,
    TASK_DIRS,
    TASK_LOCAL,
    TASK_LOCAL_CONTAINER_PATH,
    TASK_SECRETS,
    TASK_SECRETS_CONTAINER_PATH,
    TMP_DIR_NAME,
    AllocDir,
    AllocDirError,
    AllocDirFS,
    AllocFileInfo,
    NotBuiltError,
    PathEscapesError,
    SecretReadError,
    snapshot_error_filename,
)
from allocdir.testing import temp_alloc_dir

PUBLIC_NAMES = [
    "SHARED_ALLOC_NAME", "LOG_DIR_NAME", "SHARED_DATA_DIR", "TMP_DIR_NAME",
    "SHARED_ALLOC_DIRS", "TASK_LOCAL", "TASK_SECRETS", "TASK_DIRS", "ALLOC_GRPC_SOCKET",
    "ALLOC_HTTP_SOCKET", "SHARED_ALLOC_CONTAINER_PATH", "TASK_LOCAL_CONTAINER_PATH",
    "TASK_SECRETS_CONTAINER_PATH", "SNAPSHOT_ERROR_TIME", "snapshot_error_filename",
    "AllocDir", "TaskDir", "AllocFileInfo", "AllocDirFS", "FileChanges", "ChangeEvent",
    "AllocDirError", "PathEscapesError", "SecretReadError", "NotBuiltError",
]


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_public_name_importable_from_package(name):
    assert hasattr(allocdir, name), f"allocdir.{name} missing"
    obj = getattr(allocdir, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert inspect.getdoc(obj), f"allocdir.{name} has no docstring"


def test_layout_constants_are_nomads():
    assert SHARED_ALLOC_NAME == "alloc"
    assert LOG_DIR_NAME == "logs"
    assert SHARED_DATA_DIR == "data"
    assert TMP_DIR_NAME == "tmp"
    assert tuple(SHARED_ALLOC_DIRS) == ("logs", "tmp", "data")
    assert TASK_LOCAL == "local"
    assert TASK_SECRETS == "secrets"
    assert dict(TASK_DIRS) == {"tmp": 0o1777}
    assert ALLOC_GRPC_SOCKET == "alloc/tmp/consul_grpc.sock"
    assert ALLOC_HTTP_SOCKET == "alloc/tmp/consul_http.sock"
    assert SHARED_ALLOC_CONTAINER_PATH == "/alloc"
    assert TASK_LOCAL_CONTAINER_PATH == "/local"
    assert TASK_SECRETS_CONTAINER_PATH == "/secrets"


def test_snapshot_error_time_is_go_normalised_date():
    # time.Date(2000, 0, 0, 0, 0, 0, 0, time.UTC): month 0 -> Dec 1999, day 0 -> Nov 30.
    assert SNAPSHOT_ERROR_TIME == datetime(1999, 11, 30, 0, 0, 0, tzinfo=timezone.utc)
    assert SNAPSHOT_ERROR_TIME.tzinfo is not None
    assert SNAPSHOT_ERROR_TIME.utcoffset().total_seconds() == 0
    assert SNAPSHOT_ERROR_TIME.timestamp() == 943920000


@pytest.mark.parametrize(
    "alloc_id", ["abc", "8f3b2c1e-1111-2222-3333-444455556666", ""]
)
def test_snapshot_error_filename(alloc_id):
    assert snapshot_error_filename(alloc_id) == f"NOMAD-{alloc_id}-ERROR.log"


def test_error_hierarchy():
    for cls in (PathEscapesError, SecretReadError, NotBuiltError):
        assert issubclass(cls, AllocDirError)
    assert issubclass(AllocDirError, Exception)
    # A missing path is the builtin, not an AllocDirError.
    assert not issubclass(FileNotFoundError, AllocDirError)


def test_path_escapes_error_message_says_escapes(alloc):
    with pytest.raises(PathEscapesError) as info:
        alloc.stat("../foo")
    assert "escapes" in str(info.value)


def test_secret_read_error_message(alloc_with_task):
    secret = os.path.join(alloc_with_task.task_dirs["web"].secrets_dir, "tok")
    with open(secret, "w") as f:
        f.write("s3cret")
    with pytest.raises(SecretReadError) as info:
        alloc_with_task.read_at("web/secrets/tok", 0)
    assert str(info.value) == "Reading secret file prohibited: web/secrets/tok"


def test_not_built_error(client_root):
    src = AllocDir(client_root / "src")
    src.build()
    dst = AllocDir(client_root / "dst")
    with pytest.raises(NotBuiltError):
        dst.move(src, [])


def test_alloc_file_info_fields_and_frozen():
    now = datetime.now(timezone.utc)
    info = AllocFileInfo(name="a", is_dir=False, size=3, file_mode="-rw-r--r--", mod_time=now)
    assert info.content_type == ""
    assert [f.name for f in dataclasses.fields(AllocFileInfo)] == [
        "name", "is_dir", "size", "file_mode", "mod_time", "content_type",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.size = 4  # type: ignore[misc]
    assert info == AllocFileInfo("a", False, 3, "-rw-r--r--", now, "")
    assert hash(info) == hash(AllocFileInfo("a", False, 3, "-rw-r--r--", now, ""))


PROTOCOL_METHODS = ["list", "stat", "read_at", "snapshot", "block_until_exists", "change_events"]


def test_alloc_dir_fs_protocol_is_what_alloc_dir_provides(alloc):
    for name in PROTOCOL_METHODS:
        assert callable(getattr(AllocDirFS, name, None)), f"AllocDirFS.{name} missing"
        assert callable(getattr(alloc, name, None)), f"AllocDir.{name} missing"
        want = list(inspect.signature(getattr(AllocDirFS, name)).parameters)
        got = list(inspect.signature(getattr(AllocDir, name)).parameters)
        # AllocDir may add keyword-only extras, but takes the protocol's parameters in order.
        assert got[: len(want)] == want, (name, want, got)
    if getattr(AllocDirFS, "_is_runtime_protocol", False):
        assert isinstance(alloc, AllocDirFS)


def test_temp_alloc_dir_yields_built_dir_and_destroys_it():
    with temp_alloc_dir() as d:
        assert isinstance(d, AllocDir)
        assert d.is_built
        assert os.path.isabs(d.alloc_dir)
        assert d.alloc_id and d.alloc_id == os.path.basename(d.alloc_dir)
        for sub in SHARED_ALLOC_DIRS:
            assert os.path.isdir(os.path.join(d.shared_dir, sub))
        path = d.alloc_dir
    assert not os.path.exists(path)


def test_temp_alloc_dir_prefix_and_alloc_id():
    with temp_alloc_dir(prefix="pfx-zz-", alloc_id="my-alloc") as d:
        assert d.alloc_id == "my-alloc"
        assert os.path.basename(d.alloc_dir) == "my-alloc"
        assert "pfx-zz-" in d.alloc_dir
    with temp_alloc_dir() as a, temp_alloc_dir() as b:
        assert a.alloc_dir != b.alloc_dir


def test_temp_alloc_dir_destroys_on_error():
    with pytest.raises(RuntimeError):
        with temp_alloc_dir() as d:
            path = d.alloc_dir
            td = d.new_task_dir("web")
            td.build(False, None)
            raise RuntimeError("boom")
    assert not os.path.exists(path)
