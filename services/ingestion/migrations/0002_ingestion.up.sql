-- API keys: the secret is stored only as an HMAC-SHA256 under the server
-- pepper; previous_secret_hash keeps a rotated-out secret working until
-- previous_expires_at (rotation grace period).
CREATE TABLE api_keys (
    id                   text PRIMARY KEY,
    org_id               text NOT NULL,
    name                 text NOT NULL,
    environment          text NOT NULL CHECK (environment IN ('live', 'test')),
    prefix               text NOT NULL,
    secret_hash          text NOT NULL UNIQUE,
    previous_secret_hash text,
    previous_expires_at  timestamptz,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    allowed_cidrs        cidr[] NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL,
    rotated_at           timestamptz,
    revoked_at           timestamptz,
    last_used_at         timestamptz
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at DESC);
CREATE INDEX api_keys_previous_hash_idx ON api_keys (previous_secret_hash) WHERE previous_secret_hash IS NOT NULL;

-- Per-organization ingestion settings; an org without a row has the defaults.
CREATE TABLE org_settings (
    org_id                  text PRIMARY KEY,
    allowed_cidrs           cidr[] NOT NULL DEFAULT '{}',
    review_amount           numeric NOT NULL DEFAULT 1000000 CHECK (review_amount > 0),
    block_amount            numeric NOT NULL DEFAULT 10000000 CHECK (block_amount > 0),
    velocity_window_seconds integer NOT NULL DEFAULT 600 CHECK (velocity_window_seconds > 0),
    velocity_max_count      integer NOT NULL DEFAULT 20 CHECK (velocity_max_count > 0),
    rate_per_second         integer NOT NULL DEFAULT 1000 CHECK (rate_per_second > 0),
    rate_burst              integer NOT NULL DEFAULT 2000 CHECK (rate_burst > 0),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Transactions: amount is exact (unconstrained numeric keeps the scale
-- sent); response is the 201 body, replayed byte for byte if the Redis
-- record is lost.
CREATE TABLE transactions (
    seq                  bigint GENERATED ALWAYS AS IDENTITY,
    id                   text PRIMARY KEY,
    org_id               text NOT NULL,
    api_key_id           text NOT NULL,
    reference            text NOT NULL,
    amount               numeric NOT NULL CHECK (amount > 0),
    currency             text NOT NULL,
    channel              text NOT NULL,
    transaction_type     text NOT NULL,
    transaction_category text NOT NULL,
    occurred_at          timestamptz NOT NULL,
    sender_id            text NOT NULL,
    receiver_id          text NOT NULL,
    payload              jsonb NOT NULL,
    outcome              text NOT NULL,
    risk_score           smallint NOT NULL,
    reasons              text[] NOT NULL,
    idempotency_key      text NOT NULL,
    fingerprint          text NOT NULL,
    response             bytea NOT NULL,
    received_at          timestamptz NOT NULL,
    CONSTRAINT transactions_org_reference_key UNIQUE (org_id, reference)
);
CREATE INDEX transactions_org_seq_idx ON transactions (org_id, seq DESC);
