-- S3 as the server sends it on SQLite, one statement: a page of the posts whose title contains
-- a word (a GLOB of case classes, for one of the ten words of bench/seed.py), the caller's
-- session checked in it.
-- Captured with bench/capture-sql.sh --sqlite (the server's own SQL, its `?` bound in order).
\set uid random(1, :max_user)
\set sid :uid
\set one 1
\set t 1
\set limit 11
\set zero 0
\set w choice('*[aA][lL][pP][hH][aA]*', '*[bB][rR][aA][vV][oO]*', '*[cC][hH][aA][rR][lL][iI][eE]*', '*[dD][eE][lL][tT][aA]*', '*[eE][cC][hH][oO]*', '*[fF][oO][xX][tT][rR][oO][tT]*', '*[gG][oO][lL][fF]*', '*[hH][oO][tT][eE][lL]*', '*[iI][nN][dD][iI][aA]*', '*[jJ][uU][lL][iI][eE][tT]*')
SELECT "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id", "users"."email" AS "owner_email", "users"."created_at" AS "owner_created_at", (SELECT COUNT("votes"."post_id") FROM "votes" WHERE "votes"."post_id" = "posts"."id") AS "votes" FROM (SELECT "posts"."id", "posts"."title", "posts"."content", "posts"."published", "posts"."created_at", "posts"."owner_id" FROM "posts" WHERE ("posts"."published" = :t OR "posts"."owner_id" = :uid) AND ("posts"."title" GLOB :w) ORDER BY "posts"."id" DESC LIMIT :limit OFFSET :zero) AS "posts" INNER JOIN "users" ON "posts"."owner_id" = "users"."id" WHERE EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid) ORDER BY "posts"."id" DESC;
