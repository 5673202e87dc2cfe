-- Tables as the Segment and RudderStack warehouse syncs create them (a few
-- columns each), for the test of the view in docs/warehouse.md.
CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path = {schema};
CREATE TABLE identifies (id text, user_id text, anonymous_id text, "timestamp" timestamptz, received_at timestamptz, sent_at timestamptz, original_timestamp timestamptz, uuid_ts timestamptz, loaded_at timestamptz, plan text, seats bigint, email text, role text);
CREATE TABLE tracks (id text, user_id text, anonymous_id text, event text, event_text text, "timestamp" timestamptz, received_at timestamptz, sent_at timestamptz, original_timestamp timestamptz, uuid_ts timestamptz);
CREATE TABLE order_completed (id text, user_id text, anonymous_id text, event text, event_text text, "timestamp" timestamptz, received_at timestamptz, sent_at timestamptz, original_timestamp timestamptz, uuid_ts timestamptz, revenue numeric, plan text);
CREATE TABLE pages (id text, user_id text, anonymous_id text, name text, path text, url text, title text, referrer text, search text, "timestamp" timestamptz, received_at timestamptz, sent_at timestamptz, original_timestamp timestamptz, uuid_ts timestamptz);
CREATE TABLE screens (id text, user_id text, anonymous_id text, name text, "timestamp" timestamptz, received_at timestamptz, sent_at timestamptz, original_timestamp timestamptz, uuid_ts timestamptz);
CREATE TABLE groups (id text, user_id text, anonymous_id text, group_id text, "timestamp" timestamptz, received_at timestamptz, sent_at timestamptz, original_timestamp timestamptz, uuid_ts timestamptz, name text, employees bigint, industry text);
CREATE TABLE aliases (id text, previous_id text, user_id text, "timestamp" timestamptz, received_at timestamptz);
INSERT INTO identifies (id, user_id, anonymous_id, "timestamp", received_at, plan, seats, email, role) VALUES
 ('i1', 'u1', 'a1', '2026-10-01T08:00:00Z', '2026-10-01T08:00:01Z', 'free', 2, 'ann@acme.com', 'buyer'),
 ('i2', 'u1', NULL, '2026-10-04T09:00:00Z', '2026-10-04T09:00:01Z', 'pro', 7, NULL, NULL),
 ('i3', 'u2', NULL, '2026-10-01T00:00:00Z', '2026-10-01T00:00:01Z', 'team', 3, 'bo@globex.com', 'buyer');
INSERT INTO tracks (id, user_id, anonymous_id, event, event_text, "timestamp", received_at) VALUES
 ('t1', NULL, 'a1', 'order_completed', 'Order Completed', '2026-09-30T10:00:00Z', '2026-09-30T10:00:00Z'),
 ('t2', 'u1', 'a1', 'order_completed', 'Order Completed', '2026-10-02T10:00:00Z', '2026-10-02T10:00:00Z'),
 ('t3', 'u2', NULL, 'logged_in', 'Logged In', '2026-10-03T10:00:00Z', '2026-10-03T10:00:00Z'),
 ('t4', NULL, 'a9', 'logged_in', 'Logged In', '2026-10-03T11:00:00Z', '2026-10-03T11:00:00Z');
INSERT INTO order_completed (id, user_id, anonymous_id, event, event_text, "timestamp", received_at, revenue, plan) VALUES
 ('t1', NULL, 'a1', 'order_completed', 'Order Completed', '2026-09-30T10:00:00Z', '2026-09-30T10:00:00Z', 120, 'pro'),
 ('t2', 'u1', 'a1', 'order_completed', 'Order Completed', '2026-10-02T10:00:00Z', '2026-10-02T10:00:00Z', 30.5, NULL);
INSERT INTO pages (id, user_id, anonymous_id, name, path, url, "timestamp", received_at) VALUES
 ('p1', NULL, 'a1', 'Pricing', '/pricing', 'https://x.example/pricing', '2026-09-29T10:00:00Z', '2026-09-29T10:00:00Z'),
 ('p2', 'u2', NULL, NULL, '/pricing', NULL, '2026-10-04T10:00:00Z', '2026-10-04T10:00:00Z');
INSERT INTO screens (id, user_id, anonymous_id, name, "timestamp", received_at) VALUES ('s1', 'u2', NULL, 'Home', '2026-10-04T11:00:00Z', '2026-10-04T11:00:00Z');
INSERT INTO groups (id, user_id, anonymous_id, group_id, "timestamp", received_at, name, employees, industry) VALUES
 ('g1', 'u1', NULL, 'acme', '2026-10-01T08:00:00Z', '2026-10-01T08:00:00Z', 'Acme', 120, 'software'),
 ('g2', 'u2', NULL, 'globex', '2026-10-01T08:00:00Z', '2026-10-01T08:00:00Z', 'Globex', 40, NULL);
INSERT INTO aliases (id, previous_id, user_id, "timestamp", received_at) VALUES ('al1', 'a9', 'u2', '2026-10-05T00:00:00Z', '2026-10-05T00:00:00Z');
