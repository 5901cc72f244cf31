"""The one way zvpg matches names against patterns: shell-style globs (`*`, `?`,
`[...]`), case ignored (--vpg, --exclude, a policy rule's vpg and site, history's pattern)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase, translate


def glob_match(name: str, pattern: str) -> bool:
    """Whether `name` matches the glob `pattern`, case ignored."""
    return fnmatchcase(name.casefold(), pattern.casefold())


def compile_glob(pattern: str) -> re.Pattern[str]:
    """The glob `pattern` compiled once, case ignored: `.match(name.casefold())`
    answers as `glob_match(name, pattern)` does (for matchers used many times)."""
    return re.compile(translate(pattern.casefold()), re.S)
