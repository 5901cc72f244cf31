"""The one way zvpg matches names against patterns: shell-style globs (`*`, `?`,
`[...]`), case ignored (--vpg, --exclude, a policy rule's vpg and site, history's pattern)."""

from __future__ import annotations

from fnmatch import fnmatchcase


def glob_match(name: str, pattern: str) -> bool:
    """Whether `name` matches the glob `pattern`, case ignored."""
    return fnmatchcase(name.casefold(), pattern.casefold())
