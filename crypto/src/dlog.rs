//! Discrete logarithms of small integers: baby-step giant-step with a table
//! (`docs/protocol/07-threshold.md` §Discrete logarithm).
//!
//! Totals are at most the number of ballots, so `m·G` is solved for `0 ≤ m ≤ max`.

use std::collections::HashMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::Identity;

use crate::group::{generator_g, small_mul_base};

/// A baby-step table for solving `P = m·G` with `0 ≤ m ≤ max`.
pub struct DlogTable {
    baby: HashMap<[u8; 32], u64>,
    step: u64,
    giant: RistrettoPoint,
    max: u64,
}

impl DlogTable {
    /// Builds a table of `⌈√(max+1)⌉` baby steps.
    pub fn new(max: u64) -> Self {
        let step = (max.saturating_add(1) as f64).sqrt().ceil().max(1.0) as u64;
        let mut baby = HashMap::with_capacity(step as usize);
        let g = generator_g();
        let mut p = RistrettoPoint::identity();
        for j in 0..step {
            baby.insert(p.compress().to_bytes(), j);
            p += g;
        }
        Self { baby, step, giant: small_mul_base(step), max }
    }

    /// The `m ≤ max` with `m·G = target`, or `None`.
    pub fn solve(&self, target: &RistrettoPoint) -> Option<u64> {
        let mut cur = *target;
        let mut i = 0u64;
        while i.saturating_mul(self.step) <= self.max {
            if let Some(j) = self.baby.get(&cur.compress().to_bytes()) {
                let m = i * self.step + j;
                return (m <= self.max).then_some(m);
            }
            cur -= self.giant;
            i += 1;
        }
        None
    }

    /// The largest value this table solves.
    pub fn max(&self) -> u64 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_every_value_and_rejects_larger() {
        let t = DlogTable::new(1000);
        for m in [0u64, 1, 2, 31, 32, 33, 999, 1000] {
            assert_eq!(t.solve(&small_mul_base(m)), Some(m), "m = {m}");
        }
        assert_eq!(t.solve(&small_mul_base(1001)), None);
        assert_eq!(t.solve(&small_mul_base(5000)), None);
    }
}
