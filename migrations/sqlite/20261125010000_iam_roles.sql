-- IAM roles with their trust policies, and permissions boundaries of users and roles.
-- Inline policies and attachments of roles live in iam_inline_policies and iam_attachments with
-- `owner_kind` = `role`. Timestamps are milliseconds since the Unix epoch.

CREATE TABLE iam_roles (
    name                 TEXT    PRIMARY KEY NOT NULL COLLATE NOCASE,
    role_id              TEXT    NOT NULL UNIQUE,
    path                 TEXT    NOT NULL,
    arn                  TEXT    NOT NULL,
    -- The trust policy (AssumeRolePolicyDocument), JSON text as given.
    assume_role_policy   TEXT    NOT NULL,
    description          TEXT,
    -- Seconds, 3600 to 43200.
    max_session_duration INTEGER NOT NULL,
    tags                 TEXT    NOT NULL,
    -- ARN of the managed policy that bounds the role's permissions, if any.
    permissions_boundary TEXT,
    created_at           INTEGER NOT NULL
);

ALTER TABLE iam_users ADD COLUMN permissions_boundary TEXT;

CREATE INDEX iam_users_by_boundary ON iam_users (permissions_boundary);
CREATE INDEX iam_roles_by_boundary ON iam_roles (permissions_boundary);
