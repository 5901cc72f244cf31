"""Tab completion for bash, zsh and fish that yields a usable command line.

Status and substatus names have spaces ("Bitmap Syncing"). Typer's own bash
script inserts them unquoted, so `zvpg explain Bitm<Tab>` became
`zvpg explain Bitmap Syncing`: two arguments. zvpg ships its own scripts:

- bash: the completion function escapes each candidate with `printf %q`
  (Bitmap\\ Syncing) unless the word being completed opened a quote, in which
  case bash itself closes the quote around the inserted name;
- zsh: candidates go to `compadd`, which quotes them for the context; `-U`
  keeps the case- and space-insensitive matching zvpg does (bitm -> Bitmap);
- fish: fish escapes the candidates it inserts.

The Python side is Typer's completion classes (cli/framework.py): it reads the words
typed so far from the environment and asks the parameters' `autocompletion`
callbacks. Only the scripts and zsh's reply format are zvpg's.

`zvpg --show-completion SHELL` prints a script; `zvpg --install-completion
SHELL` writes it where the shell looks for completions, without editing any
start-up file. Imported only on those paths and when a shell asks for
completions (the _ZVPG_COMPLETE variable).
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from .framework import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ZshComplete,
    click,
    complete_var_for,
    resolve_context,
    resolve_incomplete,
)

BASH_SCRIPT = r"""
# zvpg tab completion for bash (zvpg --show-completion bash)
{func}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} item
    COMPREPLY=()
    while IFS= read -r item; do
        case $cur in
            \"*|\'*) COMPREPLY+=("$item") ;;  # an open quote: bash closes it
            *) COMPREPLY+=("$(printf '%q' "$item")") ;;  # Bitmap\ Syncing
        esac
    done < <(IFS=$'\n'; env COMP_WORDS="${{COMP_WORDS[*]}}" COMP_CWORD="$COMP_CWORD" \
             {var}=complete_bash "$1" 2>/dev/null)
    return 0
}}

complete -o default -F {func} {prog}
"""

ZSH_SCRIPT = r"""
#compdef {prog}
# zvpg tab completion for zsh (zvpg --show-completion zsh)

{func}() {{
    local -a lines values shown
    local line
    lines=("${{(@f)$(env _TYPER_COMPLETE_ARGS="${{words[1,$CURRENT]}}" {var}=complete_zsh \
                         "${{words[1]}}" 2>/dev/null)}}")
    for line in "${{lines[@]}}"; do
        [[ -n $line ]] || continue
        values+=("${{line%%$'\t'*}}")
        shown+=("${{line/$'\t'/  -- }}")
    done
    if (( ${{#values}} )); then
        compadd -U -l -d shown -- "${{values[@]}}"  # zsh quotes what it inserts
    else
        _files
    fi
}}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    {func} "$@"  # autoloaded from fpath: complete now
else
    compdef {func} {prog}  # sourced: register for later
fi
"""

FISH_SCRIPT = r"""
# zvpg tab completion for fish (zvpg --show-completion fish)
function _{func}_fish
    env {var}=complete_fish _TYPER_COMPLETE_FISH_ACTION=$argv[1] _TYPER_COMPLETE_ARGS=(commandline -cp) {prog}
end
# names when zvpg has some for this word, else files
complete --command {prog} --no-files --condition "_{func}_fish is-args" --arguments "(_{func}_fish get-args)"
"""


def _source(template: str, prog_name: str, complete_var: str) -> str:
    func = "_" + "".join(c if c.isalnum() else "_" for c in prog_name)
    return template.format(func=func, prog=prog_name, var=complete_var).strip() + "\n"


class _Matching:
    """Names match as `zvpg explain` matches them: case, spaces and dashes
    ignored, so `bitm` completes to Bitmap Syncing. (Typer keeps only the
    values that start with the typed text exactly, so the parameter is asked
    for all its values and they are filtered here.)"""

    cli: click.Command
    ctx_args: MutableMapping[str, Any]
    prog_name: str

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
        from ..knowledge.lookup import normalize

        ctx = resolve_context(self.cli, self.ctx_args, self.prog_name, args)
        obj, incomplete = resolve_incomplete(ctx, args, incomplete)
        if getattr(obj, "_custom_shell_complete", None) is None:  # option names, choices: click's way
            return obj.shell_complete(ctx, incomplete)
        key = normalize(incomplete)
        items = [item for item in obj.shell_complete(ctx, "") if normalize(str(item.value)).startswith(key)]
        return keep_typed(incomplete, items)


def keep_typed(typed: str, items: list[CompletionItem]) -> list[CompletionItem]:
    """Candidates that start with what was typed, where a shell needs it.

    A shell keeps what the candidates have in common (bash and zsh, case
    sensitive) or only those that start like the word (fish): `Delta Sy` with
    "Delta Syncing" and "Delta syncing a disk" became `Delta ` (the common
    part), and fish dropped "Zerto Virtual Manager paused protection" for
    `zvm pa`. Such a candidate becomes the typed text followed by the rest of
    the name ("Delta Syncing a disk", "zvm paused protection"), which `zvpg
    explain` reads as the same entry. Candidates the shells take as they are
    (bitm -> Bitmap Syncing; delta -> Delta Syncing, Delta syncing a disk) are
    left whole."""
    values = [str(item.value) for item in items]
    common = os.path.commonprefix(values)  # noqa: RUF071 - what bash and zsh insert of several, char by char
    if not typed or (all(v.casefold().startswith(typed.casefold()) for v in values) and len(common) >= len(typed)):
        return items
    out = []
    for item, value in zip(items, values, strict=True):
        if value.startswith(typed):
            out.append(item)
            continue
        cut = _typed_part(typed, value)
        out.append(item if cut is None else CompletionItem(typed + value[cut:], help=item.help))
    return out


def _typed_part(typed: str, value: str) -> int | None:
    """How much of `value` the typed text stands for (the same words, however
    spelt), ending as the typed text ends: with a separator or within a word."""
    from ..knowledge.lookup import normalize

    key = normalize(typed)
    fits = [k for k in range(len(value) + 1) if normalize(value[:k]) == key]
    if not fits:
        return None
    return fits[-1] if not typed[-1].isalnum() else fits[0]


class _Joined(_Matching):
    """zsh and fish pass the words typed as one string (_TYPER_COMPLETE_ARGS);
    Typer takes a line that ends with a space as "a new word begins", even when
    the space is the typed word's own (`"Delta <Tab>`, `Delta\\ <Tab>`)."""

    def get_completion_args(self) -> tuple[list[str], str]:
        args, incomplete = super().get_completion_args()  # type: ignore[misc]
        if not incomplete and args and args[-1].endswith(" "):  # a space inside a quote or escaped
            return args[:-1], args[-1]
        return args, incomplete


class _Bash(_Matching, BashComplete):
    def source(self) -> str:
        return _source(BASH_SCRIPT, self.prog_name, self.complete_var)


class _Zsh(_Joined, ZshComplete):
    def source(self) -> str:
        return _source(ZSH_SCRIPT, self.prog_name, self.complete_var)

    def complete(self) -> str:
        """One candidate a line, with its description after a tab."""
        args, incomplete = self.get_completion_args()
        items = self.get_completions(args, incomplete)
        return "\n".join(f"{i.value}\t{i.help}" if i.help else str(i.value) for i in items)


class _Fish(_Joined, FishComplete):
    def source(self) -> str:
        return _source(FISH_SCRIPT, self.prog_name, self.complete_var)


CLASSES: dict[str, type[BashComplete | ZshComplete | FishComplete]] = {"bash": _Bash, "zsh": _Zsh, "fish": _Fish}


def script(shell: str, prog_name: str = "zvpg") -> str:
    return _source({"bash": BASH_SCRIPT, "zsh": ZSH_SCRIPT, "fish": FISH_SCRIPT}[shell], prog_name,
                   complete_var_for(prog_name))


def complete_from_environment(cli: click.Command, ctx_args: MutableMapping[str, Any], prog_name: str,
                              complete_var: str | None) -> None:
    """Answer a shell that asks for completions (`_ZVPG_COMPLETE=complete_bash`,
    ..., or `source_bash` for the script), then exit; do nothing otherwise."""
    var = complete_var or complete_var_for(prog_name)
    instruction = os.environ.get(var)
    if not instruction:
        return
    action, _, shell = instruction.partition("_")
    cls = CLASSES.get(shell)
    if cls is None or action not in ("complete", "source"):
        click.echo(f"zvpg: completion: unsupported instruction {instruction!r} (shells: bash, zsh, fish)", err=True)
        sys.exit(1)
    comp = cls(cli, ctx_args, prog_name, var)
    if action == "source":
        click.echo(comp.source(), nl=False)
    else:
        try:
            out = comp.complete()
        except Exception:  # a completion never prints a traceback into the command line
            if os.environ.get("ZVPG_DEBUG"):
                raise
            out = ""
        if out:
            click.echo(out)
    sys.exit(0)


def install_path(shell: str) -> Path:
    """Where each shell looks for completions on its own, no start-up file edited."""
    home = Path.home()
    if shell == "bash":  # bash-completion 2 loads it on first use of `zvpg`
        base = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
        return Path(base) / "bash-completion" / "completions" / "zvpg"
    if shell == "zsh":
        return home / ".zfunc" / "_zvpg"
    base = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    return Path(base) / "fish" / "completions" / "zvpg.fish"


AFTER_INSTALL = {
    "bash": "bash-completion loads it in new shells. Without the bash-completion package, add to ~/.bashrc:\n"
            "  source {path}",
    "zsh": "If ~/.zfunc is not in your fpath yet, add to ~/.zshrc, before compinit runs:\n"
           "  fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit",
    "fish": "fish loads it in new shells.",
}


def install(shell: str) -> str:
    """Write the script for `shell`; return what to tell the user."""
    path = install_path(shell)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script(shell), encoding="utf-8")
    return f"zvpg: {shell} completion installed in {path}\n" + AFTER_INSTALL[shell].format(path=path)
