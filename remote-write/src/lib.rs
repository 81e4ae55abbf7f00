//! Prometheus remote write 1.0 and 2.0 on the wire: protobuf messages, snappy framing, validation.
