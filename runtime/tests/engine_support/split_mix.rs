//! SplitMix64: a small deterministic generator, for the kill delays of the crash tests
//! (`audit_crash`, `grants_crash`), which are separate `harness = false` binaries and declare
//! this file with `#[path]`.

/// SplitMix64 over a seed.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next number of the sequence.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
