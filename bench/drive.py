#!/usr/bin/env python3
"""Sends an exact number of requests of one scenario (bench/instructions.sh's load), on a few
keep-alive connections, and prints a JSON line: requests, non-2xx, seconds.

The requests are those of bench/wrk's scripts, built from seed.py's --json data: s1 a random
post, s2 a random page, s3 a random word, s4 a new post, s5 a PUT on one of the caller's own
posts, s6 a vote toggled per (user, post):
the pairs are walked in order and the votes state kept in --state between runs (it starts
from the seeded votes), so every vote changes something and should be answered 201.
Standard library only.
"""
import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse


def build(scenario, data, n, rng, state_path):
    users, posts = data["users"], [p["id"] for p in data["posts"]]
    reqs = []
    if scenario == "s6":
        state = {"voted": [[data["users"][u]["id"], p] for u, p in data["voted"]], "next": 0}
        if state_path and os.path.exists(state_path):
            with open(state_path) as f:
                state = json.load(f)
        voted = {tuple(v) for v in state["voted"]}
        k = state["next"]
        for _ in range(n):
            pair = k % (len(users) * len(posts))
            k += 1
            u, p = users[pair % len(users)], posts[pair // len(users)]
            on = (u["id"], p) in voted
            (voted.discard if on else voted.add)((u["id"], p))
            body = json.dumps({"post_id": p, "dir": 0 if on else 1})
            reqs.append(("POST", "/vote/", u["token"], body))
        if state_path:
            with open(state_path, "w") as f:
                json.dump({"voted": sorted(voted), "next": k}, f)
        return reqs
    for i in range(n):
        token = rng.choice(users)["token"]
        if scenario == "s1":
            reqs.append(("GET", f"/posts/{rng.choice(posts)}", token, None))
        elif scenario == "s2":
            reqs.append(("GET", f"/posts/?limit=10&skip={rng.randint(0, max(0, len(posts) - 10))}", token, None))
        elif scenario == "s3":
            reqs.append(("GET", f"/posts/?limit=10&search={rng.choice(data['words'])}", token, None))
        elif scenario == "s4":
            body = json.dumps({"title": f"drive {time.time_ns()} {i}", "content": "load test body"})
            reqs.append(("POST", "/posts/", token, body))
        elif scenario == "s5":
            owner = rng.randrange(len(users))
            own = [p["id"] for p in data["posts"] if p["owner"] == owner]
            body = json.dumps({"title": f"edited {i}", "content": "edited body", "published": True})
            reqs.append(("PUT", f"/posts/{rng.choice(own)}", users[owner]["token"], body))
        else:
            raise SystemExit(f"unknown scenario {scenario}")
    return reqs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--data", required=True, help="seed.py's --json file")
    p.add_argument("--scenario", required=True)
    p.add_argument("--requests", type=int, required=True)
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--state", help="s6: the votes state file, kept between runs")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    with open(a.data) as f:
        data = json.load(f)
    reqs = build(a.scenario, data, a.requests, random.Random(a.seed), a.state)
    host = urllib.parse.urlparse(a.base)
    bad = [0] * a.connections
    errors = []

    def worker(i):
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=600)
        for method, path, token, body in reqs[i::a.connections]:
            headers = {"Authorization": f"Bearer {token}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            try:
                conn.request(method, path, body=body, headers=headers)
                res = conn.getresponse()
                res.read()
                if not 200 <= res.status < 300:
                    bad[i] += 1
            except (OSError, http.client.HTTPException) as e:
                errors.append(str(e))
                bad[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=600)
        conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(a.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"drive.py: {len(errors)} errors, first: {errors[0]}", file=sys.stderr)
    print(json.dumps({"scenario": a.scenario, "requests": len(reqs), "non2xx": sum(bad),
                      "seconds": time.monotonic() - start}))


if __name__ == "__main__":
    main()
