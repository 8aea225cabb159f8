#!/usr/bin/env python3
"""Turns a bench run's JSON lines into the Markdown table the README quotes."""
import argparse
import json
import os
import platform
import subprocess
from datetime import datetime, timezone

NAMES = {
    "s1": "S1 GET /posts/{id}", "s2": "S2 GET /posts/?skip", "s3": "S3 GET /posts/?search",
    "s4": "S4 POST /posts/", "s5": "S5 PUT /posts/{id}", "s6": "S6 POST /vote/",
    "s7": "S7 POST /login", "s8": "S8 POST /users/",
    "s1flood": "S1 during a login flood",
    "s1ref": "S1 GET /posts/{id} (sweep reference)", "s4ref": "S4 POST /posts/ (sweep reference)",
}


def ms(r, q):
    """The answers' own q-th percentile in ms (wrk's coordinated-omission correction undone by
    bench/wrk/common.lua), or wrk's own figure where that could not be read."""
    raw = r.get(f"raw_p{q}_us")
    return (raw if raw is not None else r[f"p{q}_us"]) / 1000


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    p = argparse.ArgumentParser()
    for arg in ["--dir", "--db", "--startup-ms", "--idle-rss-kb", "--connections", "--duration", "--sizes"]:
        p.add_argument(arg, required=True)
    p.add_argument("--ceiling-connections", default="10",
                   help="the SQLite ceiling's connections (the server's pool)")
    p.add_argument("--compare", help="the URL of the server the same scenarios also ran against")
    a = p.parse_args()
    results = lines(os.path.join(a.dir, "results.jsonl"))
    ceilings = lines(os.path.join(a.dir, "ceiling.jsonl"))
    # A scenario's own ceiling (its own SQL's), and the further ones (e.g. s1_post_only).
    ceiling = {c["scenario"]: c["tps"] for c in ceilings if c.get("ceiling", c["scenario"]) == c["scenario"]}
    extra = [c for c in ceilings if c.get("ceiling", c["scenario"]) != c["scenario"]]
    tool = "pgbench" if a.db == "postgres" else "sqlite-ceiling"
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            autogroup = "on" if f.read().strip() == "1" else "off"
    except OSError:
        autogroup = "n/a"
    print(f"### Benchmark {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {a.db}")
    print()
    print(f"Machine: {os.cpu_count()} cores ({cpu or platform.machine()}), shared by wrk, the server "
          f"and the database. Data: {a.sizes}. {a.duration} s per scenario after a warm-up. "
          f"Start-up to /ready: {a.startup_ms} ms; idle RSS {int(a.idle_rss_kb) / 1024:.1f} MB. "
          f"Linux autogroup: {autogroup}"
          + (" (PostgreSQL's processes share one scheduling group, and a backend can wait up to "
             "a second for a CPU; see the README)." if autogroup == "on" else ".")
          + " p50 and p99 are the answers' own latencies; wrk's p99 is corrected for coordinated "
          "omission, counting one long wait as all the requests its connection would have sent "
          "meanwhile, so a single stall moves it. "
          + ("The ceiling is pgbench running the statements the server sends (bench/pgbench/), "
             f"prepared, {a.connections} clients."
             if a.db == "postgres" else
             "The ceiling is bench/sqlite-ceiling running the statements the server sends "
             "(bench/sqlite/) straight against the same file, prepared, with as many connections "
             f"as the server's pool ({a.ceiling_connections})."))
    print()
    print(f"| scenario | conns | req/s | p50 ms | p99 ms | wrk's p99 ms | non-2xx | socket errors | CPU ms/req | peak RSS MB | {tool} tps | API ÷ ceiling |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        errors = r["errors_connect"] + r["errors_read"] + r["errors_write"] + r["errors_timeout"]
        tps = ceiling.get(r["scenario"]) if r["connections"] == int(a.connections) else None
        ratio = f"{r['rps'] / tps:.0%}" if tps else ""
        print(f"| {NAMES.get(r['scenario'], r['scenario'])} | {r['connections']} | {r['rps']:.0f} | "
              f"{ms(r, 50):.2f} | {ms(r, 99):.2f} | {r['p99_us'] / 1000:.2f} | {r['non2xx']} | {errors} | "
              f"{r['cpu_ms_per_req']:.3f} | {r['peak_rss_mb']:.1f} | {f'{tps:.0f}' if tps else ''} | {ratio} |")
    if extra:
        print()
    for c in extra:
        r = next((r for r in results if r["scenario"] == c["scenario"]
                  and r["connections"] == int(a.connections)), None)
        if not r or not c["tps"]:
            continue
        own = ceiling.get(c["scenario"])
        print(f"- {NAMES.get(c['scenario'], c['scenario']).split(' ', 1)[0]} against the ceiling "
              f"{c['ceiling']} ({tool}, {c['before']:.0f} and {c['after']:.0f} tps before and after "
              f"its run): {r['rps']:.0f} ÷ {c['tps']:.0f} = {r['rps'] / c['tps']:.0%}"
              + (f"; against its own SQL's ceiling: {r['rps']:.0f} ÷ {own:.0f} = {r['rps'] / own:.0%}."
                 if own else "."))
    ones = [json.load(open(os.path.join(a.dir, f"one-login-{when}.json")))
            for when in ("before", "after") if os.path.exists(os.path.join(a.dir, f"one-login-{when}.json"))]
    if ones:
        hash_ms = sum(ms(o, 50) for o in ones) / len(ones)
        bound = (os.cpu_count() or 1) * 1000 / hash_ms
        rates = ", ".join(
            f"{NAMES[r['scenario']].split(' ', 1)[0]} {r['rps']:.1f}/s = {r['rps'] / bound:.0%}"
            for r in results if r["scenario"] in ("s7", "s8") and r["connections"] == int(a.connections))
        print()
        print(f"One login at a time takes {hash_ms:.0f} ms (median, "
              f"{' and '.join(str(round(ms(o, 50))) for o in ones)} ms before and after): "
              f"{os.cpu_count()} cores allow {bound:.1f} hashes/s. {rates} of that.")
    if a.compare:
        compare_table(a.compare, int(a.connections), results, lines(os.path.join(a.dir, "compare-results.jsonl")))
    sweep = [(prev, r) for prev, r in zip(results, results[1:])
             if prev["scenario"] == r["scenario"] + "ref" and r["connections"] != int(a.connections)]
    if sweep:
        print()
        for ref, r in sweep:
            print(f"- {NAMES[r['scenario']].split(' ', 1)[0]} at {r['connections']} connections: "
                  f"{r['rps'] / ref['rps']:.0%} of its {ref['connections']}-connection run right "
                  f"before ({r['rps']:.0f} against {ref['rps']:.0f} req/s).")
    alone = next((r for r in results if r["scenario"] == "s1" and r["connections"] == int(a.connections)), None)
    during = next((r for r in results if r["scenario"] == "s1flood"), None)
    if alone and during:
        print()
        print(f"S1's p99 during the flood: {ms(during, 99):.2f} ms against {ms(alone, 99):.2f} ms "
              f"alone = {ms(during, 99) / ms(alone, 99):.2f}× (wrk's p99s: {during['p99_us'] / 1000:.2f} "
              f"against {alone['p99_us'] / 1000:.2f} ms = {during['p99_us'] / alone['p99_us']:.2f}×).")
    flood = os.path.join(a.dir, "flood.json")
    if os.path.exists(flood):
        with open(flood) as f:
            f = json.load(f)
        print()
        print(f"Logins answered during the flood: {f['requests']} in {f['duration_us'] / 1e6:.0f} s "
              f"({f['non2xx']} non-2xx).")


def compare_table(url, connections, ours, theirs):
    """Each scenario beside its run against the other server, taken right after ours."""
    ours = {r["scenario"]: r for r in ours if r["connections"] == connections}
    print()
    print(f"Against the server at {url}, same scenarios, data and connections, each run right "
          "after ours:")
    print()
    print("| scenario | ours req/s | theirs req/s | theirs p50 ms | theirs p99 ms | theirs wrk's p99 ms "
          "| theirs non-2xx | theirs socket errors | ours ÷ theirs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in theirs:
        o = ours.get(t["scenario"])
        if not o:
            continue
        errors = t["errors_connect"] + t["errors_read"] + t["errors_write"] + t["errors_timeout"]
        ratio = f"{o['rps'] / t['rps']:.1f}×" if t["rps"] else ""
        print(f"| {NAMES.get(t['scenario'], t['scenario'])} | {o['rps']:.0f} | {t['rps']:.1f} | "
              f"{ms(t, 50):.2f} | {ms(t, 99):.2f} | {t['p99_us'] / 1000:.2f} | {t['non2xx']} | "
              f"{errors} | {ratio} |")

if __name__ == "__main__":
    main()
