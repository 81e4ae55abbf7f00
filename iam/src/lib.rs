//! SigV4 verification, principals and credentials, the IAM policy language and its evaluator.
