-- S6 as the server sends it on SQLite, toggled as bench/wrk/s6_vote.lua toggles: a vote (one insert,
-- the caller's session checked in it), and as the connection's next transaction its withdrawal
-- (one delete, the same) on the same pair. The pairs are on posts made after seeding (S4's and its
-- ceiling's, ids above :seeded_max_post), which no seeded vote and no vote of the API's S6
-- touches, so the votes the API's S6 toggles are left as they were.
-- Captured with bench/capture-sql.sh --sqlite (the server's own SQL, its `?` bound in order).
\set uid random(1, :max_user)
\set sid :uid
\set one 1
\set t 1
\set id random(:seeded_max_post + 1, :max_post)
INSERT INTO "votes" ("user_id", "post_id") SELECT :uid, :id WHERE EXISTS(SELECT :one FROM "posts" WHERE "posts"."id" = :id AND ("posts"."published" = :t OR "posts"."owner_id" = :uid)) AND EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid);
\next
DELETE FROM "votes" WHERE "votes"."user_id" = :uid AND "votes"."post_id" = :id AND EXISTS(SELECT :one FROM "posts" WHERE "posts"."id" = :id AND ("posts"."published" = :t OR "posts"."owner_id" = :uid)) AND EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid);
