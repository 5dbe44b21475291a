//! Masking benchmarks (being written).
fn main() {}
