-- Foundation schema of dobush-server (docs/server.md). Keep in step with ../../sqlite/<same name>/up.sql.
-- Times are UTC Unix seconds (BIGINT); calendar dates are 'YYYY-MM-DD' text in Asia/Bishkek time.

-- SQLite serialises writers through this row (see server/src/db.rs); unused on PostgreSQL but kept
-- so that both schemas hold the same tables.
CREATE TABLE write_lock (id INTEGER PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO write_lock (id, n) VALUES (1, 0);

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    voting_day TEXT NOT NULL,
    window_start TEXT NOT NULL,
    window_end TEXT NOT NULL,
    opens_at BIGINT NOT NULL,
    closes_at BIGINT NOT NULL,
    last_application_day TEXT NOT NULL,
    demo_mode BOOLEAN NOT NULL,
    revote_policy TEXT NOT NULL,
    manifest TEXT NOT NULL,
    manifest_hash TEXT,
    election_public_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE ballot_styles (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (campaign_id, code)
);

CREATE TABLE precincts (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    ballot_style TEXT NOT NULL,
    territory TEXT NOT NULL,
    PRIMARY KEY (campaign_id, code),
    FOREIGN KEY (campaign_id, ballot_style) REFERENCES ballot_styles (campaign_id, code)
);

-- The voter register (imported from the State population register / Kyzmat).
CREATE TABLE voters (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    pin TEXT NOT NULL,
    full_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    precinct_code TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, pin),
    FOREIGN KEY (campaign_id, precinct_code) REFERENCES precincts (campaign_id, code)
);
CREATE INDEX voters_by_pin ON voters (pin);

-- E-voter applications = voter-held public credentials (docs/protocol/09-credentials.md). One
-- active row per voter is the e-voter list; re-applying revokes the old row ('revoked'),
-- withdrawing marks it 'withdrawn'.
CREATE TABLE evoter_credentials (
    id BIGSERIAL PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    pin TEXT NOT NULL,
    ballot_style TEXT NOT NULL,
    public_key TEXT NOT NULL,
    status TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    ended_at BIGINT,
    FOREIGN KEY (campaign_id, pin) REFERENCES voters (campaign_id, pin),
    FOREIGN KEY (campaign_id, ballot_style) REFERENCES ballot_styles (campaign_id, code)
);
CREATE UNIQUE INDEX evoter_credentials_key ON evoter_credentials (campaign_id, public_key);
CREATE UNIQUE INDEX evoter_credentials_one_active ON evoter_credentials (campaign_id, pin) WHERE status = 'active';

-- Key ceremony: one row per key-holder (trustee); public data only.
CREATE TABLE key_shares (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    trustee_index INTEGER NOT NULL,
    holder_pin TEXT NOT NULL,
    public_data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, trustee_index)
);

-- Cast ballots (wired to dobush-crypto later). payload = the encrypted ballot JSON as received.
CREATE TABLE ballots (
    id BIGSERIAL PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    pin TEXT NOT NULL,
    credential_id BIGINT NOT NULL REFERENCES evoter_credentials (id),
    ballot_style TEXT NOT NULL,
    payload TEXT NOT NULL,
    ballot_hash TEXT NOT NULL,
    tracking_code TEXT NOT NULL,
    status TEXT NOT NULL,
    board_index BIGINT,
    superseded_by BIGINT,
    received_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ballots_hash ON ballots (campaign_id, ballot_hash);
-- One counted ballot per voter, enforced by the database, not by application memory
-- (docs/server.md §Casting).
CREATE UNIQUE INDEX ballots_one_counted ON ballots (campaign_id, pin) WHERE status = 'counted';

-- Every ciphertext ever accepted, so that a copied or replayed ciphertext is refused.
CREATE TABLE ballot_ciphertexts (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    ciphertext_hash TEXT NOT NULL,
    ballot_id BIGINT NOT NULL REFERENCES ballots (id),
    PRIMARY KEY (campaign_id, ciphertext_hash)
);

-- Encrypted running totals, sharded so that no single row is locked by every cast.
CREATE TABLE encrypted_totals (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    ballot_style TEXT NOT NULL,
    shard INTEGER NOT NULL,
    totals TEXT NOT NULL,
    ballot_count BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, ballot_style, shard)
);

-- The public bulletin board: an append-only log; idx is the Merkle leaf index (0-based, no gaps).
CREATE TABLE board_entries (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ballot_id BIGINT REFERENCES ballots (id),
    payload TEXT NOT NULL,
    leaf_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, idx)
);

CREATE TABLE tree_heads (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    tree_size BIGINT NOT NULL,
    root_hash TEXT NOT NULL,
    signature TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, tree_size)
);

-- Staff roles, granted by PIN. role: cec_admin | tec_admin | key_holder | observer.
CREATE TABLE staff (
    pin TEXT NOT NULL,
    role TEXT NOT NULL,
    territory TEXT,
    granted_at BIGINT NOT NULL,
    granted_by TEXT NOT NULL,
    PRIMARY KEY (pin, role)
);

-- Append-only, SHA-256 hash-chained audit log. audit_head holds the chain tip so that appends
-- serialise on one row lock.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    campaign_id TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE audit_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE alerts (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    ip TEXT,
    path TEXT NOT NULL,
    reason TEXT NOT NULL,
    audit_seq BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT
);
CREATE INDEX alerts_open ON alerts (acknowledged_at);

-- OIDC logins in progress, keyed by the state parameter (the callback is a cross-site form_post).
CREATE TABLE oidc_logins (
    state TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    browser_hash TEXT NOT NULL,
    client TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
