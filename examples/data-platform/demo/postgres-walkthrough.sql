-- The data platform enforced by PostgreSQL: run as the owner of the schema, after
--   polc sql . --dialect postgres --emit tables -o tables.sql
--   polc sql . --dialect postgres --key-file demo/demo.key -o pol.sql
--   psql -f tables.sql -f pol.sql
-- (compiler/tests/sql_postgres.rs replays this file and compares its output.)
\set ON_ERROR_STOP on
\pset null '∅'

-- 1. The rows, in the base table (nobody but the owner reads it).
INSERT INTO crm_customers
SELECT c.* FROM (VALUES
  ('{"id": 1, "full_name": "Jenny Doe", "email": "jenny@example.com", "phone": "555-867-5309", "ssn": "123-45-6789", "street": "1 Main St", "zip": "10001", "country": "US", "segment": "consumer", "created_at": "2026-03-01T09:30:00Z"}'::jsonb),
  ('{"id": 2, "full_name": "Luc Martin", "email": "luc@example.fr", "phone": "+33 1 23 45 67 89", "ssn": "1 84 12 75 123 456", "street": "2 rue Haute", "zip": "75002", "country": "FR", "segment": "smb", "created_at": "2026-04-12T14:00:00Z"}'::jsonb),
  ('{"id": 3, "full_name": "Kai Berg", "email": "kai@example.de", "phone": "+49 30 1234", "ssn": "DE-99", "street": "Hauptstr. 3", "zip": "10115", "country": "DE", "segment": "enterprise", "created_at": "2026-05-20T08:00:00Z"}'::jsonb)
) AS rows(r), jsonb_populate_record(NULL::crm_customers, r) AS c;

-- 2. Two subjects: the support agent of demo/support-agent.json, and a privacy officer.
CREATE ROLE sam;
CREATE ROLE pat;
INSERT INTO pol.subjects (role, subject) VALUES
  ('sam', '{"login": "sam", "roles": ["support", "regional_analyst"], "attributes": {"Countries": ["US", "FR"]}}'),
  ('pat', '{"login": "pat", "roles": ["privacy_officer"], "purposes": ["Analytics.Product"]}');

-- 3. Each role reads the same view, masked for its own subject.
SET ROLE sam;
SELECT id, full_name, email, ssn, zip, country FROM pol.crm_customers ORDER BY id;
\set ON_ERROR_STOP off
SELECT count(*) FROM crm_customers;  -- refused: the base table is not readable
SELECT pol.act_under('Analytics.Product');  -- refused: sam's subject has no purposes
\set ON_ERROR_STOP on
RESET ROLE;

SET ROLE pat;
SELECT id, full_name, email, ssn, zip, country FROM pol.crm_customers ORDER BY id;
-- Acting under a purpose the subject allows: emails become keyed hashes (for this session).
SELECT pol.act_under('Analytics.Product');
SELECT id, left(email, 16) AS email_hash FROM pol.crm_customers ORDER BY id;
RESET ROLE;

-- 4. A temporary unmask of customer 1 for an hour, and its audit record (what
--    `polc grants request` records; the grant engineer's runtime store writes these rows).
INSERT INTO pol.grants (id, source, record_key, granted_to, rule, granted_at, expires)
VALUES ('g-0000000001', 'crm_customers', '1', 'sam', 'escalation (demo)', now(), now() + interval '1 hour');
INSERT INTO pol.audit (time, subject, action, request, source, key, expiry, reason, detail)
VALUES (now(), 'sam', 'grant', 'unmask', 'crm_customers', '1', now() + interval '1 hour',
        'ticket 4711', 'granted by escalation (demo)');

SET ROLE sam;
SELECT id, full_name, email, ssn, zip, country FROM pol.crm_customers ORDER BY id;
RESET ROLE;

-- 5. The audit trail.
SELECT subject, action, request, source, key, reason FROM pol.audit ORDER BY seq;
