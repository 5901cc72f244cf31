"""Read a knowledge-base YAML file safely: only YAML's safe subset
(PyYAML's SafeLoader, its C version when available), so a tag such as
``!!python/object/apply`` is an error, never a call; every mapping remembers
the line of each key; numbers too long to be codes are not converted, and
aliases (``*name``) may not blow the document up. Problems come back as
`Problem`s with their lines, never as exceptions. `zvpg_cli.knowledge.schema` checks
what this reads."""

from __future__ import annotations

from typing import Any, NamedTuple

import yaml

from .kbsource import KBError, read_source

#: Codes are the REST API's non-negative Int32.
MAX_CODE = 2**31 - 1
#: A YAML integer written with more characters than this is not converted
#: (a code has at most 10 digits; a long sexagesimal number costs quadratic time).
MAX_INT_CHARS = 64
try:  # the C parser is several times faster; the constructor stays SafeConstructor
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader

class Problem(NamedTuple):
    line: int | None
    message: str


class Map(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers its own line and the line of each key."""

    line: int
    key_lines: dict[Any, int]


class _Loader(_Base):  # type: ignore[misc]
    problems: list[Problem]


class _Unreadable:
    """A scalar YAML could not turn into a value; the loader has reported it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "an unreadable value"


UNREADABLE = _Unreadable()


def quote(value: Any, limit: int = 60) -> str:
    """`repr` of a value from the file, shortened: a message stays one short line."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "..."
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value)
    text = repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + "..."


def int_text(value: int) -> str:
    return str(value) if value.bit_length() <= 64 else f"a {value.bit_length()}-bit number"


def _safe_scalar(kind: str) -> Any:
    """SafeConstructor's constructor for `kind`, made to report a value it
    cannot read (a line, not an exception) and to refuse over-long integers."""
    base = yaml.constructor.SafeConstructor.yaml_constructors[f"tag:yaml.org,2002:{kind}"]

    def construct(loader: _Loader, node: yaml.Node) -> Any:
        line = node.start_mark.line + 1
        text = node.value if isinstance(node, yaml.ScalarNode) else ""
        if kind == "int" and len(text) > MAX_INT_CHARS:
            loader.problems.append(Problem(line, f"number {text[:12]}... is too large ({len(text)} characters; "
                                                 f"codes go up to {MAX_CODE})"))
            return UNREADABLE
        try:
            return base(loader, node)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            loader.problems.append(Problem(line, f"YAML error: {quote(text, 40)} is not a valid {kind}"))
            return UNREADABLE

    return construct


for _kind in ("int", "float", "bool", "timestamp"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_kind}", _safe_scalar(_kind))


def _construct_mapping(loader: _Loader, node: yaml.Node) -> Map:
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(None, None, "expected a mapping here",
                                                node.start_mark)
    loader.flatten_mapping(node)
    result = Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            if key is not UNREADABLE:
                loader.problems.append(Problem(line, f"key {quote(key)} is not a string"))
            continue
        if key in result:
            loader.problems.append(Problem(line, f"duplicate key {quote(key)} (first on line "
                                                 f"{result.key_lines[key]})"))
            continue
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def parse_file(path: str) -> tuple[Any, list[Problem]]:
    """Read and parse `path` with the safe loader. Problems of reading and syntax
    come back as problems, never as exceptions."""
    try:
        raw = read_source(path)
    except KBError as exc:
        return None, [Problem(exc.line, exc.message)]
    return parse_source(raw)


def parse_source(raw: bytes) -> tuple[Any, list[Problem]]:
    """Parse the bytes of a knowledge base with the safe loader; see `parse_file`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(line, "knowledge base is not UTF-8 text")]
    loader = _Loader(text)
    loader.problems = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, loader.problems
        if "*" in text:  # without an alias no node is shared
            problem = _alias_problem(node)
            if problem is not None:
                return None, [problem]
        doc = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(" ".join(str(p) for p in (exc.context, exc.problem) if p).split())
        return None, [Problem(mark.line + 1 if mark else None, f"YAML error: {message}")]
    except yaml.reader.ReaderError as exc:
        return None, [_reader_problem(text, exc)]
    except yaml.YAMLError as exc:
        return None, [Problem(None, "YAML error: " + " ".join(str(exc).split()))]
    except RecursionError:
        return None, [Problem(None, "YAML error: nesting too deep")]
    finally:
        loader.dispose()
    return doc, loader.problems


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not allow (a control character): its line."""
    char = exc.character
    code = char if isinstance(char, int) else ord(char[:1] or "\0")
    if _Base is yaml.SafeLoader:  # pragma: no cover - the pure-Python reader counts characters
        line = text[: exc.position].count("\n") + 1
    else:  # libyaml counts bytes of UTF-8
        line = text.encode("utf-8", "surrogatepass")[: exc.position].count(b"\n") + 1
    return Problem(line, f"YAML error: {exc.reason} (character #x{code:04x})")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _alias_problem(root: yaml.Node) -> Problem | None:
    """Aliases (``*name``) let a small file stand for a huge document (a
    "billion laughs"), or for one that contains itself. Refuse a document
    that, expanded, holds more than twice the nodes and characters of the
    file's own, so that everything after parsing stays linear in its size."""
    size: dict[int, int] = {}  # id(node) -> its expanded size
    active: set[int] = set()  # the nodes on the path being walked
    own = 0
    blamed: tuple[int, yaml.Node | None] = (0, None)
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        ident = id(node)
        kids = _children(node)
        if finished:
            active.discard(ident)
            weight = 1 + (len(node.value) if isinstance(node, yaml.ScalarNode) else 0)
            own += weight
            size[ident] = min(1 << 62, weight + sum(size[id(k)] for k in kids))
            continue
        if ident in size:  # a second reference: an alias
            if size[ident] > blamed[0]:
                blamed = (size[ident], node)
            continue
        active.add(ident)
        stack.append((node, True))
        for kid in kids:
            if id(kid) in active:
                return Problem(kid.start_mark.line + 1,
                               "YAML error: an alias (*name) refers to a node that contains it")
            stack.append((kid, False))
    if size[id(root)] > 2 * own + 10_000 and blamed[1] is not None:
        return Problem(blamed[1].start_mark.line + 1, "YAML error: aliases (*name) of the node on this line make "
                       "the document more than twice as large as the file")
    return None
