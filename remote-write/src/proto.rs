//! Protobuf messages of both protocol versions, declared with `prost` derives so that no `protoc`
//! is needed at build time. Field numbers follow `prompb/types.proto`, `prompb/remote.proto` and
//! `prompb/io/prometheus/write/v2/types.proto`.

pub mod v1;
pub mod v2;
