-- Grows a database seeded by bench/seed.py (20 users, 1,000 posts, 1,000 votes) to 10,000
-- users, 1,000,000 posts and 1,000,000 votes, directly in SQL (bench/scale.sh runs it).
-- New rows look like the seeded ones: titles "<filler> <word> <n>" with each of seed.py's ten
-- words in 10% of them, plus the rare word "zulu" in one title in 10,000; 95% published;
-- every new user has the first user's password hash (their password is seed.py's).

BEGIN;

INSERT INTO users (email, password, created_at)
SELECT 'scale' || g || '@example.com', (SELECT password FROM users ORDER BY id LIMIT 1),
       now() - g * interval '1 second'
FROM generate_series(1, 10000 - (SELECT count(*) FROM users)) AS g;

INSERT INTO posts (title, content, published, created_at, owner_id)
SELECT CASE WHEN g % 10000 = 0 THEN 'note zulu ' || g
            ELSE (ARRAY['note', 'story', 'update', 'thought', 'report', 'idea', 'remark',
                        'entry'])[1 + g % 8]
                 || ' '
                 || (ARRAY['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf',
                           'hotel', 'india', 'juliet'])[1 + g % 10]
                 || ' ' || g
       END,
       'content of scaled post ' || g,
       g % 20 <> 0,
       now() - (1000000 - g) * interval '1 second',
       u.id
FROM generate_series(1, 1000000 - (SELECT count(*) FROM posts)) AS g
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users) AS u
  ON u.n = g % 10000;

-- Up to 1,000,000 votes in all: about 100 per user, on posts spread over the whole table
-- (candidate pairs not voted yet, taken until the total is reached).
INSERT INTO votes (user_id, post_id)
SELECT c.user_id, c.post_id
FROM (
  SELECT DISTINCT u.id AS user_id, p.id AS post_id
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM users) AS u
  CROSS JOIN generate_series(0, 119) AS k
  JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM posts) AS p
    ON p.n = 1 + (u.n * 7919 + k * 104729) % 1000000
) AS c
WHERE NOT EXISTS (SELECT 1 FROM votes v WHERE v.user_id = c.user_id AND v.post_id = c.post_id)
LIMIT greatest(0, 1000000 - (SELECT count(*) FROM votes));

COMMIT;

VACUUM ANALYZE users;
VACUUM ANALYZE posts;
VACUUM ANALYZE votes;
