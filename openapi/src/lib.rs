//! The OpenAPI document of ampd's rest-json control plane, generated from the API types.
