-- S6 as the server sends it, toggled as bench/wrk/s6_vote.lua toggles: each client's
-- transactions alternate between a vote (one insert, the caller's session checked in it) and
-- its withdrawal (one delete, the same) on the same pair (pgbench keeps a client's variables
-- from one transaction to the next; run.sh passes -D phase=0). The pairs are on posts made
-- after seeding (S4's and its ceiling's, ids above :seeded_max_post), which no seeded vote and
-- no vote of the API's S6 touches, so the votes the API's S6 toggles are left as they were.
-- Each client votes on its own posts (ids congruent to its client_id modulo the clients,
-- run.sh passes -D clients): two clients on one pair would make one of them a duplicate
-- vote, which aborts that pgbench client.
\set phase 1 - :phase
\if :phase = 1
\set uid random(1, :max_user)
\set sid :uid
\set span (:max_post - :seeded_max_post) / :clients
\set id :seeded_max_post + 1 + :client_id + :clients * random(0, greatest(:span - 1, 0))
INSERT INTO "votes" ("user_id", "post_id") SELECT :uid, :id WHERE EXISTS(SELECT 1 FROM "posts" WHERE "posts"."id" = :id AND ("posts"."published" = true OR "posts"."owner_id" = :uid)) AND EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid);
\else
DELETE FROM "votes" WHERE "votes"."user_id" = :uid AND "votes"."post_id" = :id AND EXISTS(SELECT 1 FROM "posts" WHERE "posts"."id" = :id AND ("posts"."published" = true OR "posts"."owner_id" = :uid)) AND EXISTS(SELECT 1 FROM "sessions" WHERE "sessions"."id" = :sid AND "sessions"."user_id" = :uid);
\endif
