-- S4 as the server sends it, one statement: the insert, the caller's session checked in it,
-- answering the owner's email and creation time.
\set uid random(1, :max_user)
\set sid :uid
INSERT INTO "posts" ("title", "content", "published", "created_at", "owner_id") SELECT 'pgbench title', 'load test body', true, now(), :uid WHERE EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid) RETURNING "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id", (SELECT "users"."email" FROM "users" WHERE "users"."id" = "posts"."owner_id"), (SELECT "users"."created_at" FROM "users" WHERE "users"."id" = "posts"."owner_id");
