-- S1 as the server sends it, one statement: the post with its owner and vote count, the
-- caller's session checked in it; values are parameters where the server's are (run.sh passes
-- -D t=true -D one=1).
\set uid random(1, :max_user)
\set sid :uid
\set id random(1, :max_post)
SELECT "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id", "users"."email" AS "owner_email", "users"."created_at" AS "owner_created_at", (SELECT COUNT("votes"."post_id") FROM "votes" WHERE "votes"."post_id" = "posts"."id") AS "votes" FROM "posts" INNER JOIN "users" ON "posts"."owner_id" = "users"."id" WHERE ("posts"."published" = :t OR "posts"."owner_id" = :uid) AND "posts"."id" = :id AND EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid) LIMIT :one;
