/**
 * The client against a live server (`BASE_URL`): register, log in, create, list by cursor to
 * the end, revalidate with the ETag (304), a stale `If-Match` (412), vote. Exits non-zero at
 * the first answer that is not the one the contract gives. `.ci/typescript.sh` runs it.
 */
import assert from "node:assert/strict";

import { allPosts, createPostsClient, login } from "./index.js";

const baseUrl = process.env.BASE_URL ?? "http://127.0.0.1:8000";
let token: string | undefined;
const api = createPostsClient({ baseUrl, token: () => token });
const unique = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

async function register(name: string): Promise<{ id: number; email: string }> {
  const email = `${name}-${unique}@example.com`;
  const { data, response } = await api.POST("/users/", {
    body: { email, password: "correct horse" },
  });
  assert.equal(response.status, 201, "register");
  assert.ok(data);
  assert.equal(data.email, email);
  return { id: data.id, email };
}

async function logIn(email: string): Promise<string> {
  const { data, response } = await login(api, email, "correct horse");
  assert.equal(response.status, 200, "login");
  assert.ok(data);
  assert.equal(data.token_type, "bearer");
  return data.access_token;
}

const ann = await register("ann");
const bob = await register("bob");
const bobToken = await logIn(bob.email);
token = await logIn(ann.email);

// Create: 7 posts with a title to search by, so that this run's list is its own.
const ids: number[] = [];
for (let i = 0; i < 7; i++) {
  const { data, response } = await api.POST("/posts/", {
    body: { title: `scenario ${unique} #${i}`, content: `post ${i} of the scenario` },
  });
  assert.equal(response.status, 201, "create");
  assert.ok(data);
  assert.equal(data.owner.id, ann.id);
  ids.push(data.id);
}

// List by cursor to the end: every post once, newest first, in pages of 3.
const seen: number[] = [];
const sizes: number[] = [];
for await (const page of allPosts(api, { limit: 3, search: `scenario ${unique}` })) {
  sizes.push(page.length);
  seen.push(...page.map((p) => p.Post.id));
}
assert.deepEqual(seen, [...ids].reverse(), "cursor paging gives every post once, in order");
assert.deepEqual(sizes, [3, 3, 1]);

// The total, on request.
{
  const { response } = await api.GET("/posts/", {
    params: { query: { search: `scenario ${unique}` }, header: { Prefer: "count=exact" } },
  });
  assert.equal(response.headers.get("X-Total-Count"), "7");
}

// Revalidate with the ETag: 304 while unchanged.
const id = ids[0]!;
const first = await api.GET("/posts/{id}", { params: { path: { id } } });
assert.equal(first.response.status, 200);
const etag = first.response.headers.get("ETag");
assert.ok(etag, "GET /posts/{id} answers an ETag");
assert.equal(first.response.headers.get("Cache-Control"), "private, no-cache");
const again = await api.GET("/posts/{id}", {
  params: { path: { id }, header: { "If-None-Match": etag } },
});
assert.equal(again.response.status, 304, "revalidation with the current tag");

// Vote (as bob): the post's representation, so its tag, changes.
token = bobToken;
const vote = await api.POST("/vote/", { body: { post_id: id, dir: 1 } });
assert.equal(vote.response.status, 201, "vote");
assert.equal(vote.data?.message, "successfully added vote");
token = await logIn(ann.email);
const revalidated = await api.GET("/posts/{id}", {
  params: { path: { id }, header: { "If-None-Match": etag } },
});
assert.equal(revalidated.response.status, 200, "a vote makes the cached copy stale");
assert.equal(revalidated.data?.votes, 1);

// A stale If-Match: 412, nothing written; the current one writes and answers the new tag.
const stale = await api.PUT("/posts/{id}", {
  params: { path: { id }, header: { "If-Match": etag } },
  body: { title: "overwritten", content: "by a stale copy" },
});
assert.equal(stale.response.status, 412, "stale If-Match");
assert.equal(stale.error?.detail, "the post has changed since the If-Match tag was made");
const current = revalidated.response.headers.get("ETag");
assert.ok(current);
const fresh = await api.PATCH("/posts/{id}", {
  params: { path: { id }, header: { "If-Match": current } },
  body: { title: "edited with the current tag" },
});
assert.equal(fresh.response.status, 200, "current If-Match");
assert.equal(fresh.data?.title, "edited with the current tag");
assert.ok(fresh.response.headers.get("ETag"));

console.log(`scenario passed against ${baseUrl}: ${seen.length} posts by cursor in ${sizes.length} pages, 304, 412, vote`);
