//! Keys and envelope encryption: root key, KMS key material, data keys, rotation and crypto-shredding.
