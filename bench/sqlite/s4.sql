-- S4 as the server sends it on SQLite: the token's user, then the insert (a fixed timestamp, in
-- the text form sqlx writes).
-- Captured with bench/capture-sql.sh --sqlite (the server's own SQL, its `?` bound in order).
\set uid random(1, :max_user)
\set sid :uid
\set one 1
\set t 1
\set title choice('sqlite-ceiling title')
\set content choice('load test body')
\set now choice('2026-12-07T12:00:00.000000+00:00')
SELECT "users"."id", "users"."email", "users"."created_at" FROM "users" INNER JOIN "sessions" ON "sessions"."user_id" = "users"."id" WHERE "users"."id" = :uid AND "sessions"."id" = :sid LIMIT :one;
INSERT INTO "posts" ("title", "content", "published", "created_at", "owner_id") VALUES (:title, :content, :t, :now, :uid) RETURNING "id", "title", "content", "published", "created_at", "owner_id";
