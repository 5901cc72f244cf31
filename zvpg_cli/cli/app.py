"""The Typer application and what its commands share: the knowledge base as
the --data option chose it, output formats, errors and exit codes.

Start-up time is the product's latency, so this module imports only typer and
the light domain modules; JSON, YAML and rich are imported by the code paths
that print them.
"""

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import typer

from .. import __version__
from ..knowledge.kb import KBError, load_kb
from .exits import EXIT_NOT_FOUND, EXIT_USAGE
from .framework import ClickException, get_current_context
from .help import ZvpgCommand, ZvpgGroup

if TYPE_CHECKING:
    from ..knowledge.alerts import SiteKnowledge
    from ..knowledge.lookup import LookupError_
    from ..knowledge.model import KnowledgeBase



class Format(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"
    markdown = "markdown"


class Kind(str, Enum):
    status = "status"
    substatus = "substatus"


class SeverityChoice(str, Enum):
    ok = "ok"
    warning = "warning"
    critical = "critical"
    unknown = "unknown"


class RecoveryChoice(str, Enum):
    possible = "possible"
    last_checkpoint = "last-checkpoint"
    not_possible = "not-possible"
    unknown = "unknown"


_F = TypeVar("_F", bound=Callable[..., Any])


class _Typer(typer.Typer):
    def command(self, *args: Any, cls: Any = None, **kwargs: Any) -> Callable[[_F], _F]:
        """Every command's --help is formatted the same way (cli/help.py)."""
        return super().command(*args, cls=cls or ZvpgCommand, **kwargs)


app = _Typer(
    name="zvpg",
    help="Explain the statuses and substatuses of Zerto Virtual Protection Groups (VPGs).\n\n"
    "What a status or substatus means and whether a failover is possible, from the Zerto "
    "documentation, with the ZVM REST API's codes; severity and what to do are zvpg's "
    "own judgement, labelled so.",
    # Shown as written, line by line (cli/help.py): keep each line within 76 characters.
    epilog="""Examples:
  zvpg explain "Not Meeting SLA / Bitmap Syncing"
  zvpg decode 2 23
  zvpg list --status "Not Meeting SLA"
  zvpg triage vpgs.json                     # the whole site, worst first
  zvpg triage --zvm https://zvm01:9669 --user monitor  # straight from a ZVM
  zvpg triage vpgs.json --nagios            # a monitoring check, exit 0-3
  zvpg annotate vpgs.json > annotated.json  # each object, decoded

Each command has its own --help with more examples.

Exit codes: 0 success, 1 not found (an unknown term or code), 2 usage error
or input that cannot be used (a knowledge base, a payload, a ZVM); --nagios:
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. docs/reference.md lists them all.""",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help, formatted by cli/help.py (rich help breaks words at 80 columns);
    # completion scripts of zvpg's own (cli/completion.py).
    rich_markup_mode=None,
    cls=ZvpgGroup,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DATA_HELP = "Knowledge-base YAML file to use instead of the packaged one."


def data_option() -> Any:
    """The --data option every command that loads the knowledge base takes
    (and the top level, before the command). No envvar here: ZVPG_DATA is read
    when no --data is given anywhere, so it never overrides `zvpg --data F CMD`."""
    return typer.Option(None, "--data", metavar="PATH", show_default=False,
                        help=DATA_HELP + " Default: $ZVPG_DATA, else the packaged file.")


def _settings() -> dict[str, Any]:
    """This run's settings, on the root context (`ctx.obj`): {"data": the
    knowledge base --data chose}. Empty outside a run."""
    ctx = get_current_context(silent=True)
    return {} if ctx is None else ctx.find_root().ensure_object(dict)


def data_path() -> str | None:
    """The knowledge base --data chose (None: $ZVPG_DATA, else the packaged one)."""
    return _settings().get("data")


def use_data(path: str | None) -> None:
    """Apply a command's own --data (it wins over one given before the command)."""
    if path is not None:
        _settings()["data"] = path


def kb_or_exit(what: str = "") -> "KnowledgeBase":
    """The knowledge base, or exit 2 with one line (`what` in front of it:
    where the knowledge base is not what the user is asking about, the line
    says what failed, as a monitoring status line must)."""
    try:
        return load_kb(data_path())
    except KBError as exc:
        kb_failed(exc, what)


def site_knowledge_or_exit() -> "SiteKnowledge":
    """The alert codes and site tables (data/alerts.yaml), or exit 2 with one line."""
    from ..knowledge.alerts import load

    try:
        return load()
    except KBError as exc:
        kb_failed(exc)


def kb_failed(exc: KBError, what: str = "") -> NoReturn:
    from ..base.sanitize import printable

    fail(printable(what + str(exc)), EXIT_USAGE)


class Failure(ClickException):
    """A command that cannot go on: one line on stderr (`zvpg: MESSAGE`) and
    exit `code`. Under `triage --nagios` the entry point (cli/__init__.py)
    turns it into the check's UNKNOWN status line instead."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.exit_code = code

    def show(self, file: Any = None) -> None:
        from ..base.writer import error

        error(f"zvpg: {self.message}")


def fail(message: str, code: int) -> NoReturn:
    raise Failure(message, code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"zvpg {__version__}")
        raise typer.Exit()


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def _show_completion(value: Shell | None) -> None:
    if value is not None:
        from .completion import script

        typer.echo(script(value.value), nl=False)
        raise typer.Exit()


def _install_completion(value: Shell | None) -> None:
    if value is not None:
        from .completion import install

        try:
            typer.echo(install(value.value))
        except OSError as exc:
            from ..base.sanitize import printable

            fail(printable(f"cannot install {value.value} completion: {exc}"), EXIT_USAGE)
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    data: str | None = typer.Option(
        None, "--data", metavar="PATH", envvar="ZVPG_DATA", show_envvar=True, help=DATA_HELP,
    ),
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
    show_completion: Shell | None = typer.Option(
        None, "--show-completion", metavar="SHELL", callback=_show_completion, is_eager=True,
        help="Print the tab-completion script for SHELL (bash, zsh or fish) and exit."),
    install_completion: Shell | None = typer.Option(
        None, "--install-completion", metavar="SHELL", callback=_install_completion, is_eager=True,
        help="Install tab completion for SHELL (bash, zsh or fish) in your home folder and exit."),
) -> None:
    ctx.ensure_object(dict)["data"] = data


def complete_term(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _complete(ctx, incomplete, None)


def complete_status(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    return _complete(ctx, incomplete, "status")


def _complete(ctx: typer.Context, incomplete: str, kind: str | None) -> list[tuple[str, str]]:
    """Names that start like `incomplete` (case, spaces and dashes ignored), each
    with its kind, from the knowledge base the command line chose with --data.
    (cli/completion.py asks with "" and does the matching itself.)"""
    from ..knowledge.lookup import normalize

    data = None
    node: Any = ctx
    while node is not None and data is None:  # the command's --data, else the top level's
        data = node.params.get("data")
        node = node.parent
    try:
        kb = load_kb(data)
    except KBError:
        return []  # completion stays silent
    key = normalize(incomplete)
    return [(e.name, e.kind) for e in kb.entries
            if (kind is None or e.kind == kind) and normalize(e.name).startswith(key)]


def options_into(name: str, options: dict[str, tuple[Any, Any]], make: Callable[..., Any]) -> Callable[[_F], _F]:
    """A decorator that declares options once for every command that takes
    them: the command's parameter `name` becomes `options` (each parameter's
    name -> its typer.Option and type), in its place in --help, and the command
    is called with `make(**their values)` as `name`."""

    def decorate(func: _F) -> _F:
        import functools
        import inspect

        signature = inspect.signature(func)
        params = list(signature.parameters.values())
        at = [p.name for p in params].index(name)
        extra = [inspect.Parameter(n, params[at].kind, default=option, annotation=kind)
                 for n, (option, kind) in options.items()]

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = make(**{n: kwargs.pop(n) for n in options})
            return func(*args, **kwargs)

        command.__signature__ = signature.replace(parameters=params[:at] + extra + params[at + 1:])  # type: ignore[attr-defined]
        annotations = {k: v for k, v in func.__annotations__.items() if k != name}
        command.__annotations__ = {**annotations, **{n: kind for n, (_, kind) in options.items()}}
        return cast(_F, command)

    return decorate


def pick_format(fmt: Format | None, json_flag: bool) -> Format:
    if json_flag:
        if fmt not in (None, Format.json):
            fail("--json and --format are exclusive", EXIT_USAGE)
        return Format.json
    return fmt or Format.table


def output_options(func: _F) -> _F:
    """--format/-f and --json, declared once: the command takes `fmt: Format`
    (table, json, yaml or markdown; --json is --format json)."""
    return options_into("fmt", {
        "fmt": (typer.Option(None, "--format", "-f", metavar="FORMAT", help=FORMAT_HELP), Format | None),
        "json_flag": (typer.Option(False, "--json", help=JSON_HELP), bool),
    }, pick_format)(func)


def resolve_or_exit(kb: "KnowledgeBase", term: str, kind: str | None = None) -> Any:
    from ..knowledge.lookup import LookupError_, resolve

    try:
        return resolve(kb, term, kind)
    except LookupError_ as exc:
        lookup_failed(exc)


def lookup_failed(exc: "LookupError_") -> NoReturn:
    """A term that resolves to nothing, or to several entries: one line, exit 1."""
    from ..base.sanitize import printable
    from ..knowledge.lookup import Ambiguous, CodeNotName

    term = exc.term
    if isinstance(exc, CodeNotName):
        fail(f"no matches {term!r}: explain takes names; for an API code, "
             f"run `zvpg decode {term}` (a status) or `zvpg decode STATUS {term}`.", EXIT_NOT_FOUND)
    if isinstance(exc, Ambiguous):
        fail(f"{printable(repr(term))} is ambiguous: it could be {printable(', '.join(exc.suggestions))}. "
             "Type more of the name.", EXIT_NOT_FOUND)
    what = f"{exc.kind} " if exc.kind else ""
    hint = f" Did you mean: {printable(', '.join(exc.suggestions))}?" if exc.suggestions else " Try `zvpg list`."
    fail(f"no {what}matches {printable(repr(term[:200]))}.{hint}", EXIT_NOT_FOUND)



FORMAT_HELP = "Output format: table (for people), json, yaml (knowledge-base schema) or markdown."
JSON_HELP = "Shorthand for --format json."
