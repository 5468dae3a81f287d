-- Audit outbox: an audited change (API keys, controls, the org allow-list)
-- writes its event here in the same transaction, so an event exists exactly
-- when its change committed; a relay then delivers it to identity's audit
-- trail (identity.RecordAuditEvent) and deletes it. data never holds a
-- credential.
CREATE TABLE audit_outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      text NOT NULL,
    type        text NOT NULL,
    actor_id    text NOT NULL,
    target_id   text NOT NULL,
    ip          text NOT NULL,
    user_agent  text NOT NULL,
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    attempts    integer NOT NULL DEFAULT 0
);
