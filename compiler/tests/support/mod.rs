//! Shared test support: the random policy-set generator.

pub mod gen;
pub mod ide_fixture;
pub mod pg;
pub mod polc;

/// The number of generated cases: `POL_DIFF_CASES` if set, else `default`.
#[allow(dead_code)]
pub fn cases(default: u32) -> u32 {
    std::env::var("POL_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
