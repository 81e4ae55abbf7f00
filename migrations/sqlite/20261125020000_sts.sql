-- IAM OpenID Connect identity providers, trusted by roles for AssumeRoleWithWebIdentity.
-- STS sessions themselves are not stored: each session is sealed into its own token.
-- `client_ids`, `thumbprints` and `tags` are JSON; timestamps are milliseconds since the epoch.

CREATE TABLE iam_oidc_providers (
    arn         TEXT    PRIMARY KEY NOT NULL,
    url         TEXT    NOT NULL UNIQUE,
    client_ids  TEXT    NOT NULL,
    thumbprints TEXT    NOT NULL,
    tags        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
