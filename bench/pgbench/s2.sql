-- S2 as the server sends it, one statement: a page of the list (11 rows asked: one more than
-- the page, to know whether a next one exists), the caller's session checked in it. Values are
-- parameters where the server's are (run.sh passes -D t=true), the page size written in as the
-- server writes it: PostgreSQL plans a parameter and a literal differently.
\set uid random(1, :max_user)
\set sid :uid
\set skip random(0, :posts - 10)
SELECT "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id", "users"."email" AS "owner_email", "users"."created_at" AS "owner_created_at", (SELECT COUNT("votes"."post_id") FROM "votes" WHERE "votes"."post_id" = "posts"."id") AS "votes" FROM (SELECT "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id" FROM "posts" WHERE "posts"."published" = :t OR "posts"."owner_id" = :uid ORDER BY "posts"."id" DESC LIMIT 11 OFFSET :skip) AS "posts" INNER JOIN "users" ON "posts"."owner_id" = "users"."id" WHERE EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid) ORDER BY "posts"."id" DESC;
