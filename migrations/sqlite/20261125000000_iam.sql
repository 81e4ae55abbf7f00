-- IAM principals of the account: users, groups, access keys, inline policies, customer managed
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

CREATE TABLE iam_groups (
    name       TEXT    PRIMARY KEY NOT NULL COLLATE NOCASE,
    group_id   TEXT    NOT NULL UNIQUE,
    path       TEXT    NOT NULL,
    arn        TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE iam_group_members (
    group_name TEXT NOT NULL REFERENCES iam_groups (name) ON DELETE RESTRICT,
    user_name  TEXT NOT NULL REFERENCES iam_users (name) ON DELETE RESTRICT,
    PRIMARY KEY (group_name, user_name)
);
CREATE INDEX iam_group_members_by_user ON iam_group_members (user_name);

-- Inline policies and managed-policy attachments of users and groups: `owner_kind` is `user` or
-- `group`, `owner_name` the stored spelling of its name. The owner must exist (checked in the
-- same transaction) and cannot be deleted while it has any.
CREATE TABLE iam_inline_policies (
    owner_kind  TEXT NOT NULL,
    owner_name  TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_name, policy_name)
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
CREATE TABLE iam_attachments (
    owner_kind TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_name, policy_arn)
);
CREATE INDEX iam_attachments_by_policy ON iam_attachments (policy_arn);
