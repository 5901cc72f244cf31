"""Tab completion that yields a usable command line, in real shells.

The scripts come from `zvpg --show-completion SHELL`. In bash the completion
function itself is run (COMP_WORDS set as bash sets them), and in every shell
that is installed (bash, zsh, fish) a name is completed interactively in a
pseudo-terminal: the line is typed with a Tab, run, and the arguments the
command received are checked. A shell that is missing is skipped."""

from __future__ import annotations

import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import KB_FILE
from hypothesis import given, settings
from hypothesis import strategies as st

from zvpg_cli.knowledge.model import KnowledgeBase

ZVPG = [sys.executable, "-m", "zvpg_cli"]
NAMES = ["bitm", "Bitm", "delta syncing a", "ZERTO VIRTUAL"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("_ZVPG") and k != "ZVPG_DATA"}
    env.update(extra)
    return env


def _complete(shell: str, words: list[str], **env: str) -> list[str]:
    """What zvpg answers a shell that asks for completions."""
    if shell == "bash":
        extra = {"COMP_WORDS": "\n".join(words), "COMP_CWORD": str(len(words) - 1)}
    else:
        extra = {"_TYPER_COMPLETE_ARGS": " ".join(words), "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    p = subprocess.run(ZVPG, env=_env(_ZVPG_COMPLETE=f"complete_{shell}", **extra, **env),
                       capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    return p.stdout.decode().splitlines()


# ---- zvpg's side: what it offers ------------------------------------------------------

def test_names_match_as_explain_matches_them() -> None:
    """Case, spaces and dashes do not matter, as in `zvpg explain bitmap sync`."""
    assert _complete("bash", ["zvpg", "explain", "bitm"]) == ["Bitmap Syncing"]
    assert _complete("bash", ["zvpg", "explain", "zerto virtual"]) == ["Zerto Virtual Manager paused protection"]
    assert _complete("bash", ["zvpg", "list", "--status", "History"]) == ["History Not Meeting SLA"]
    assert _complete("bash", ["zvpg", "list", "--status", "bitm"]) == []  # a substatus is no status
    assert set(_complete("bash", ["zvpg", "explain", "delta"])) == {"Delta Syncing", "Delta syncing a disk"}
    assert _complete("bash", ["zvpg", "explain", "zzz"]) == []


def test_candidates_keep_what_was_typed_where_a_shell_would_lose_it() -> None:
    """bash and zsh insert what several candidates have in common (case matters),
    fish keeps those that start like the word: each candidate starts with the typed text."""
    assert _complete("bash", ["zvpg", "explain", "Delta\\ Sy"]) == ["Delta Syncing", "Delta Syncing a disk"]
    assert _complete("zsh", ["zvpg", "explain", '"Delta S']) == ["Delta Syncing\tsubstatus",
                                                                "Delta Syncing a disk\tsubstatus"]
    assert _complete("fish", ["zvpg", "explain", '"zvm pa']) == ["zvm paused protection\tsubstatus"]
    assert _complete("zsh", ["zvpg", "explain", "Delta\\ "]) == ["Delta Syncing\tsubstatus",  # a typed space
                                                                  "Delta syncing a disk\tsubstatus"]
    assert _complete("bash", ["zvpg", "explain", "bitm"]) == ["Bitmap Syncing"]  # one candidate: the name whole


def test_zsh_and_fish_get_descriptions() -> None:
    assert _complete("zsh", ["zvpg", "explain", "Bitm"]) == ["Bitmap Syncing\tsubstatus"]
    assert _complete("fish", ["zvpg", "list", "--status", "hist"]) == ["History Not Meeting SLA\tstatus"]


def test_options_commands_and_choices_still_complete() -> None:
    assert _complete("bash", ["zvpg", "tri"]) == ["triage"]
    assert "--status" in _complete("bash", ["zvpg", "list", "--st"])
    assert _complete("bash", ["zvpg", "list", "--format", "m"]) == ["markdown"]


def test_completion_uses_the_knowledge_base_that_data_chooses(tmp_path: Path) -> None:
    custom = tmp_path / "kb.yaml"
    custom.write_text(KB_FILE.read_text(encoding="utf-8").replace(
        '  - name: "Bitmap Syncing"', '  - name: "Bitmap Syncing Locally"', 1), encoding="utf-8")
    assert subprocess.run([*ZVPG, "validate", str(custom)], env=_env(), capture_output=True).returncode == 0
    for words in (["zvpg", "explain", "--data", str(custom), "bitm"],
                  ["zvpg", "--data", str(custom), "explain", "bitm"]):
        assert _complete("bash", words) == ["Bitmap Syncing Locally"], words
    assert _complete("bash", ["zvpg", "explain", "bitm"], ZVPG_DATA=str(custom)) == ["Bitmap Syncing Locally"]


def test_a_broken_knowledge_base_completes_nothing_quietly(tmp_path: Path) -> None:
    assert _complete("bash", ["zvpg", "explain", "--data", str(tmp_path / "missing.yaml"), "bitm"]) == []


# ---- the scripts ----------------------------------------------------------------------

def _script(shell: str) -> str:
    p = subprocess.run([*ZVPG, "--show-completion", shell], env=_env(), capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    return p.stdout.decode()


def test_each_shell_gets_its_own_script() -> None:
    bash, zsh, fish = _script("bash"), _script("zsh"), _script("fish")
    assert "complete -o default -F _zvpg zvpg" in bash and "printf '%q'" in bash
    assert zsh.startswith("#compdef zvpg\n") and "compadd" in zsh and "complete -o" not in zsh
    assert "complete --command zvpg" in fish and "compdef" not in fish


@pytest.mark.parametrize("args", [["--show-completion"], ["--show-completion", "tcsh"],
                                  ["--install-completion", "powershell"]])
def test_an_unknown_or_missing_shell_is_a_usage_error(args: list[str]) -> None:
    p = subprocess.run([*ZVPG, *args], env=_env(), capture_output=True, timeout=60)
    assert p.returncode == 2 and p.stdout == b"" and b"Traceback" not in p.stderr


def test_install_completion_writes_where_each_shell_looks(tmp_path: Path) -> None:
    env = _env(HOME=str(tmp_path))
    env.pop("XDG_DATA_HOME", None)
    env.pop("XDG_CONFIG_HOME", None)
    where = {"bash": ".local/share/bash-completion/completions/zvpg", "zsh": ".zfunc/_zvpg",
             "fish": ".config/fish/completions/zvpg.fish"}
    for shell, path in where.items():
        p = subprocess.run([*ZVPG, "--install-completion", shell], env=env, capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert str(tmp_path / path) in p.stdout.decode()
        assert (tmp_path / path).read_text(encoding="utf-8") == _script(shell)
    assert not (tmp_path / ".bashrc").exists() and not (tmp_path / ".zshrc").exists()  # no start-up file edited


def test_an_unwritable_home_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / ".zfunc").write_text("a file where a folder should be")
    p = subprocess.run([*ZVPG, "--install-completion", "zsh"], env=_env(HOME=str(tmp_path)),
                       capture_output=True, timeout=60)
    assert p.returncode == 2 and p.stderr.decode().startswith("zvpg: cannot install zsh completion")
    assert p.stderr.count(b"\n") == 1


# ---- real shells ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the completion scripts and a `zvpg` on PATH that completes like
    the real one but, when run, prints the arguments it was given, one per line."""
    root = tmp_path_factory.mktemp("shells")
    (root / "bin").mkdir()
    zvpg = root / "bin" / "zvpg"
    zvpg.write_text(f"#!/bin/sh\n"
                    f'if [ -n "$_ZVPG_COMPLETE" ]; then exec {shlex.quote(sys.executable)} -m zvpg_cli "$@"; fi\n'
                    "for a in \"$@\"; do printf 'ARG<%s>\\n' \"$a\"; done\n")
    zvpg.chmod(0o755)
    for shell in ("bash", "zsh", "fish"):
        (root / f"zvpg.{shell}").write_text(_script(shell))
    return root


def _shell_env(home: Path) -> dict[str, str]:
    env = _env(HOME=str(home), PATH=f"{home / 'bin'}:{os.environ['PATH']}", TERM="dumb",
               XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"), LC_ALL="C.UTF-8")
    for var in ("PROMPT_COMMAND", "BASH_ENV", "ENV", "ZDOTDIR"):
        env.pop(var, None)
    return env


def test_the_bash_function_escapes_or_lets_bash_close_the_quote(home: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    cases = {  # the word being completed, as bash holds it in COMP_WORDS -> COMPREPLY
        "Bitm": ["Bitmap\\ Syncing"],
        "bitm": ["Bitmap\\ Syncing"],
        "Delta\\ syncing\\ a": ["Delta\\ syncing\\ a\\ disk"],
        '"Bitm': ["Bitmap Syncing"],  # in an open quote bash inserts it and closes the quote
        "'site disconnection. n": ["Site disconnection. No checkpoints"],
    }
    lines = [f"source {shlex.quote(str(home / 'zvpg.bash'))}"]
    for word in cases:
        lines += [f"COMP_WORDS=(zvpg explain {shlex.quote(word)}); COMP_CWORD=2",
                  f"_zvpg zvpg {shlex.quote(word)} explain",
                  'printf "%s\\n" "${#COMPREPLY[@]}" "${COMPREPLY[@]}"']
    # each unquoted reply is one word to the shell: eval it back
    lines += ["COMP_WORDS=(zvpg explain Bitm); COMP_CWORD=2; _zvpg zvpg Bitm explain",
              'eval "set -- ${COMPREPLY[0]}"; printf "%s|%s\\n" "$#" "$1"']
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", "\n".join(lines)], env=_shell_env(home),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    out = p.stdout.splitlines()
    for expected in cases.values():
        count = int(out.pop(0))
        assert out[:count] == expected
        del out[:count]
    assert out == ["1|Bitmap Syncing"]


def _interact(argv: list[str], env: dict[str, str], lines: list[str], expect: int, timeout: float = 30) -> str:
    """Type `lines` into an interactive shell on a pseudo-terminal; return what it
    printed once `expect` ARG lines and as many DONE markers have come out."""
    pty = pytest.importorskip("pty")
    import fcntl
    import termios

    master, slave = pty.openpty()

    def own_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, preexec_fn=own_terminal)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        for line in lines:  # one line at a time, each after the previous one's marker
            os.write(master, line.encode())
            want = len(re.findall(rb"^DONE\r?$", out, re.M)) + 1 if "DONE" in line else None
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.1)
                if ready:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        break
                    out += chunk
                if want is None or len(re.findall(rb"^DONE\r?$", out, re.M)) >= want:
                    break
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
    text = out.decode(errors="replace")
    assert len(re.findall(r"^DONE\r?$", text, re.M)) == expect, text[-2000:]
    return text


TYPED = [  # typed, Tab, then Enter -> the arguments zvpg received
    ("zvpg explain bitm\t", ["explain", "Bitmap Syncing"]),
    ('zvpg explain "Bitm\t', ["explain", "Bitmap Syncing"]),
    ("zvpg list --status hist\t", ["list", "--status", "History Not Meeting SLA"]),
    ("zvpg explain 'site disconnection. n\t", ["explain", "Site disconnection. No checkpoints"]),
    # several candidates whose case differs after what was typed: what was typed is kept
    ("zvpg explain Delta\\ Sy\t", ["explain", "Delta Syncing"]),
    ('zvpg explain "Delta S\t"', ["explain", "Delta Syncing"]),
    # a name found through a spelling it does not start with (ZVM = Zerto Virtual Manager)
    ('zvpg explain "zvm pa\t', ["explain", "zvm paused protection"]),
    # a bare space ends the word in every shell: docs/reference.md says to open a quote first
    ("zvpg explain Delta Sy\t", ["explain", "Delta", "Sy"]),
]


def _received(text: str) -> list[list[str]]:
    """The ARG<...> lines of each run, split at the DONE markers."""
    runs: list[list[str]] = [[]]
    for line in text.replace("\r", "").splitlines():
        if line == "DONE":
            runs.append([])
        runs[-1] += re.findall(r"^ARG<(.*)>$", line)
    return runs[:-1]


SHELLS: dict[str, Any] = {
    "bash": (["bash", "--norc", "--noprofile", "-i"],
             ["PS1='$ '; bind 'set bell-style none'\n", "source {dir}/zvpg.bash\n"]),
    "zsh": (["zsh", "-f", "-i"],
            ["PS1='$ '; autoload -Uz compinit && compinit -u -D\n", "source {dir}/zvpg.zsh\n"]),
    "fish": (["fish", "--no-config", "-i"],
             ["function fish_prompt; echo '$ '; end\n", "source {dir}/zvpg.fish\n"]),
}


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("shell", list(SHELLS))
def test_tab_completes_a_usable_command_line(home: Path, shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed (install the {shell} package, e.g. apt-get install {shell})")
    argv, setup = SHELLS[shell]
    lines = [s.format(dir=shlex.quote(str(home))) for s in setup]
    for typed, _ in TYPED:
        lines += [typed, "\n", "echo DONE\n"]
    text = _interact(argv, _shell_env(home), lines, expect=len(TYPED))
    assert _received(text) == [args for _, args in TYPED], text[-3000:]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_candidates_start_with_what_was_typed_and_name_the_same_entries(kb: KnowledgeBase,
                                                                         data: st.DataObject) -> None:
    """For any beginning of any name, in any case: every candidate starts like the typed
    text, several share at least the typed text, and each reads as the name it stands for."""
    from typer._click.shell_completion import CompletionItem

    from zvpg_cli.cli.completion import keep_typed
    from zvpg_cli.knowledge.lookup import normalize

    name = data.draw(st.sampled_from([e.name for e in kb.entries]))
    cut = data.draw(st.integers(min_value=1, max_value=len(name)))
    flips = data.draw(st.lists(st.booleans(), min_size=cut, max_size=cut))
    typed = "".join(c.swapcase() if flip else c for c, flip in zip(name[:cut], flips, strict=True))
    key = normalize(typed)
    names = [e.name for e in kb.entries if normalize(e.name).startswith(key)]
    out = [str(item.value) for item in keep_typed(typed, [CompletionItem(n) for n in names])]
    assert len(out) == len(names) and name in names
    assert all(o.casefold().startswith(typed.casefold()) for o in out), (typed, out)
    assert all(normalize(o) == normalize(n) for o, n in zip(out, names, strict=True))
    if len(out) > 1:
        assert len(os.path.commonprefix(out)) >= len(typed)  # noqa: RUF071 - what bash and zsh insert
