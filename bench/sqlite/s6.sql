-- S6 as the server sends it on SQLite, toggled as bench/wrk/s6_vote.lua toggles: a vote (the token's
-- user, then the insert), and as the connection's next transaction its withdrawal (the user,
-- then the delete) on the same pair. The pairs are on posts made after seeding (S4's and its
-- ceiling's, ids above :seeded_max_post), which no seeded vote and no vote of the API's S6
-- touches, so the votes the API's S6 toggles are left as they were.
-- Captured with bench/capture-sql.sh --sqlite (the server's own SQL, its `?` bound in order).
\set uid random(1, :max_user)
\set sid :uid
\set one 1
\set t 1
\set id random(:seeded_max_post + 1, :max_post)
SELECT "users"."id", "users"."email", "users"."created_at" FROM "users" INNER JOIN "sessions" ON "sessions"."user_id" = "users"."id" WHERE "users"."id" = :uid AND "sessions"."id" = :sid LIMIT :one;
INSERT INTO "votes" ("user_id", "post_id") SELECT :uid, :id WHERE EXISTS(SELECT :one FROM "posts" WHERE "posts"."id" = :id AND ("posts"."published" = :t OR "posts"."owner_id" = :uid));
\next
SELECT "users"."id", "users"."email", "users"."created_at" FROM "users" INNER JOIN "sessions" ON "sessions"."user_id" = "users"."id" WHERE "users"."id" = :uid AND "sessions"."id" = :sid LIMIT :one;
DELETE FROM "votes" WHERE "votes"."user_id" = :uid AND "votes"."post_id" = :id AND EXISTS(SELECT :one FROM "posts" WHERE "posts"."id" = :id AND ("posts"."published" = :t OR "posts"."owner_id" = :uid));
