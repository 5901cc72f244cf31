"""Names that must be unique within one output (Checkmk services, Prometheus
series, Nagios performance-data labels), made so in one way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable


def unique(names: list[str], alternate: Callable[[int], str]) -> list[str]:
    """`names` made unique, stable across input order wherever the input
    allows: a name that several objects share gets the object's alternate
    (`alternate(i)`, its identifier) appended, `ERP [f3a1-0001]`, and only what
    is still equal then gets ` #2`, ` #3`, ... in input order."""
    if len(set(names)) == len(names):  # the common case: nothing to do
        return names
    shared = Counter(names)
    candidates = [f"{n} [{alternate(i)}]" if shared[n] > 1 else n for i, n in enumerate(names)]
    del shared
    taken = set(candidates)
    if len(taken) == len(candidates):
        return candidates
    last: dict[str, int] = {}  # a candidate -> the number it got last
    out = []
    for c in candidates:
        if c not in last:
            last[c] = 1
            out.append(c)
            continue
        n = last[c] + 1
        while f"{c} #{n}" in taken:
            n += 1
        last[c] = n
        taken.add(f"{c} #{n}")
        out.append(f"{c} #{n}")
    return out
