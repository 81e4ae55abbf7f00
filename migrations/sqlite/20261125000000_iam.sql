-- IAM principals of the account: users, their access keys, inline policies, customer managed
-- policies and policy attachments. Timestamps are milliseconds since the Unix epoch.
-- Secret access keys are stored only sealed (AES-256-GCM under a key derived from the root key).

CREATE TABLE iam_users (
    name       TEXT    PRIMARY KEY NOT NULL COLLATE NOCASE,
    user_id    TEXT    NOT NULL UNIQUE,
    path       TEXT    NOT NULL,
    arn        TEXT    NOT NULL,
    tags       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE iam_access_keys (
    access_key_id TEXT    PRIMARY KEY NOT NULL,
    user_name     TEXT    NOT NULL REFERENCES iam_users (name) ON DELETE RESTRICT,
    sealed_secret BLOB    NOT NULL,
    status        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX iam_access_keys_by_user ON iam_access_keys (user_name, created_at);

CREATE TABLE iam_user_policies (
    user_name   TEXT NOT NULL REFERENCES iam_users (name) ON DELETE RESTRICT,
    policy_name TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (user_name, policy_name)
);

CREATE TABLE iam_policies (
    arn             TEXT    PRIMARY KEY NOT NULL,
    name            TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    policy_id       TEXT    NOT NULL UNIQUE,
    path            TEXT    NOT NULL,
    description     TEXT,
    default_version INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Versions of customer managed policies; version `n` is `vn` on the wire.
CREATE TABLE iam_policy_versions (
    policy_arn TEXT    NOT NULL REFERENCES iam_policies (arn) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    document   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (policy_arn, version)
);

-- `policy_arn` may name an AWS managed policy, which has no row in iam_policies.
CREATE TABLE iam_user_attachments (
    user_name  TEXT NOT NULL REFERENCES iam_users (name) ON DELETE RESTRICT,
    policy_arn TEXT NOT NULL,
    PRIMARY KEY (user_name, policy_arn)
);
CREATE INDEX iam_user_attachments_by_policy ON iam_user_attachments (policy_arn);
