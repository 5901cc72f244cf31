#!/usr/bin/env python3
"""The state file's cost: `remember` over 5,000 objects (the first run, which
creates the file, and the second, which updates it) side by side with building
the 5,000 observations, in one process, alternating, medians compared; then the
file's size after 30 simulated days of hourly flapping on 5,000 VPGs (every VPG
changes state every hour: the worst case the pruning must bound).

    python benchmarks/state.py                 # everything (about two minutes)
    python benchmarks/state.py --days 3        # a shorter simulation
    python benchmarks/state.py --only runs

Time is simulated (`now` is given to the library); the clock measures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zvpg_cli.triage.state import PRUNE_AFTER, Observed, history, remember

T0 = 1_800_000_000.0
STATES = ["Meeting SLA", "Not Meeting SLA / Delta Syncing", "Meeting SLA / Bitmap Syncing",
          "Initializing / Initial Sync", "History Not Meeting SLA"]


def observed(n: int, shift: int = 0) -> list[Observed]:
    """n VPGs on two sites; `shift` moves every VPG to the next state (flapping)."""
    return [Observed(f"zvm0{i % 2}|vpg|{i:08d}-4c1f-9d1e-{i:012d}", f"zvm0{i % 2}", "vpg", f"vpg-{i:05d}",
                     f"vpg-{i:05d}", STATES[(i + shift) % len(STATES)], float((i * 7) % 100))
            for i in range(n)]


def _time(fn: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def runs(n: int, repeat: int) -> None:
    build, first, second, changed = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeat):  # alternating, so that a busy machine weighs on all alike
            path = os.path.join(tmp, f"state-{r}.db")
            build.append(_time(observed, n))
            objs = observed(n)
            first.append(_time(remember, path, objs, T0, 3600))
            second.append(_time(remember, path, objs, T0 + 300, 3600))
            flapped = observed(n, shift=1)
            changed.append(_time(remember, path, flapped, T0 + 600, 3600))
    base = statistics.median(build)
    print(f"remember over {n:,} objects, medians of {repeat} alternating runs:")
    print(f"  build {n:,} Observed            {base * 1000:8.1f} ms   1.00x")
    for label, values in [("first run (creates the file)", first), ("second run (same states)", second),
                          ("a run where every state changed", changed)]:
        m = statistics.median(values)
        print(f"  {label:<32} {m * 1000:8.1f} ms   {m / base:6.1f}x the build")


def flapping(n: int, days: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "state.db")
        hours = days * 24
        start = time.perf_counter()
        slowest = 0.0
        for hour in range(hours + 1):
            t = _time(remember, path, observed(n, shift=hour % 2), T0 + hour * 3600, 3600)
            slowest = max(slowest, t)
        elapsed = time.perf_counter() - start
        size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
        main = os.path.getsize(path)
        import sqlite3

        conn = sqlite3.connect(path)
        rows = conn.execute("SELECT count(*) FROM transitions").fetchone()[0]
        conn.close()
        now = T0 + hours * 3600
        day = _time(history, path, None, now - 86400, now)
        everything = _time(history, path, None, None, now)
        one = _time(history, path, "vpg-00042", None, now)
        print(f"{days} simulated days of hourly flapping on {n:,} VPGs ({hours + 1} runs, "
              f"{elapsed:.0f} s, slowest run {slowest * 1000:.0f} ms):")
        print(f"  state file {main / 1e6:.1f} MB ({size / 1e6:.1f} MB with its WAL and shared memory), "
              f"{rows:,} transitions kept (pruned after {PRUNE_AFTER // 86400} days)")
        print(f"  history: the last 24h {day:.2f} s, one VPG {one:.2f} s, everything {everything:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--only", choices=["runs", "flapping"])
    args = ap.parse_args()
    if args.only in (None, "runs"):
        runs(args.objects, args.repeat)
    if args.only in (None, "flapping"):
        flapping(args.objects, args.days)


if __name__ == "__main__":
    main()
