//! The dummy cover (`docs/protocol/13-revoting.md` §9.1, CV-1 and CV-2): how many groups of each
//! size the padded rows of a style form, a function of public counts only, and the check that
//! the group sizes of a filter are exactly that cover.
//!
//! For `n` rows in `g` groups of at most `c` rows (`g ≤ n ≤ c·g`), with `R = n − g`:
//!
//! ```text
//! CV-1   S_1 = g;   S_m = min(g, ⌊R / (m − 1)⌋) for 2 ≤ m ≤ c;   S_{c+1} = 0
//! CV-2   cover(n, g, c) = the multiset with S_m − S_{m+1} groups of size m, for m = 1 … c
//! ```
//!
//! `S_m` is the number of slots of at least `m` rows; any distribution of `n` rows over `g`
//! groups of 1 … `c` rows fits the cover, the `k`-th largest group in the `k`-th largest slot.

use thiserror::Error;

/// The largest row limit `c` this module accepts (the package's `re_vote.max_rows` is a small
/// number; the bound keeps the per-size table small).
pub const MAX_ROW_LIMIT: u64 = 1 << 16;

/// Why counts have no cover, or group sizes are not the cover.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CoverError {
    /// `c` is 0 or above [`MAX_ROW_LIMIT`].
    #[error("the row limit must be between 1 and 65536, not {0}")]
    RowLimit(u64),
    /// `g ≤ n ≤ c·g` does not hold (or `n` counts fewer rows than the dummies).
    #[error("{rows} rows cannot fill {groups} groups of 1 to {limit} rows")]
    Counts {
        /// `n`.
        rows: u64,
        /// `g`.
        groups: u64,
        /// `c`.
        limit: u64,
    },
    /// A group of 0 rows or of more than `c` rows (an exception is not part of the cover).
    #[error("a group of {0} rows is outside 1 … c")]
    GroupSize(u64),
    /// The sizes are not the cover of their counts.
    #[error("the group sizes are not cover({rows}, {groups}, {limit})")]
    NotTheCover {
        /// `n′`.
        rows: u64,
        /// `g′`.
        groups: u64,
        /// `c`.
        limit: u64,
    },
}

/// `cover(n, g, c)` as the number of groups of each size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// Entry `m − 1`: the number of groups of size `m`, for `m = 1 … c`.
    counts: Vec<u64>,
}

impl Cover {
    /// CV-1 and CV-2 for `n` rows in `g` groups of at most `c` rows.
    pub fn new(n: u64, g: u64, c: u64) -> Result<Self, CoverError> {
        if c == 0 || c > MAX_ROW_LIMIT {
            return Err(CoverError::RowLimit(c));
        }
        if g > n || c.checked_mul(g).is_none_or(|cg| n > cg) {
            return Err(CoverError::Counts { rows: n, groups: g, limit: c });
        }
        let r = n - g;
        // S_1 … S_{c+1}.
        let slots: Vec<u64> = (1..=c + 1)
            .map(|m| {
                if m == 1 {
                    g
                } else if m > c {
                    0
                } else {
                    g.min(r / (m - 1))
                }
            })
            .collect();
        let counts = slots.windows(2).map(|s| s[0] - s[1]).collect();
        Ok(Self { counts })
    }

    /// The number of groups of size `m` (0 outside `1 … c`).
    pub fn groups_of(&self, m: u64) -> u64 {
        usize::try_from(m).ok().and_then(|m| m.checked_sub(1)).and_then(|i| self.counts.get(i)).copied().unwrap_or(0)
    }

    /// The number of groups, `g`.
    pub fn groups(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The number of padded rows: the sum of the sizes.
    pub fn rows(&self) -> u64 {
        self.counts.iter().zip(1u64..).map(|(k, m)| k * m).sum()
    }

    /// `m*`, the largest group size (0 for the empty cover); the pool repeats every real row
    /// `K_s = m* − 1` times (§7.5).
    pub fn largest(&self) -> u64 {
        self.counts.iter().zip(1u64..).filter(|(k, _)| **k > 0).map(|(_, m)| m).max().unwrap_or(0)
    }

    /// The slot sizes, largest first.
    pub fn slots(&self) -> impl Iterator<Item = u64> + '_ {
        self.counts.iter().enumerate().rev().flat_map(|(i, &k)| std::iter::repeat_n(i as u64 + 1, k as usize))
    }
}

/// The verifier's check of §9.1: the sizes of the groups that are not exceptions (each between
/// 1 and `c`) are exactly `cover(n′, g′, c)`, where `g′` is their number and `n′` their rows
/// minus the `dummies` (every dummy is in one of these groups).
pub fn check_cover(sizes: &[u64], dummies: u64, c: u64) -> Result<(), CoverError> {
    if c == 0 || c > MAX_ROW_LIMIT {
        return Err(CoverError::RowLimit(c));
    }
    let mut counts = vec![0u64; c as usize];
    for &s in sizes {
        let slot = usize::try_from(s).ok().and_then(|s| s.checked_sub(1)).and_then(|i| counts.get_mut(i));
        *slot.ok_or(CoverError::GroupSize(s))? += 1;
    }
    let groups = sizes.len() as u64;
    let padded: u64 = sizes.iter().sum();
    let rows = padded.checked_sub(dummies).ok_or(CoverError::Counts { rows: 0, groups, limit: c })?;
    let expected = Cover::new(rows, groups, c)?;
    if expected.counts == counts { Ok(()) } else { Err(CoverError::NotTheCover { rows, groups, limit: c }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every non-increasing sequence of `g` sizes in `1 … c` (every distribution of rows over
    /// `g` groups, up to order), passed to `f`.
    fn distributions(g: usize, c: u64, f: &mut dyn FnMut(&[u64])) {
        fn go(prefix: &mut Vec<u64>, g: usize, max: u64, f: &mut dyn FnMut(&[u64])) {
            if prefix.len() == g {
                f(prefix);
                return;
            }
            for s in (1..=max).rev() {
                prefix.push(s);
                go(prefix, g, s, f);
                prefix.pop();
            }
        }
        go(&mut Vec::new(), g, c, f);
    }

    #[test]
    fn every_distribution_fits_its_cover_for_c_and_g_up_to_8() {
        let mut checked = 0u64;
        for c in 1..=8u64 {
            for g in 1..=8usize {
                distributions(g, c, &mut |chains| {
                    let n: u64 = chains.iter().sum();
                    let cover = Cover::new(n, g as u64, c).unwrap();
                    assert_eq!(cover.groups(), g as u64);
                    assert!(cover.largest() <= c);
                    let slots: Vec<u64> = cover.slots().collect();
                    assert_eq!(slots.len(), g);
                    // The k-th largest chain fits the k-th largest slot (chains are sorted).
                    for (chain, slot) in chains.iter().zip(&slots) {
                        assert!(chain <= slot, "c = {c}, chains {chains:?}, slots {slots:?}");
                    }
                    // Padding each chain to its slot gives exactly the cover.
                    let dummies: u64 = slots.iter().zip(chains).map(|(s, x)| s - x).sum();
                    assert_eq!(check_cover(&slots, dummies, c), Ok(()));
                    checked += 1;
                });
            }
        }
        // Σ_{c ≤ 8} Σ_{g ≤ 8} C(g + c − 1, g): every multiset was visited.
        let binom = |n: u64, k: u64| (1..=k).fold(1u64, |acc, i| acc * (n + 1 - i) / i);
        let expected: u64 = (1..=8).flat_map(|c| (1..=8).map(move |g| (c, g))).map(|(c, g)| binom(g + c - 1, g)).sum();
        assert_eq!(checked, expected);
    }

    #[test]
    fn the_cover_is_tight_somewhere_for_each_size() {
        // For each S_m there is a distribution that needs all S_m slots of size ≥ m: S_m chains
        // of m rows fit in n when m·S_m + (g − S_m) ≤ n, which CV-1's floor makes true.
        for c in 2..=8u64 {
            for g in 1..=8u64 {
                for n in g..=c * g {
                    let cover = Cover::new(n, g, c).unwrap();
                    for m in 2..=c {
                        let s_m: u64 = (m..=c).map(|x| cover.groups_of(x)).sum();
                        assert!(m * s_m + (g - s_m) <= n, "S_{m} too large at n = {n}, g = {g}, c = {c}");
                        let more = s_m + 1;
                        if more <= g {
                            assert!(m * more + (g - more) > n, "S_{m} too small at n = {n}, g = {g}, c = {c}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_cost_figures_of_section_9_1() {
        let n = 1_000_000;
        assert_eq!(Cover::new(n, 800_000, 8).unwrap().rows(), 1_318_570);
        assert_eq!(Cover::new(n, 800_000, 16).unwrap().rows(), 1_463_641);
        // The crowd's worst case over g (every g with ⌈n/c⌉ ≤ g ≤ n), and where it is first
        // reached. (Round 3 of the spec printed 1,796,369 and 2,212,119, from a coarser scan.)
        for (c, worst, at) in [(8u64, 1_796_427u64, 500_000u64), (16, 2_212_150, 333_334)] {
            let mut best = (0, 0);
            for g in n.div_ceil(c)..=n {
                let rows = Cover::new(n, g, c).unwrap().rows();
                if rows > best.0 {
                    best = (rows, g);
                }
            }
            assert_eq!(best, (worst, at), "c = {c}");
        }
    }

    #[test]
    fn counts_outside_the_bounds_are_refused() {
        assert_eq!(Cover::new(3, 4, 8), Err(CoverError::Counts { rows: 3, groups: 4, limit: 8 }));
        assert_eq!(Cover::new(17, 2, 8), Err(CoverError::Counts { rows: 17, groups: 2, limit: 8 }));
        assert_eq!(Cover::new(1, 1, 0), Err(CoverError::RowLimit(0)));
        assert_eq!(
            Cover::new(u64::MAX, u64::MAX / 2, 8),
            Err(CoverError::Counts { rows: u64::MAX, groups: u64::MAX / 2, limit: 8 })
        );
        assert_eq!(Cover::new(0, 0, 6).map(|c| (c.rows(), c.groups(), c.largest())), Ok((0, 0, 0)));
        assert_eq!(Cover::new(5, 5, 1).map(|c| c.slots().collect::<Vec<_>>()), Ok(vec![1; 5]));
    }

    #[test]
    fn sizes_that_are_not_the_cover_are_refused() {
        // n = 5 real rows in g = 3 groups, c = 4: R = 2, S = (3, 2, 1, 0), sizes {3, 2, 1}.
        let cover = Cover::new(5, 3, 4).unwrap();
        let slots: Vec<u64> = cover.slots().collect();
        assert_eq!(slots, vec![3, 2, 1]);
        assert_eq!(check_cover(&[1, 3, 2], 1, 4), Ok(()), "order does not matter");
        // A dummy dropped (or one more dummy claimed) no longer matches.
        assert_eq!(check_cover(&[3, 1, 1], 0, 4), Err(CoverError::NotTheCover { rows: 5, groups: 3, limit: 4 }));
        assert_eq!(check_cover(&[3, 2, 1], 0, 4), Err(CoverError::NotTheCover { rows: 6, groups: 3, limit: 4 }));
        assert_eq!(check_cover(&[3, 2, 1], 2, 4), Err(CoverError::NotTheCover { rows: 4, groups: 3, limit: 4 }));
        // A group over the limit is an exception, not part of the cover.
        assert_eq!(check_cover(&[5, 1], 0, 4), Err(CoverError::GroupSize(5)));
        assert_eq!(check_cover(&[0, 1], 0, 4), Err(CoverError::GroupSize(0)));
        assert_eq!(check_cover(&[1], 2, 4), Err(CoverError::Counts { rows: 0, groups: 1, limit: 4 }));
    }
}
