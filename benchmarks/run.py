#!/usr/bin/env python3
"""zvpg benchmarks: start-up against the framework floor (explain, and the
Nagios check on 50 VPGs), annotate against jq, triage against annotate,
scaling with payload size, and every output format of annotate and triage
against the memory and time promise.

Every pair is measured side by side in one run: the two commands alternate,
N times each, and the medians are compared. Peak memory is each process's
maximum resident set size (from wait4; not on Windows). Run it from the
environment zvpg is installed in:

    python benchmarks/run.py               # everything (a few minutes)
    python benchmarks/run.py --quick       # fewer runs, no 1M-object payload
    python benchmarks/run.py --only startup

Payloads are generated (deterministically) under benchmarks/.payloads/.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAYLOADS = HERE / ".payloads"
BIN = Path(sys.executable).parent
ZVPG = shutil.which("zvpg", path=str(BIN)) or shutil.which("zvpg")

# Status, SubStatus pairs seen on a mostly healthy site.
MIX = [(1, 0)] * 80 + [(1, 23)] * 8 + [(2, 6), (4, 0), (3, 0), (1, 5), (0, 1), (2, 24), (5, 14), (2, 25),
                                        (1, 6), (6, 18), (7, 21), (2, 8)]
STATUS_NAMES = ["Initializing", "Meeting SLA", "Not Meeting SLA", "History Not Meeting SLA", "RPO Not Meeting SLA",
                "Failing Over", "Moving", "Deleting", "Recovered"]
JQ_PROGRAM = "map(. + {zvpg: {status: $names[(.Status|tostring)]}})"

MINIMAL_TYPER_APP = '''
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "x") -> None:
    print(name)
@app.command()
def bye() -> None:
    print("bye")
app()
'''


def vpg(i: int, rnd: random.Random) -> dict[str, object]:
    """A /v1/vpgs-shaped object (about 260 bytes of compact JSON)."""
    status, sub = rnd.choice(MIX)
    return {
        "VpgName": f"vpg-{i:06d}", "VpgIdentifier": f"{rnd.getrandbits(48):012x}-{i:06d}",
        "Status": status, "SubStatus": sub, "ActualRPO": rnd.randint(1, 900), "ConfiguredRpoSeconds": 300,
        "Priority": rnd.randint(0, 2), "VmsCount": rnd.randint(1, 12),
        "ProvisionedStorageInMB": rnd.randint(10_000, 900_000), "UsedStorageInMB": rnd.randint(1_000, 90_000),
        "IOPs": rnd.randint(0, 900), "SourceSite": "NYC-DC1", "TargetSite": "Azure-EastUS",
    }


def compact_vpg(i: int, rnd: random.Random) -> dict[str, object]:
    """The smallest object a client sends: identity, codes and RPOs (about 190 bytes)."""
    status, sub = rnd.choice(MIX)
    return {"VpgName": f"vpg-{i:06d}", "VpgIdentifier": f"{rnd.getrandbits(48):012x}-{i:06d}", "Status": status,
            "SubStatus": sub, "ActualRPO": rnd.randint(1, 900), "ConfiguredRpoSeconds": 300, "Priority": 1,
            "VmsCount": rnd.randint(1, 12), "SourceSite": "NYC-DC1"}


def zvm_vpg(i: int, rnd: random.Random) -> dict[str, object]:
    """A VPG with the fields a live ZVM sends (tests/fixtures/zerto-rest-api.md, "Shape of an API
    object"), nested objects included: about 1.6 KB, as ZVM objects are (1.5-2 KB). The values
    are made up; only the shape matters here."""
    obj = dict(EXAMPLE_VPG)
    status, sub = rnd.choice(MIX)
    ident = f"{rnd.getrandbits(48):012x}-{i:06d}"
    site = {"identifier": f"{rnd.getrandbits(64):016x}.{rnd.getrandbits(64):016x}", "type": "SiteApi",
            "href": "https://zvm01.acme.local:9669/v1/localsite", "rel": None}
    obj.update(VpgName=f"vpg-{i:06d}", VpgIdentifier=ident, Status=status, SubStatus=sub,
               ActualRPO=rnd.randint(1, 900), Link=dict(obj["Link"], identifier=ident),  # type: ignore[arg-type]
               ProtectedSite=site, RecoverySite=dict(site, href="https://zvm02.acme.local:9669/v1/peersites"),
               HistoryStatusApi={"ActualHistoryInMinutes": rnd.randint(60, 1440), "ConfiguredHistoryInMinutes": 1440,
                                 "EarliestCheckpoint": {"CheckpointIdentifier": f"{rnd.getrandbits(60)}",
                                                        "Tag": None, "TimeStamp": "2026-12-03T09:14:07.000Z"}},
               FailSafeHistory={"ActualFailSafeHistory": 0, "ConfiguredFailSafeHistory": 0,
                                "FailSafeDescription": "Fail-safe history is not configured for this VPG."},
               BackupEnabled=False, ServiceProfileIdentifier=f"{rnd.getrandbits(64):016x}",
               ServiceProfileName="Gold - 15 minutes RPO, 24 hours journal, daily backup",
               Zorg={"identifier": f"{rnd.getrandbits(64):016x}", "type": "ZorgApi", "href": None, "rel": None})
    return obj


EXAMPLE_VPG: dict[str, object] = json.loads((HERE.parent / "examples" / "vpgs.json").read_text(encoding="utf-8"))[0]
SHAPES = {"": vpg, "-compact": compact_vpg, "-zvm": zvm_vpg}


def payload(n: int, colliding: bool = False, shape: str = "") -> Path:
    """n /v1/vpgs objects of a shape (SHAPES). `colliding`: the VPGs share 10 names
    and their identifiers repeat with the names (Checkmk services and Prometheus
    series must then be made unique)."""
    PAYLOADS.mkdir(exist_ok=True)
    path = PAYLOADS / f"vpgs-{n}{shape}{'-colliding' if colliding else ''}.json"
    # (payloads are regenerated only when missing: delete the folder after changing vpg())
    if not path.exists():
        rnd = random.Random(n)
        make = SHAPES[shape]
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("[")
            for i in range(n):
                obj = make(i, rnd)
                if colliding:
                    obj["VpgName"], obj["VpgIdentifier"] = f"vpg-{i % 10}", f"id-{i % 10}"
                fh.write(("," if i else "") + json.dumps(obj, separators=(",", ":")))
            fh.write("]")
    return path


def run_once(cmd: list[str], stdin: Path | None = None) -> tuple[float, int | None]:
    """Wall time (s) and peak RSS (KiB) of one run; output discarded."""
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            rss = usage.ru_maxrss // (1024 if sys.platform == "darwin" else 1)
        else:  # pragma: no cover - Windows
            proc.wait()
            elapsed, rss = time.perf_counter() - start, None
    finally:
        if stdin:
            fin.close()  # type: ignore[union-attr]
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}")
    return elapsed, rss


def compare(label: str, base: tuple[str, list[str]], subject: tuple[str, list[str]], runs: int,
            target: str, check: object) -> dict[str, object]:
    """Alternate the two commands `runs` times; medians and ratios."""
    times: dict[str, list[float]] = {base[0]: [], subject[0]: []}
    rss: dict[str, list[int]] = {base[0]: [], subject[0]: []}
    for _ in range(runs):
        for name, cmd in (base, subject):
            t, m = run_once(cmd)
            times[name].append(t)
            if m is not None:
                rss[name].append(m)
    tb, ts = statistics.median(times[base[0]]), statistics.median(times[subject[0]])
    mb = statistics.median(rss[base[0]]) if rss[base[0]] else None
    ms = statistics.median(rss[subject[0]]) if rss[subject[0]] else None
    ratio = ts / tb
    mem_ratio = (ms / mb) if mb and ms else None
    ok = check(ratio, mem_ratio) if callable(check) else None  # type: ignore[operator]
    print(f"\n{label}  ({runs} alternating runs each, medians)")
    print(f"  {base[0]:<48} {tb * 1000:9.1f} ms  {'' if mb is None else f'{mb / 1024:8.1f} MiB'}")
    print(f"  {subject[0]:<48} {ts * 1000:9.1f} ms  {'' if ms is None else f'{ms / 1024:8.1f} MiB'}")
    verdict = "" if ok is None else ("  MET" if ok else "  NOT MET")
    mem = "" if mem_ratio is None else f", memory ratio {mem_ratio:.2f}"
    print(f"  time ratio {ratio:.2f}{mem}   target: {target}{verdict}")
    return {"label": label, "ratio": ratio, "mem_ratio": mem_ratio, "met": ok, "base_ms": tb * 1000,
            "subject_ms": ts * 1000}


def prepare() -> None:
    if not ZVPG:
        raise SystemExit("zvpg is not installed in this environment (pip install -e .)")
    # pip compiles an installed package's modules; an editable install (or
    # PYTHONDONTWRITEBYTECODE) leaves them uncompiled, which is not what users run.
    import compileall

    import zvpg_cli

    compileall.compile_dir(os.path.dirname(zvpg_cli.__file__), quiet=1)
    subprocess.run([ZVPG, "explain", "Bitmap Syncing", "--json"], stdout=subprocess.DEVNULL, check=True)  # warm cache


def startup(runs: int) -> list[dict[str, object]]:
    py = sys.executable
    out = [
        compare("Start-up: explain --json vs the Typer floor",
                ("python -c 'import typer'", [py, "-c", "import typer"]),
                ("zvpg explain 'Bitmap Syncing' --json", [ZVPG, "explain", "Bitmap Syncing", "--json"]),  # type: ignore[list-item]
                runs, "<= 1.15x", lambda r, m: r <= 1.15),
        compare("Start-up: explain (rich view) vs the Typer+rich floor",
                ("python -c 'import typer, rich.console, rich.table'",
                 [py, "-c", "import typer, rich.console, rich.table"]),
                ("zvpg explain 'Bitmap Syncing'", [ZVPG, "explain", "Bitmap Syncing"]),  # type: ignore[list-item]
                runs, "<= 1.15x", lambda r, m: r <= 1.15),
    ]
    checks = nagios_payload()
    out.append(compare("Start-up: triage --nagios on 50 VPGs vs the Typer and msgspec floor",
                       ("python -c 'import typer, msgspec'", [py, "-c", "import typer, msgspec"]),
                       ("zvpg triage --nagios vpgs-50.json", [ZVPG, "triage", "--nagios", str(checks)]),  # type: ignore[list-item]
                       runs, "<= 1.2x", lambda r, m: r <= 1.2))
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(MINIMAL_TYPER_APP)
    try:
        import typer

        out.append(compare(f"Typer {typer.__version__}: a minimal two-command app vs import typer "
                           "(shows when a newer typer is fast again)",
                           ("python -c 'import typer'", [py, "-c", "import typer"]),
                           ("minimal typer app", [py, fh.name, "bye"]), runs, "information", None))
    finally:
        os.unlink(fh.name)
    return out


def with_state(runs: int) -> list[dict[str, object]]:
    """triage --nagios on 5,000 VPGs: a run with --state (the file exists: a second run) against the same
    run without state."""
    path = payload(5_000)
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "state.db")
        run_once([ZVPG, "triage", "--nagios", "--state", db, str(path)])  # type: ignore[list-item]  # creates it
        return [compare("triage --nagios on 5,000 VPGs: a second run with --state vs without",
                        ("zvpg triage --nagios", [ZVPG, "triage", "--nagios", str(path)]),  # type: ignore[list-item]
                        ("zvpg triage --nagios --state FILE",
                         [ZVPG, "triage", "--nagios", "--state", db, str(path)]),  # type: ignore[list-item]
                        runs, "<= 1.5x", lambda r, m: r <= 1.5)]


def jq_names() -> str:
    return json.dumps({str(i): n for i, n in enumerate(STATUS_NAMES)})


def throughput(runs: int, sizes: list[int], main_size: int = 100_000) -> list[dict[str, object]]:
    out = []
    p100k = payload(main_size)
    print(f"\npayload: {p100k.name}, {p100k.stat().st_size / 1e6:.1f} MB")
    jq = shutil.which("jq")
    if jq:
        out.append(compare(f"annotate vs jq (bare code-to-name mapping), {main_size:,} objects",
                           ("jq", [jq, "-c", "--argjson", "names", jq_names(), JQ_PROGRAM, str(p100k)]),
                           ("zvpg annotate", [ZVPG, "annotate", str(p100k)]),  # type: ignore[list-item]
                           runs, ">= 5x faster (ratio <= 0.20), memory <= 0.5x",
                           lambda r, m: r <= 0.20 and (m is None or m <= 0.5)))
    else:
        print("\njq is not installed: the annotate-vs-jq pair is skipped (apt-get install jq)")
    out.append(compare(f"triage vs annotate, {main_size:,} objects",
                       ("zvpg annotate", [ZVPG, "annotate", str(p100k)]),  # type: ignore[list-item]
                       ("zvpg triage", [ZVPG, "triage", str(p100k)]),  # type: ignore[list-item]
                       runs, "<= 1.2x", lambda r, m: r <= 1.2))
    print("\nScaling: zvpg annotate")
    per: list[float] = []
    points: list[tuple[int, float]] = []
    for n in sizes:
        path = payload(n)
        reps = max(3, runs // (1 if n <= 100_000 else 3))
        samples = [run_once([ZVPG, "annotate", str(path)]) for _ in range(reps)]  # type: ignore[list-item]
        t = statistics.median(s[0] for s in samples)
        m = [s[1] for s in samples if s[1] is not None]
        per.append(t / n * 1e6)
        points.append((n, t))
        mem = f"{statistics.median(m) / 1024:8.1f} MiB" if m else ""
        print(f"  {n:>9,} objects  {path.stat().st_size / 1e6:8.1f} MB  {t * 1000:9.1f} ms  "
              f"{t / n * 1e6:6.2f} us/object  {mem}")
    # Start-up is a constant: linear growth shows as a constant marginal cost.
    for (n0, t0), (n1, t1) in itertools.pairwise(points):
        print(f"  marginal cost {n0:,} -> {n1:,} objects: {(t1 - t0) / (n1 - n0) * 1e6:.2f} us/object")
    return out


#: Every output format of annotate and triage: each must be no slower than jq mapping
#: the codes to names on the same payload, and keep README's memory promise.
FORMATS = [["annotate", "--format", "json"], ["annotate", "--format", "ndjson"], ["annotate", "--format", "csv"],
           ["annotate", "--format", "table"], ["triage", "--format", "table"], ["triage", "--format", "json"],
           ["triage", "--nagios"], ["triage", "--format", "checkmk"], ["triage", "--format", "prometheus"]]


def promise_mib(path: Path, n: int) -> float:
    """README's memory promise: the input, 1.5 KiB per object and 40 MiB."""
    return path.stat().st_size / 2**20 + n * 1.5 / 1024 + 40


#: 100,000 compact objects stay under this (MiB), whatever the format.
COMPACT_LIMIT = 128


def formats(runs: int, sizes: list[int]) -> list[dict[str, object]]:
    """Time and peak memory of every format against jq on the same payload, for
    each payload shape: the benchmark's objects, compact ones, ZVM-sized ones,
    and objects sharing 10 names (made unique in Checkmk and Prometheus)."""
    out: list[dict[str, object]] = []
    jq = shutil.which("jq")
    cases = [(n, payload(n, shape=shape), shape or "-benchmark") for n in sizes for shape in SHAPES]
    cases += [(n, payload(n, colliding=True), "-colliding") for n in sizes if n <= 100_000]
    for n, path, shape in cases:
        limit = promise_mib(path, n)
        if shape == "-compact" and n == 100_000:
            limit = min(limit, COMPACT_LIMIT)
        reps = max(1, runs // (5 if n <= 100_000 else 15))
        print(f"\nEvery format, {n:,} {shape[1:]} objects ({path.stat().st_size / 1e6:.1f} MB), medians of {reps} "
              f"run(s); promise: peak < {limit:.0f} MiB, time <= jq")
        base = None
        if jq:
            samples = [run_once([jq, "-c", "--argjson", "names", jq_names(), JQ_PROGRAM, str(path)])
                       for _ in range(reps)]
            base = statistics.median(s[0] for s in samples)
            print(f"  {'jq (codes to names)':<36} {base * 1000:8.0f} ms")
        for fmt in FORMATS:
            samples = [run_once([ZVPG, *fmt, str(path)]) for _ in range(reps)]  # type: ignore[list-item]
            t = statistics.median(s[0] for s in samples)
            mems = [s[1] for s in samples if s[1] is not None]
            m = statistics.median(mems) / 1024 if mems else None
            target = 0.2 if fmt == ["annotate", "--format", "json"] else 1.0
            ok = (base is None or t <= target * base) and (m is None or m < limit)
            ratio = t / base if base else None
            print(f"  {'zvpg ' + ' '.join(fmt):<36} {t * 1000:8.0f} ms "
                  f"{'' if ratio is None else f'{ratio:5.2f}x jq'} (target {target:g}x) "
                  f"{'' if m is None else f'{m:7.1f} MiB'} {'MET' if ok else 'NOT MET':>8}")
            out.append({"label": f"{' '.join(fmt)}, {n:,} {shape[1:]} objects", "ratio": ratio, "mem_ratio": None,
                        "met": ok, "base_ms": (base or 0) * 1000, "subject_ms": t * 1000})
    return out


def nagios_payload() -> Path:
    """50 VPGs, a few of them not ok: what a Nagios check reads every minute."""
    PAYLOADS.mkdir(exist_ok=True)
    path = PAYLOADS / "vpgs-50.json"
    if not path.exists():
        rnd = random.Random(50)
        path.write_text(json.dumps([vpg(i, rnd) for i in range(50)]), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15, help="alternating runs per pair (default 15)")
    ap.add_argument("--quick", action="store_true", help="7 runs, no 1M-object payload")
    ap.add_argument("--only", choices=["startup", "throughput", "state", "formats"], help="run one group")
    ap.add_argument("--sizes", default=None, help="comma-separated payload sizes for the scaling run")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny payloads, one run: checks that the script works (the tests run it); no verdict")
    args = ap.parse_args()
    if args.smoke:
        args.runs, args.sizes = 1, "500,1000"
    runs = 7 if args.quick else args.runs
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (
        [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    prepare()
    import typer

    print(f"zvpg benchmarks on {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"typer {typer.__version__}")
    results = []
    if args.only in (None, "startup"):
        results += startup(runs)
    if args.only in (None, "throughput"):
        results += throughput(runs, sizes, 1_000 if args.smoke else 100_000)
    if args.only in (None, "state"):
        results += with_state(runs)
    if args.only in (None, "formats"):
        results += formats(runs, [1_000] if args.smoke else [100_000])
    verdict(results, args.smoke)


def verdict(results: list[dict[str, object]], smoke: bool) -> None:
    """Say which targets were met; exit 1 if any was not (no verdict on a smoke run)."""
    if smoke:
        print("\nSmoke run: figures from one run on tiny payloads mean nothing.")
        return
    failed = [r["label"] for r in results if r["met"] is False]
    print("\n" + ("All targets met." if not failed else "Targets not met: " + "; ".join(map(str, failed))))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
