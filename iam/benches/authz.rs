//! Benchmark of verify + authorize for one request.
fn main() {}
