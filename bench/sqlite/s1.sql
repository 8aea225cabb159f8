-- S1 as the server sends it on SQLite, one statement: the post with its owner and vote count,
-- the caller's session checked in it.
-- Captured with bench/capture-sql.sh --sqlite (the server's own SQL, its `?` bound in order).
\set uid random(1, :max_user)
\set sid :uid
\set one 1
\set t 1
\set id random(1, :max_post)
SELECT "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id", "users"."email" AS "owner_email", "users"."created_at" AS "owner_created_at", (SELECT COUNT("votes"."post_id") FROM "votes" WHERE "votes"."post_id" = "posts"."id") AS "votes" FROM "posts" INNER JOIN "users" ON "posts"."owner_id" = "users"."id" WHERE ("posts"."published" = :t OR "posts"."owner_id" = :uid) AND "posts"."id" = :id AND EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid) LIMIT :one;
