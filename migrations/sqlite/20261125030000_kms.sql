-- Workspace data keys: each workspace's data (samples, rule groups, alertmanager definition) is
-- sealed with its own 256-bit data key, stored here only as a KMS ciphertext blob wrapped by the
-- workspace's KMS key (the customer key of `kmsKeyArn`, or the account's AWS managed key).
-- Deleting the row destroys the data key: whatever it sealed is unrecoverable from then on.

CREATE TABLE workspace_data_keys (
    workspace_id TEXT    PRIMARY KEY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kms_key_arn  TEXT    NOT NULL,
    wrapped      BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX workspace_data_keys_by_key ON workspace_data_keys (kms_key_arn);
