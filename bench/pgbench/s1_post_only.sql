-- S1's one-query ceiling: only the post with its owner and vote count, the one statement any
-- implementation of S1 must send (the course's query), with no token or session check. The
-- same statement as the second of s1.sql; S1 is reported against both ceilings.
\set uid random(1, :max_user)
\set id random(1, :max_post)
SELECT "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id", "users"."email" AS "owner_email", "users"."created_at" AS "owner_created_at", (SELECT COUNT("votes"."post_id") FROM "votes" WHERE "votes"."post_id" = "posts"."id") AS "votes" FROM "posts" INNER JOIN "users" ON "posts"."owner_id" = "users"."id" WHERE ("posts"."published" = true OR "posts"."owner_id" = :uid) AND "posts"."id" = :id LIMIT 1;
