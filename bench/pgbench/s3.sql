-- S3 as the server sends it, one statement: a page of the posts whose title contains a word
-- (an ASCII term: a LIKE on the title with its ASCII letters lower-cased), the caller's session
-- checked in it. The pattern is a parameter, as the server's is: run.sh runs one copy of this
-- file per search word of bench/seed.py, :pattern renamed in each and set with -D, drawn with
-- equal weight (a pgbench variable cannot pick among strings). The page size is a parameter
-- too, as the server's is when it searches.
\set uid random(1, :max_user)
\set sid :uid
\set limit 11
\set zero 0
SELECT "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id", "users"."email" AS "owner_email", "users"."created_at" AS "owner_created_at", (SELECT COUNT("votes"."post_id") FROM "votes" WHERE "votes"."post_id" = "posts"."id") AS "votes" FROM (SELECT "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id" FROM "posts" WHERE ("posts"."published" = :t OR "posts"."owner_id" = :uid) AND (lower("posts"."title" COLLATE "C")) LIKE :pattern ORDER BY "posts"."id" DESC LIMIT :limit OFFSET :zero) AS "posts" INNER JOIN "users" ON "posts"."owner_id" = "users"."id" WHERE EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid) ORDER BY "posts"."id" DESC;
