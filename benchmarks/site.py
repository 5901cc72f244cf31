#!/usr/bin/env python3
"""Site health's cost: the whole triage of one site (5,000 VPGs, 500 alerts, 200
VRAs, 10 peer sites) against today's VPG-only triage of the same VPGs, each a
fresh process reading saved files, `--nagios`, alternating, medians side by
side (the promise: within 1.3x). Then the same judged in one process
(`triage.report.run`, no start-up), and the start-up share of the alert
knowledge (data/alerts.yaml: parsed, and read compiled from the cache folder).

    python benchmarks/site.py
    python benchmarks/site.py --vpgs 5000 --alerts 500 --vras 200 --peers 10 --repeat 9

The payloads are tests/fakezvm.py's realistic ones: a tenth of the VPGs lost
their peer (Not Meeting SLA / Site disconnection) and the peer list and a
ZVM0003 alert name it, alerts name VPGs, one VRA in twenty is not installed.

The whole triage runs as `zvpg triage vpgs.json alerts.json vras.json
peers.json --nagios` where the CLI takes several FILEs; until it does, both
sides run a small driver that does what the command does after parsing its
options (read each file, tell its part by its shape, judge, write the Nagios
answer: `output.report.answer`), without Typer's start-up, so the ratio is, if
anything, larger than the command's.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

from fakezvm import realistic_alerts, realistic_peersites, realistic_vpgs, realistic_vras  # noqa: E402

from zvpg_cli.knowledge.kb import load_kb  # noqa: E402
from zvpg_cli.sources.read import Read, read_source  # noqa: E402
from zvpg_cli.sources.shape import parse_any  # noqa: E402
from zvpg_cli.triage.report import Options, run  # noqa: E402

DRIVER = """
import sys
from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.output.report import answer
from zvpg_cli.sources.read import Read, read_source
from zvpg_cli.sources.shape import parse_any
from zvpg_cli.triage.report import Options
kb = load_kb()
reads = []
for path in sys.argv[1:]:
    part, payload = parse_any(read_source(path, 64 << 20))
    reads.append(Read(payload, part=part))
answer(kb, reads, Options(), "nagios")
"""


def site(vpgs: int, alerts: int, vras: int, peers: int) -> dict[str, list[dict[str, object]]]:
    """The parts of one site, as a ZVM answers them."""
    vpg_objects = realistic_vpgs(vpgs)
    peer_objects = realistic_peersites(peers)
    lost = vpg_objects[0]["RecoverySite"]["identifier"]  # type: ignore[index]
    peer_objects[0].update({"SiteIdentifier": lost, "PeerSiteName": "WCHL - CA"})
    for v in vpg_objects[::10]:
        v.update({"Status": 2, "SubStatus": 24, "RecoverySite": {**v["RecoverySite"], "identifier": lost}})  # type: ignore[dict-item]
    alert_objects = realistic_alerts(alerts - 1, vpg_objects)
    alert_objects.append({**alert_objects[8], "HelpIdentifier": "ZVM0003", "IsDismissed": False,
                          "Site": {"href": "x", "identifier": lost, "rel": None, "type": "PeerSiteApi"}})
    return {"vpgs": vpg_objects, "alerts": alert_objects, "vras": realistic_vras(vras), "peers": peer_objects}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vpgs", type=int, default=5_000)
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--vras", type=int, default=200)
    parser.add_argument("--peers", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    import compileall

    import zvpg_cli

    # every module's bytecode up to date, as an installed wheel has it (PYTHONDONTWRITEBYTECODE
    # would otherwise leave an edited module compiled afresh on every run)
    compileall.compile_dir(os.path.dirname(zvpg_cli.__file__), quiet=1)
    parts = site(args.vpgs, args.alerts, args.vras, args.peers)
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, objects in parts.items():
            files[name] = os.path.join(tmp, f"{name}.json")
            Path(files[name]).write_text(json.dumps(objects), encoding="utf-8")
        env = {**os.environ, "ZVPG_CACHE_DIR": os.path.join(tmp, "cache")}
        alone, whole = [files["vpgs"]], list(files.values())
        probe = subprocess.run([sys.executable, "-m", "zvpg_cli", "triage", *whole, "--nagios"], capture_output=True,
                               env=env, check=False)
        by_cli = b"unexpected extra argument" not in probe.stdout + probe.stderr
        command = ([sys.executable, "-m", "zvpg_cli", "triage"] if by_cli else [sys.executable, "-c", DRIVER])
        how = "zvpg triage FILE... --nagios" if by_cli else "the triage driver (the CLI takes one FILE yet)"

        def cpu() -> float:
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            return used.ru_utime + used.ru_stime

        def once(paths: list[str], cpu_times: list[float] | None = None) -> float:
            start, start_cpu = time.perf_counter(), cpu()
            done = subprocess.run([*command, *paths, *(["--nagios"] if by_cli else [])], capture_output=True,
                                  env=env, check=False)
            took = time.perf_counter() - start
            if cpu_times is not None:
                cpu_times.append(cpu() - start_cpu)
            if done.returncode not in (0, 1, 2) or not done.stdout.startswith(b"ZVPG "):
                raise SystemExit(f"the run failed ({done.returncode}): {done.stdout[:300]!r} {done.stderr[-500:]!r}")
            return took

        once(whole)  # the first run compiles the knowledge into the cache folder
        a_runs, b_runs, a_cpu, b_cpu = [], [], [], []  # wall-clock and CPU (user + system) seconds
        for _ in range(args.repeat):  # alternating, so that a busy machine weighs on both alike
            a_runs.append(once(alone, a_cpu))
            b_runs.append(once(whole, b_cpu))
        a, b = statistics.median(a_runs), statistics.median(b_runs)
        ac, bc = statistics.median(a_cpu), statistics.median(b_cpu)
        print(f"{how}, a fresh process each, medians of {args.repeat} alternating runs (wall clock; CPU):")
        print(f"  {args.vpgs:,} VPGs alone                          {a * 1000:8.1f} ms {ac * 1000:8.1f} ms")
        print(f"  + {args.alerts:,} alerts, {args.vras:,} VRAs, {args.peers:,} peer sites     {b * 1000:8.1f} ms"
              f" {bc * 1000:8.1f} ms   ({b / a:.2f}x; CPU {bc / ac:.2f}x; target 1.3x)")

        kb = load_kb()
        reads = {name: Read(parse_any(read_source(path, 64 << 20))[1], part=name) for name, path in files.items()}
        lib_a, lib_b = [], []
        for _ in range(args.repeat):
            gc.collect()  # (the previous run's garbage is not this one's cost)
            start = time.process_time()
            run(kb, [reads["vpgs"]], Options())
            lib_a.append(time.process_time() - start)
            gc.collect()
            start = time.process_time()
            report = run(kb, list(reads.values()), Options())
            lib_b.append(time.process_time() - start)
        a, b = statistics.median(lib_a), statistics.median(lib_b)
        print(f"the same judged in one process (triage.report.run, no start-up), CPU, medians of {args.repeat}:")
        print(f"  VPGs alone {a * 1000:8.1f} ms   whole site {b * 1000:8.1f} ms   ({b / a:.2f}x; "
              f"{len(report.findings):,} findings, {len(report.causes)} causes)")

        timing = ("import time; t = time.perf_counter(); from zvpg_cli.knowledge.alerts import load; load(); "
                  "print((time.perf_counter() - t) * 1000)")
        warm_up = ("import zvpg_cli.triage.report, zvpg_cli.output.report, zvpg_cli.sources.payload; "
                   "from zvpg_cli.knowledge.kb import load_kb; load_kb(); ")
        for label, cache in (("parsed (no cache folder)", ""),
                             ("compiled, from the cache folder", env["ZVPG_CACHE_DIR"])):
            took = [float(subprocess.run([sys.executable, "-c", warm_up + timing], capture_output=True, check=True,
                                         env={**os.environ, "ZVPG_CACHE_DIR": cache}).stdout)
                    for _ in range(args.repeat)]
            print(f"the alert knowledge's start-up in a triage process, {label}: {statistics.median(took):.1f} ms")


if __name__ == "__main__":
    main()
