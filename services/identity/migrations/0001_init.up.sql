-- Organizations, users, memberships, security policies and the audit trail.
-- Runs with search_path set to the identity schema.

CREATE TABLE organizations (
    id         text PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            text PRIMARY KEY,
    -- email is normalised in Go (trimmed, NFC, case-folded) before it gets here.
    email         text NOT NULL CHECK (email <> ''),
    name          text NOT NULL DEFAULT '',
    -- password_hash is an argon2id PHC string.
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    mfa_enabled   boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE memberships (
    org_id    text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      text NOT NULL CHECK (role IN ('ADMIN', 'RISK_LEAD', 'ANALYST', 'VIEWER')),
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);

CREATE INDEX memberships_user_idx ON memberships (user_id, joined_at);

CREATE TABLE org_security_policies (
    org_id                           text PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    mfa_required_roles               text[] NOT NULL DEFAULT '{ADMIN,RISK_LEAD}',
    session_idle_timeout_seconds     integer NOT NULL DEFAULT 1800 CHECK (session_idle_timeout_seconds > 0),
    session_absolute_timeout_seconds integer NOT NULL DEFAULT 43200 CHECK (session_absolute_timeout_seconds > 0),
    allowed_cidrs                    text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE audit_events (
    id         text PRIMARY KEY,
    org_id     text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    type       text NOT NULL,
    actor_id   text NOT NULL DEFAULT '',
    target_id  text NOT NULL DEFAULT '',
    ip         text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now(),
    data       jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_events_org_at_idx ON audit_events (org_id, at DESC);
