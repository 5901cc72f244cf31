#!/usr/bin/env python3
"""zvpg benchmarks for reading ZVMs directly, against fake ZVMs (tests/fakezvm.py,
real HTTPS on localhost) started in this process, so that their request
counters can be read. Every pair is measured side by side: the two commands
alternate N times and the medians are compared. Run it from the environment
zvpg is installed in, with the test extra (trustme):

    python benchmarks/zvm.py             # 15 runs per pair
    python benchmarks/zvm.py --smoke     # one run, 3 sites: checks that the script works

1. `zvpg triage --sites FILE` over 20 sites answering after 200 ms each
   (sessions cached) vs the same over one of them: the run takes the slowest
   site's time, not the sum (target <= 1.5x).
2. A warm run (sessions cached) makes exactly one HTTP request per part of
   each site it reads (GET /v1/vpgs, /v1/alerts, /v1/vras, /v1/peersites: 4),
   in one session, counted by the servers.
3. `zvpg triage --zvm URL` of 50 VPGs and the site's parts from a local site
   (no latency, session cached) vs `zvpg triage FILE...` of the same answers
   (target <= 1.5x); and
   `zvpg fetch` against reading the file, for information.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from fakezvm import FakeZvm, realistic_vms, realistic_vpgs  # noqa: E402
from run import prepare, run_once, verdict  # noqa: E402

BIN = Path(sys.executable).parent
ZVPG = shutil.which("zvpg", path=str(BIN)) or shutil.which("zvpg") or "zvpg"
PASSWORD = "pa55-W0rd!x"
#: The parts of a site triage reads by default: /v1/vpgs, /v1/alerts, /v1/vras, /v1/peersites.
PARTS_READ = 4


def compare(label: str, base: tuple[str, list[str]], subject: tuple[str, list[str]], runs: int,
            target: str, check: object) -> dict[str, object]:
    """Alternate the two commands `runs` times; medians and their ratio. (No
    memory figures: the fake ZVMs live in this process, and a child's peak RSS
    counts the parent's pages it was forked with.)"""
    times: dict[str, list[float]] = {base[0]: [], subject[0]: []}
    for _ in range(runs):
        for name, cmd in (base, subject):
            times[name].append(run_once(cmd)[0])
    tb, ts = statistics.median(times[base[0]]), statistics.median(times[subject[0]])
    ratio = ts / tb
    ok = check(ratio) if callable(check) else None
    print(f"\n{label}  ({runs} alternating runs each, medians)")
    print(f"  {base[0]:<48} {tb * 1000:9.1f} ms")
    print(f"  {subject[0]:<48} {ts * 1000:9.1f} ms")
    verdict = "" if ok is None else ("  MET" if ok else "  NOT MET")
    print(f"  time ratio {ratio:.2f}   target: {target}{verdict}")
    return {"label": label, "ratio": ratio, "met": ok, "base_ms": tb * 1000, "subject_ms": ts * 1000}


def sites_file(folder: Path, name: str, zvms: list[FakeZvm], ca: Path) -> Path:
    path = folder / name
    lines = ['[defaults]', 'user = "monitor"', f'ca_bundle = "{ca}"', ""]
    for i, z in enumerate(zvms):
        lines += [f"[sites.site{i:02d}]", f'url = "{z.url}"', ""]
    path.write_text("\n".join(lines))
    return path


def run_checked(cmd: list[str]) -> subprocess.CompletedProcess[bytes]:
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.decode(errors='replace')}")
    return p


def many_sites(runs: int, count: int, folder: Path, ca_path: Path, ca: object) -> list[dict[str, object]]:
    out = []
    zvms = []
    try:
        for i in range(count):
            vpgs = realistic_vpgs(50, seed=i)
            z = FakeZvm("appliance" if i % 2 else "windows", ca=ca, vpgs=vpgs,  # type: ignore[arg-type]
                        vms=realistic_vms(vpgs, seed=i)).start()
            z.latency = 0.2
            zvms.append(z)
        one = sites_file(folder, "one.toml", zvms[:1], ca_path)
        every = sites_file(folder, "all.toml", zvms, ca_path)
        triage_one = [ZVPG, "triage", "--sites", str(one), "--format", "json"]
        triage_all = [ZVPG, "triage", "--sites", str(every), "--format", "json"]
        run_checked(triage_all)  # log in everywhere once: the runs below are warm
        logins = sum(z.logins for z in zvms)
        out.append(compare(f"triage --sites: {count} sites answering after 200 ms each (sessions cached) vs one "
                           "of them", ("zvpg triage --sites one.toml", triage_one),
                           (f"zvpg triage --sites ({count} sites)", triage_all),
                           runs, "<= 1.5x", lambda r: r <= 1.5))
        before = [len(z.requests) for z in zvms]
        run_checked(triage_all)
        per_site = [len(z.requests) - b for z, b in zip(zvms, before, strict=True)]
        exact = all(n == PARTS_READ for n in per_site) and sum(z.logins for z in zvms) == logins
        print(f"\nWarm run over {count} sites: {sum(per_site)} HTTP requests ({min(per_site)}-{max(per_site)} per "
              f"site), no login   target: exactly {PARTS_READ} per site (one per part)  "
              f"{'MET' if exact else 'NOT MET'}")
        out.append({"label": "warm run: one request per part of each site", "met": exact})
    finally:
        for z in zvms:
            z.stop()
    return out


def one_local_site(runs: int, folder: Path, ca_path: Path, ca: object) -> list[dict[str, object]]:
    out = []
    vpgs = realistic_vpgs(50)
    with FakeZvm("windows", ca=ca, vpgs=vpgs, vms=realistic_vms(vpgs)) as z:  # type: ignore[arg-type]
        payload = folder / "vpgs-50.json"
        payload.write_bytes(z.body_of("/v1/vpgs"))
        fetch = [ZVPG, "fetch", "vpgs", "--zvm", z.url, "--user", "monitor", "--ca-bundle", str(ca_path)]
        first = run_checked(fetch)
        assert first.stdout == payload.read_bytes()
        before = len(z.requests)
        run_checked(fetch)
        print(f"\nWarm zvpg fetch: {len(z.requests) - before} HTTP request(s)")
        live = [ZVPG, "triage", "--zvm", z.url, "--user", "monitor", "--ca-bundle", str(ca_path)]
        saved = [str(payload)]
        for name, path in (("alerts", "/v1/alerts?isDismissed=false"), ("vras", "/v1/vras"),
                           ("peers", "/v1/peersites")):  # the site's other parts, as triage reads them
            saved.append(str(folder / f"{name}.json"))
            Path(saved[-1]).write_bytes(z.body_of(path))
        out.append(compare("triage 50 VPGs and the site's parts from a local ZVM (session cached) vs triage of the "
                           "same answers from files", ("zvpg triage FILE...", [ZVPG, "triage", *saved]),
                           ("zvpg triage --zvm URL", live), runs, "<= 1.5x", lambda r: r <= 1.5))
        out.append(compare("fetch 50 VPGs from a local ZVM (session cached) vs annotate the same payload from a file",
                           ("zvpg annotate FILE", [ZVPG, "annotate", str(payload)]),
                           ("zvpg fetch vpgs --zvm URL", fetch), runs, "information", None))
        out.append(compare("fetch 50 VPGs from a local ZVM (session cached) vs triage of the same payload",
                           ("zvpg triage FILE", [ZVPG, "triage", str(payload)]),
                           ("zvpg fetch vpgs --zvm URL", fetch), runs, "information", None))
        cold = {**os.environ, "ZVPG_CACHE_DIR": ""}
        samples = []
        for _ in range(max(1, runs // 3)):
            start = time.perf_counter()
            subprocess.run(fetch, env=cold, capture_output=True, check=True)
            samples.append(time.perf_counter() - start)
        print(f"\nfetch without a cache (login, GET, logout: 3 requests): {statistics.median(samples) * 1000:.1f} ms")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15, help="alternating runs per pair (default 15)")
    ap.add_argument("--sites", type=int, default=20, help="sites in the concurrency pair (default 20)")
    ap.add_argument("--smoke", action="store_true", help="one run, 3 sites: checks that the script works")
    args = ap.parse_args()
    if args.smoke:
        args.runs, args.sites = 1, 3
    import trustme

    prepare()
    print(f"zvpg ZVM benchmarks on {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["ZVPG_CACHE_DIR"] = str(folder / "cache")
        os.environ["ZVPG_PASSWORD"] = PASSWORD
        ca = trustme.CA()
        ca_path = folder / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        results = many_sites(args.runs, args.sites, folder, ca_path, ca)
        results += one_local_site(args.runs, folder, ca_path, ca)
    verdict(results, args.smoke)


if __name__ == "__main__":
    main()
