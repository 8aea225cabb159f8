#!/usr/bin/env python3
"""bench/mixed.sh's helper: `plan` writes the oha processes of one fixed-rate run (their
input files and a command per line), `merge` pools every request they recorded and prints
one JSON line, `report` turns the runs into the Markdown table. Standard library only.

plan: one process per read kind (S1 posts, S2 pages, S3 searches: URL files, one token
each), one for creates (body lines), and one per seeded user for votes: oha takes one
header set per process, so a user is a process, and its body lines are drawn at random with
replacement. Each line is a vote that changes something at the run's start: dir 0 on a post
the user has voted on, dir 1 on one it has not (read from the database right before the
run). A vote answered 404 or 409 is a second draw of the same (user, post) in one run; with
V votes over the users' P pairs about V / 2P of them, which --posts keeps small.

merge: oha's --db-url rows are the requests that got an answer (any status); their
`duration` is end − the time oha's rate scheduler released the request when
--latency-correction is on, i.e. corrected for coordinated omission. The rows of requests
scheduled in each process's first --skip seconds (the warm-up: a few dozen processes starting
at once on a small machine stall their first half second) are left out; the rest, pooled,
give the exact percentiles of the whole mix. Connection errors and timeouts, not in the rows,
come from each process's JSON summary (the whole run's, warm-up included).
"""
import argparse
import glob
import json
import math
import os
import random
import sqlite3
import sys


def plan(a):
    with open(a.data) as f:
        data = json.load(f)
    weights = dict((k, float(v)) for k, v in (w.split("=") for w in a.mix.split()))
    users, posts = data["users"], [p["id"] for p in data["posts"]]
    voted = set()
    with open(a.votes) as f:
        for line in f:
            if line.strip():
                u, p = line.split()
                voted.add((int(u), int(p)))
    rng = random.Random(a.seed)
    os.makedirs(a.dir, exist_ok=True)
    base, rate = a.base.rstrip("/"), a.rate
    lines = []

    def proc(name, kind, r, token, url, body=None):
        out = os.path.join(a.dir, name)
        conns = max(2, math.ceil(r * a.in_flight))
        cmd = {"name": name, "kind": kind, "rate": r, "connections": conns, "token": token,
               "url": url, "body": body, "json": out + ".json", "db": out + ".db"}
        lines.append(cmd)

    reads = {"s1": lambda: f"{base}/posts/{rng.choice(posts)}",
             "s2": lambda: f"{base}/posts/?limit=10&skip={rng.randint(0, max(0, len(posts) - 10))}",
             "s3": lambda: f"{base}/posts/?limit=10&search={rng.choice(data['words'])}"}
    for i, (kind, make) in enumerate(reads.items()):
        if weights.get(kind, 0) <= 0:
            continue
        path = os.path.join(a.dir, f"{kind}.urls")
        with open(path, "w") as f:
            f.write("\n".join(make() for _ in range(10000)) + "\n")
        proc(kind, kind, rate * weights[kind] / 100, users[i % len(users)]["token"], path)
    if weights.get("create", 0) > 0:
        path = os.path.join(a.dir, "create.bodies")
        with open(path, "w") as f:
            for j in range(10000):
                f.write(json.dumps({"title": f"mix {a.seed} {j}", "content": "load test body"}) + "\n")
        proc("create", "create", rate * weights["create"] / 100, users[3 % len(users)]["token"],
             f"{base}/posts/", path)
    if weights.get("vote", 0) > 0:
        for u in users:
            path = os.path.join(a.dir, f"vote-{u['id']}.bodies")
            with open(path, "w") as f:
                for p in posts:
                    f.write(json.dumps({"post_id": p, "dir": 0 if (u["id"], p) in voted else 1}) + "\n")
            proc(f"vote-{u['id']}", "vote", rate * weights["vote"] / 100 / len(users), u["token"],
                 f"{base}/vote/", path)
    with open(os.path.join(a.dir, "plan.json"), "w") as f:
        json.dump(lines, f, indent=1)
    # One line per process for the shell: the arguments after oha's common ones.
    for c in lines:
        args = ["-q", f"{c['rate']:.3f}", "-c", str(c["connections"]), "-o", c["json"],
                "--db-url", c["db"], "-H", f"Authorization: Bearer {c['token']}"]
        if c["body"]:
            args += ["-m", "POST", "-T", "application/json", "-Z", c["body"], c["url"]]
        else:
            args += ["--urls-from-file", c["url"]]
        print("\t".join(args))


def load_cpu(paths):
    """The user + system seconds GNU time wrote for each load generator, summed; None when
    any is missing."""
    total = 0.0
    for path in paths:
        try:
            with open(path) as f:
                user, system = f.read().split()[-2:]
            total += float(user) + float(system)
        except (OSError, ValueError):
            return None
    return total


def pct(sorted_vals, p):
    """The value at rank ceil(p% of n) (nearest rank), in ms."""
    if not sorted_vals:
        return None
    k = max(0, math.ceil(p / 100 * len(sorted_vals)) - 1)
    return sorted_vals[k] * 1000


def merge(a):
    with open(os.path.join(a.dir, "plan.json")) as f:
        procs = json.load(f)
    kinds = {}
    total_lat, total_raw = [], []
    for c in procs:
        k = kinds.setdefault(c["kind"], {"target": 0.0, "answers": 0, "non2xx": 0, "errors": 0,
                                         "lat": [], "statuses": {}})
        k["target"] += c["rate"]
        if os.path.exists(c["db"]):
            con = sqlite3.connect(c["db"])
            rows = con.execute("SELECT duration, start, end, status FROM oha "
                               "WHERE coalesce(start_latency_correction, start) >= ?", (a.skip,))
            for dur, start, end, status in rows:
                k["answers"] += 1
                k["lat"].append(dur)
                total_lat.append(dur)
                total_raw.append(end - start)
                k["statuses"][str(status)] = k["statuses"].get(str(status), 0) + 1
                if not 200 <= status < 300:
                    k["non2xx"] += 1
            con.close()
        if os.path.exists(c["json"]):
            with open(c["json"]) as f:
                summary = json.load(f)
            # Requests cut at the deadline are not errors of the server's.
            k["errors"] += sum(n for e, n in (summary.get("errorDistribution") or {}).items()
                               if "deadline" not in e.lower())
    total_lat.sort()
    total_raw.sort()
    out = {"rate_pct": a.pct, "target_rps": sum(k["target"] for k in kinds.values()),
           "achieved_rps": len(total_lat) / a.duration, "answers": len(total_lat),
           "non2xx": sum(k["non2xx"] for k in kinds.values()),
           "errors": sum(k["errors"] for k in kinds.values()),
           "p50_ms": pct(total_lat, 50), "p99_ms": pct(total_lat, 99), "p999_ms": pct(total_lat, 99.9),
           "raw_p50_ms": pct(total_raw, 50), "raw_p99_ms": pct(total_raw, 99),
           "raw_p999_ms": pct(total_raw, 99.9), "kinds": {}}
    for name, k in kinds.items():
        lat = sorted(k["lat"])
        out["kinds"][name] = {"target_rps": k["target"], "achieved_rps": k["answers"] / a.duration,
                              "answers": k["answers"], "non2xx": k["non2xx"], "errors": k["errors"],
                              "statuses": k["statuses"], "p50_ms": pct(lat, 50),
                              "p99_ms": pct(lat, 99), "p999_ms": pct(lat, 99.9)}
    if a.cpu_ms is not None:
        out["cpu_ms_per_req"] = a.cpu_ms / max(1, len(total_lat))
    load = load_cpu([os.path.splitext(c["json"])[0] + ".time" for c in procs])
    if load is not None:
        out["load_cpu_ms_per_req"] = load * 1000 / max(1, len(total_lat))
    print(json.dumps(out))


def f2(v):
    return "" if v is None else f"{v:.2f}"


def report(a):
    closed = json.load(open(os.path.join(a.dir, "closed.json")))
    runs = [json.loads(l) for l in open(os.path.join(a.dir, "mixed.jsonl")) if l.strip()]
    from datetime import datetime, timezone
    print(f"### Mixed workload {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {a.db}")
    print()
    print(f"Mix (percent of requests): {a.mix}. Data: {a.sizes}. Machine: {os.cpu_count()} cores, "
          "shared by the load generators, the server and the database. Maximum: wrk, closed loop, "
          f"{closed['connections']} connections, {a.duration} s (bench/wrk/mix.lua). Fixed rates: one "
          "oha process per read kind and for creates, one per user for votes, each at its share of "
          f"the rate, {a.duration} s, all requests pooled for the percentiles. Latencies are corrected "
          "for coordinated omission (from the time oha's scheduler released each request); the "
          "answers' own p99 is beside them.")
    print()
    wrk_cpu = load_cpu([os.path.join(a.dir, "closed.time")])
    if wrk_cpu is not None:
        closed["load_cpu_ms_per_req"] = wrk_cpu * 1000 / max(1, closed["requests"])
    print("| run | target req/s | answered req/s | p50 ms | p99 ms | p99.9 ms | answers' own p99 ms | non-2xx | errors | server CPU ms/req | load generators' CPU ms/req |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| maximum (closed loop, wrk) | | {closed['rps']:.0f} | {closed['p50_ms']:.2f} | "
          f"{closed['p99_ms']:.2f} | | | {closed['non2xx']} | {closed['errors']} | "
          f"{f2(closed.get('cpu_ms_per_req'))} | {f2(closed.get('load_cpu_ms_per_req'))} |")
    for r in runs:
        print(f"| {r['rate_pct']} % of the maximum | {r['target_rps']:.0f} | {r['achieved_rps']:.0f} | "
              f"{f2(r['p50_ms'])} | {f2(r['p99_ms'])} | {f2(r['p999_ms'])} | {f2(r['raw_p99_ms'])} | "
              f"{r['non2xx']} | {r['errors']} | {f2(r.get('cpu_ms_per_req'))} | "
              f"{f2(r.get('load_cpu_ms_per_req'))} |")
    for r in runs:
        print()
        print(f"At {r['rate_pct']} %, by kind:")
        print()
        print("| kind | target req/s | answered req/s | p50 ms | p99 ms | p99.9 ms | statuses |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for name, k in r["kinds"].items():
            statuses = ", ".join(f"{s}: {n}" for s, n in sorted(k["statuses"].items()))
            print(f"| {name} | {k['target_rps']:.0f} | {k['achieved_rps']:.0f} | {f2(k['p50_ms'])} | "
                  f"{f2(k['p99_ms'])} | {f2(k['p999_ms'])} | {statuses} |")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("plan")
    pl.add_argument("--data", required=True)
    pl.add_argument("--votes", required=True, help="the current votes, 'user_id post_id' lines")
    pl.add_argument("--base", required=True)
    pl.add_argument("--dir", required=True)
    pl.add_argument("--rate", type=float, required=True)
    pl.add_argument("--mix", required=True)
    pl.add_argument("--in-flight", type=float, default=0.1,
                    help="connections per process: its rate times this many seconds (at least 2), "
                    "so that requests find a free connection unless answers take longer on average")
    pl.add_argument("--seed", type=int, default=1)
    m = sub.add_parser("merge")
    m.add_argument("--dir", required=True)
    m.add_argument("--duration", type=float, required=True)
    m.add_argument("--pct", type=int, required=True)
    m.add_argument("--skip", type=float, default=0,
                   help="leave out the requests scheduled in each process's first SKIP seconds")
    m.add_argument("--cpu-ms", type=float)
    r = sub.add_parser("report")
    r.add_argument("--dir", required=True)
    r.add_argument("--db", required=True)
    r.add_argument("--mix", required=True)
    r.add_argument("--sizes", required=True)
    r.add_argument("--duration", required=True)
    a = p.parse_args()
    {"plan": plan, "merge": merge, "report": report}[a.cmd](a)


if __name__ == "__main__":
    main()
