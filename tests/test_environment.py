"""Writers get their streams from one environment built at the entry, never
from a swapped sys.stdout: --output's file is the environment's stdout for a block."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from zvpg_cli.base.writer import Environment, environment, error, to_file, use_environment, write


def test_writers_use_the_environments_streams_and_output_files_leave_sys_stdout_alone(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    outer = environment()
    use_environment(Environment(out, err))
    try:
        write("to stdout\n")
        error("a warning")
        target = tmp_path / "out.txt"
        before = sys.stdout
        with to_file(str(target)):
            assert sys.stdout is before
            write("to the file\n")
        write("stdout again\n")
    finally:
        use_environment(outer)
    assert out.getvalue() == "to stdout\nstdout again\n"
    assert err.getvalue() == "a warning\n"
    assert target.read_text() == "to the file\n"
