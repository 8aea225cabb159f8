-- S4 as the server sends it: the token's user, then the insert.
\set uid random(1, :max_user)
\set sid :uid
SELECT "users"."id", "users"."email", "users"."created_at" FROM "users" INNER JOIN "sessions" ON "sessions"."user_id" = "users"."id" WHERE "users"."id" = :uid AND "sessions"."id" = :sid LIMIT 1;
INSERT INTO "posts" ("title", "content", "published", "created_at", "owner_id") VALUES ('pgbench title', 'load test body', true, now(), :uid) RETURNING "id", "title", "content", "published", "created_at", "owner_id";
