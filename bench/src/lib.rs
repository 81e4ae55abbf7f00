//! Load tool: pushes realistic node_exporter-like series over remote write and reports throughput and latency.
