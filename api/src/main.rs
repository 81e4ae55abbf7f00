//! The `ampd` binary.

fn main() {}
