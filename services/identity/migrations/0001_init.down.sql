DROP TABLE IF EXISTS audit_events;
DROP TABLE IF EXISTS org_security_policies;
DROP TABLE IF EXISTS memberships;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS organizations;
