#!/usr/bin/env python3
"""The policy's cost: `zvpg triage --nagios` of 5,000 VPGs without a policy, and
with a policy of 10,000 rules scoped by name, alternating, medians side by side
(the promise: within 2x the run without a policy); then the same judged in one
process (`triage.report`, no start-up), which shows the policy's own share.

    python benchmarks/policy.py                   # 10,000 rules on 5,000 VPGs
    python benchmarks/policy.py --rules 10000 --vpgs 5000 --repeat 5
    python benchmarks/policy.py --globs           # the rules' names are globs (vpg-0001*), not names

The rules name VPGs (`vpg = "vpg-01234"`), a quarter of them for the state the
VPGs are in, the rest for other states: what a policy that tunes VPG by VPG
looks like. The first run with a policy of 500 rules or more parses it and keeps
it compiled in zvpg's cache folder (the runs measured are the later ones, as a
check run every minute sees them; `--cold` measures a parse every time).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.sources.payload import parse
from zvpg_cli.sources.read import Read
from zvpg_cli.triage.report import Options
from zvpg_cli.triage.report import run as run_triage

MATCHES = ["Not Meeting SLA / Delta Syncing", "Initial Sync", "History Not Meeting SLA", "Meeting SLA"]


def payload(vpgs: int) -> bytes:
    objs = [{"VpgName": f"vpg-{i:05d}", "VpgIdentifier": f"id-{i}", "Status": 2 if i % 3 == 0 else 1,
             "SubStatus": 6 if i % 3 == 0 else 0, "ActualRPO": 5, "ConfiguredRpoSeconds": 300}
            for i in range(vpgs)]
    return json.dumps(objs).encode()


def policy(rules: int, vpgs: int, globs: bool) -> str:
    out = []
    for n in range(rules):
        name = f"vpg-{n % vpgs:05d}" + ("*" if globs else "")
        out.append(f'[[rule]]\nmatch = "{MATCHES[n % len(MATCHES)]}"\nvpg = "{name}"\ngrace = "{5 + n % 20}m"\n')
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--vpgs", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--globs", action="store_true", help="name patterns with a wildcard")
    parser.add_argument("--cold", action="store_true", help="no cache folder: parse the policy every run")
    args = parser.parse_args()
    kb = load_kb()
    raw = payload(args.vpgs)
    data = parse(raw)
    without, with_policy = [], []
    kind = "glob" if args.globs else "name"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "policy.toml")
        Path(path).write_text(policy(args.rules, args.vpgs, args.globs))
        vpgs = os.path.join(tmp, "vpgs.json")
        Path(vpgs).write_bytes(raw)
        env = {**os.environ, "ZVPG_CACHE_DIR": "" if args.cold else os.path.join(tmp, "cache")}
        cli_without, cli_with = [], []

        def cli(*extra: str) -> float:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "zvpg_cli", "triage", vpgs, "--nagios", *extra],
                           capture_output=True, env=env, check=False)
            return time.perf_counter() - start

        cli("--policy", path)  # the first run compiles the policy into the cache folder
        for _ in range(args.repeat):  # alternating, so that a busy machine weighs on both alike
            cli_without.append(cli())
            cli_with.append(cli("--policy", path))
        a, b = statistics.median(cli_without), statistics.median(cli_with)
        print(f"zvpg triage --nagios of {args.vpgs:,} VPGs, medians of {args.repeat} alternating runs"
              f"{' (no cache folder)' if args.cold else ''}:")
        print(f"  without a policy                      {a * 1000:8.1f} ms")
        print(f"  with {args.rules:,} {kind}-scoped rules         {b * 1000:8.1f} ms   ({b / a:.2f}x)")
        for _ in range(args.repeat):
            start = time.perf_counter()
            plain = run_triage(kb, [Read(data)], Options())
            without.append(time.perf_counter() - start)
            start = time.perf_counter()
            tuned = run_triage(kb, [Read(data)], Options(policy=path))
            with_policy.append(time.perf_counter() - start)
    a, b = statistics.median(without), statistics.median(with_policy)
    print(f"the same in one process (triage.report, no start-up), medians of {args.repeat}:")
    print(f"  without a policy                      {a * 1000:8.1f} ms")
    print(f"  with {args.rules:,} {kind}-scoped rules         {b * 1000:8.1f} ms   ({b / a:.2f}x)")
    assert plain.summary.total == tuned.summary.total == args.vpgs


if __name__ == "__main__":
    main()
