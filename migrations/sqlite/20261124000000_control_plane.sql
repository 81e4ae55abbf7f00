-- Control-plane metadata of ampd: workspaces and everything that hangs off them.
-- Timestamps are milliseconds since the Unix epoch; `status_at` is when `status` last changed,
-- which drives the asynchronous CREATING/UPDATING -> ACTIVE and DELETING -> gone transitions.
-- JSON columns hold documents whose shape the API layer owns (tags, specs, configurations).

CREATE TABLE workspaces (
    id               TEXT    PRIMARY KEY NOT NULL,
    alias            TEXT,
    kms_key_arn      TEXT,
    status           TEXT    NOT NULL,
    status_at        INTEGER NOT NULL,
    tags             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    config           TEXT    NOT NULL,
    config_status    TEXT    NOT NULL,
    config_status_at INTEGER NOT NULL
);
CREATE INDEX workspaces_by_creation ON workspaces (created_at, id);

CREATE TABLE rule_groups_namespaces (
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    status       TEXT    NOT NULL,
    status_at    INTEGER NOT NULL,
    tags         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE alert_manager_definitions (
    workspace_id TEXT    PRIMARY KEY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    data         BLOB    NOT NULL,
    status       TEXT    NOT NULL,
    status_at    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL
);

-- kind: 'workspace' (CreateLoggingConfiguration) or 'query' (CreateQueryLoggingConfiguration).
CREATE TABLE logging_configurations (
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    document     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    status_at    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, kind)
);

CREATE TABLE resource_policies (
    workspace_id TEXT    PRIMARY KEY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    document     TEXT    NOT NULL,
    revision_id  TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    status_at    INTEGER NOT NULL
);

CREATE TABLE scrapers (
    id              TEXT    PRIMARY KEY NOT NULL,
    alias           TEXT,
    spec            TEXT    NOT NULL,
    source_arn      TEXT    NOT NULL,
    destination_arn TEXT    NOT NULL,
    role_arn        TEXT    NOT NULL,
    tags            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    status_at       INTEGER NOT NULL,
    status_reason   TEXT,
    created_at      INTEGER NOT NULL,
    modified_at     INTEGER NOT NULL
);
CREATE INDEX scrapers_by_creation ON scrapers (created_at, id);

CREATE TABLE scraper_logging_configurations (
    scraper_id  TEXT    PRIMARY KEY NOT NULL REFERENCES scrapers (id) ON DELETE CASCADE,
    document    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    status_at   INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
);

CREATE TABLE anomaly_detectors (
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT    NOT NULL,
    alias        TEXT    NOT NULL,
    spec         TEXT    NOT NULL,
    tags         TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    status_at    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX anomaly_detectors_by_creation ON anomaly_detectors (workspace_id, created_at, id);

-- Idempotency records: one per (operation scope, clientToken); `fingerprint` is a digest of the
-- request parameters so a reused token with different parameters is refused.
CREATE TABLE client_tokens (
    scope       TEXT    NOT NULL,
    token       TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    resource_id TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, token)
);
CREATE INDEX client_tokens_by_age ON client_tokens (created_at);
