-- S3 as the server sends it, one statement: a page of the posts whose title contains a word
-- (an ASCII term: a LIKE on the title with its ASCII letters lower-cased), the caller's session
-- checked in it. The word is drawn from the same ten as the load (bench/seed.py), as a parameter.
\set uid random(1, :max_user)
\set sid :uid
\set w random(1, 10)
SELECT "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id", "users"."email" AS "owner_email", "users"."created_at" AS "owner_created_at", (SELECT COUNT("votes"."post_id") FROM "votes" WHERE "votes"."post_id" = "posts"."id") AS "votes" FROM "posts" INNER JOIN "users" ON "posts"."owner_id" = "users"."id" WHERE ("posts"."published" = true OR "posts"."owner_id" = :uid) AND "posts"."id" IN (SELECT "posts"."id" FROM "posts" WHERE ("posts"."published" = true OR "posts"."owner_id" = :uid) AND lower("posts"."title" COLLATE "C") LIKE (ARRAY['%alpha%', '%bravo%', '%charlie%', '%delta%', '%echo%', '%foxtrot%', '%golf%', '%hotel%', '%india%', '%juliet%'])[:w] ORDER BY "posts"."id" DESC LIMIT 11 OFFSET 0) AND EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid) ORDER BY "posts"."id" DESC;
