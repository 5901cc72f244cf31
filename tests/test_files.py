"""The one reader of small local files zvpg does not trust (zvpg_cli/base/files.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zvpg_cli.base.files import FileError, read_file

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and symlinks")


@settings(max_examples=30, deadline=None)
@given(data=st.binary(max_size=300), limit=st.integers(min_value=0, max_value=400))
def test_a_regular_file_is_read_whole_or_refused_past_the_limit(tmp_path_factory: pytest.TempPathFactory,
                                                                  data: bytes, limit: int) -> None:
    path = tmp_path_factory.mktemp("f") / "file"
    path.write_bytes(data)
    if len(data) <= limit:
        assert read_file(str(path), "the file", limit)[0] == data
    else:
        with pytest.raises(FileError, match=f"the file is {len(data)} bytes; the limit is {limit}"):
            read_file(str(path), "the file", limit)


@POSIX
def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody writes to it: a blocking open would wait forever
    for path in (fifo, tmp_path, Path("/dev/null")):
        with pytest.raises(FileError) as info:
            read_file(str(path), "the CA bundle", 100)
        assert str(info.value) == f"{path}: cannot read the CA bundle: not a regular file"
    with pytest.raises(FileError, match="No such file"):
        read_file(str(tmp_path / "missing"), "the password", 100)


@POSIX
def test_a_link_is_refused_where_links_are_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"secret")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert read_file(str(link), "the file", 100)[0] == b"secret"
    with pytest.raises(FileError):
        read_file(str(link), "a cache entry", 100, follow=False)
