"""Names that must be unique within one output (Checkmk services, Prometheus
series, Nagios performance-data labels), made so in one way."""

from __future__ import annotations

from collections import Counter


def unique(names: list[str], alternates: list[str]) -> list[str]:
    """`names` made unique, stable across input order wherever the input
    allows: a name that several objects share gets each object's alternate
    (its identifier) appended, `ERP [f3a1-0001]`, and only what is still equal
    then gets ` #2`, ` #3`, ... in input order."""
    shared = Counter(names)
    candidates = [f"{n} [{a}]" if shared[n] > 1 else n for n, a in zip(names, alternates, strict=True)]
    if len(set(candidates)) == len(candidates):
        return candidates
    taken = set(candidates)
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
