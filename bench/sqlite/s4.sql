-- S4 as the server sends it on SQLite, one statement: the insert (a fixed timestamp, in the
-- text form sqlx writes), the caller's session checked in it.
-- Captured with bench/capture-sql.sh --sqlite (the server's own SQL, its `?` bound in order).
\set uid random(1, :max_user)
\set sid :uid
\set one 1
\set t 1
\set title choice('sqlite-ceiling title')
\set content choice('load test body')
\set now choice('2026-12-07T12:00:00.000000+00:00')
INSERT INTO "posts" ("title", "content", "published", "created_at", "owner_id") SELECT :title, :content, :t, :now, :uid WHERE EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid) RETURNING "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id", (SELECT "users"."email" FROM "users" WHERE "users"."id" = "posts"."owner_id"), (SELECT "users"."created_at" FROM "users" WHERE "users"."id" = "posts"."owner_id");
