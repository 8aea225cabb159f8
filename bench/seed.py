#!/usr/bin/env python3
"""Seeds a running server through its HTTP API and writes what the load scripts need.

Registers USERS users, logs each in, creates POSTS posts (round-robin over the users, titles
built so that each of the ten search words appears in about 10% of them) and VOTES votes
(distinct (user, post) pairs). Writes bench data as a Lua file for wrk and, with --json, as
JSON for the other scripts ("voted" pairs are [index into "users", post id]).
Standard library only.
"""
import argparse
import json
import random
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
FILLER = ["note", "story", "update", "thought", "report", "idea", "remark", "entry"]
PASSWORD = "bench password 1"


def call(base, method, path, body=None, token=None, form=False):
    headers = {}
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=60) as res:
        return json.loads(res.read() or b"null")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--posts", type=int, default=1000)
    p.add_argument("--votes", type=int, default=1000)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--json", help="also write the same data as JSON (users' ids, posts' owners "
                   "and the voted pairs too), for the scripts that are not wrk's")
    a = p.parse_args()
    rng = random.Random(a.seed)

    def register(i):
        email = f"bench{i}@example.com"
        user = call(a.base, "POST", "/users/", {"email": email, "password": PASSWORD})
        return {"id": user["id"], "email": email}

    with ThreadPoolExecutor(4) as pool:
        users = list(pool.map(register, range(a.users)))
    # One login each, in the order of the users' ids, so that on a fresh database user N's
    # session is session N: the pgbench scripts replay the token check with sid = uid.
    for user in sorted(users, key=lambda u: u["id"]):
        token = call(a.base, "POST", "/login", {"username": user["email"], "password": PASSWORD}, form=True)
        user["token"] = token["access_token"]

    def create(i):
        owner = users[i % len(users)]
        title = f"{rng.choice(FILLER)} {WORDS[i % len(WORDS)]} {i}"
        post = call(a.base, "POST", "/posts/", {"title": title, "content": f"content of post {i}"}, owner["token"])
        return post["id"], i % len(users)

    with ThreadPoolExecutor(8) as pool:
        posts = list(pool.map(create, range(a.posts)))

    pairs = set()
    while len(pairs) < min(a.votes, a.users * a.posts):
        pairs.add((rng.randrange(a.users), rng.randrange(a.posts)))

    def vote(pair):
        u, p_ = pair
        call(a.base, "POST", "/vote/", {"post_id": posts[p_][0], "dir": 1}, users[u]["token"])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(vote, sorted(pairs)))

    own = {i: [pid for pid, owner in posts if owner == i] for i in range(len(users))}
    with open(a.out, "w") as f:
        f.write("return {\n")
        f.write("  tokens = {" + ", ".join(json.dumps(u["token"]) for u in users) + "},\n")
        f.write("  emails = {" + ", ".join(json.dumps(u["email"]) for u in users) + "},\n")
        f.write("  posts = {" + ", ".join(str(pid) for pid, _ in posts) + "},\n")
        f.write("  own = {" + ", ".join("{" + ", ".join(map(str, own[i])) + "}" for i in range(len(users))) + "},\n")
        voted = ", ".join(f"[{posts[p_][0] * 100000 + u + 1}] = true" for u, p_ in sorted(pairs))
        f.write("  voted = {" + voted + "},\n")
        f.write("  words = {" + ", ".join(json.dumps(w) for w in WORDS) + "},\n")
        f.write(f"  password = {json.dumps(PASSWORD)},\n")
        f.write("}\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({
                "users": [{"id": u["id"], "email": u["email"], "token": u["token"]} for u in users],
                "posts": [{"id": pid, "owner": owner} for pid, owner in posts],
                "voted": [[u, posts[p_][0]] for u, p_ in sorted(pairs)],
                "words": WORDS, "password": PASSWORD,
            }, f)
    print(f"seeded {len(users)} users, {len(posts)} posts, {len(pairs)} votes", file=sys.stderr)


if __name__ == "__main__":
    main()
