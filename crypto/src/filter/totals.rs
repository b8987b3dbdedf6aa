//! The filter's output (`docs/protocol/13-revoting.md` §7.11): the encrypted totals, recomputed
//! by everyone from the kept rows, and the check of the published counts.
//!
//! ```text
//! TL-1   T_{q,i} = (G, K) + Σ_{styles s ∋ q} Σ_{kept rows p of s} vote_{p,(q,i)}
//! TL-2   N_s     = (G, K) + Σ_{kept rows p of s} W_p
//! TL-3   (the combined decryption of N_s) = (counted_s + M_s·overridden_s)·G,
//!        counted_s + overridden_s = number of groups of s with a kept row,  counted_s < M_s
//! ```
//!
//! A row is `[X, V, I, W, vote₁ … vote_k]` (§5): `W` is column 3, the votes start at column 4.
//! The sums start from the trivial encryption `(G, K)` of 0 so that no total is the identity
//! point when nothing is kept.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use thiserror::Error;

use crate::elgamal::{Ciphertext, PublicKey, RawCiphertext};
use crate::group::generator_g;

/// The column of `W` in a row (§5).
pub const W_COLUMN: usize = 3;
/// The first vote column of a row (§5).
pub const FIRST_VOTE: usize = 4;

/// Why totals cannot be recomputed, or the counts are refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TotalsError {
    /// A style names a contest that does not exist.
    #[error("a style names contest {0}, which does not exist")]
    Contest(usize),
    /// A kept row does not have `4 + k` columns.
    #[error("a kept row has {got} ciphertexts, its style needs {expected}")]
    Width {
        /// Columns the style needs.
        expected: usize,
        /// Columns of the row.
        got: usize,
    },
    /// TL-3: `counted_s < M_s` does not hold.
    #[error("counted ({counted}) must be below M_s ({m})")]
    CountedTooLarge {
        /// counted_s.
        counted: u64,
        /// M_s.
        m: u64,
    },
    /// TL-3: the counts do not add up to the number of groups with a kept row.
    #[error("counted + overridden = {claimed}, but {groups} groups have a kept row")]
    Groups {
        /// counted_s + overridden_s.
        claimed: u128,
        /// Groups with a kept row.
        groups: u64,
    },
    /// TL-3: the decryption of `N_s` is not `(counted_s + M_s·overridden_s)·G`.
    #[error("the decrypted weight total is not counted + M_s·overridden")]
    Weight,
}

/// The kept rows of one style and the contests its ballots hold, in ballot order.
#[derive(Clone, Copy, Debug)]
pub struct StyleKept<'a> {
    /// The contest index `q` (manifest order) of each of the style's contests, in ballot order.
    pub contests: &'a [usize],
    /// The kept rows, each `[X, V, I, W, votes…]`.
    pub rows: &'a [&'a [Ciphertext]],
}

/// `(G, K)`, the trivial encryption of 0 every sum starts from.
fn start(pk: &PublicKey) -> RawCiphertext {
    RawCiphertext { alpha: generator_g(), beta: *pk.point() }
}

/// TL-1: `T_{q,i}` for every contest `q` (with `options[q]` selections) and selection `i`.
pub fn contest_totals(
    pk: &PublicKey,
    options: &[usize],
    styles: &[StyleKept<'_>],
) -> Result<Vec<Vec<RawCiphertext>>, TotalsError> {
    let mut totals: Vec<Vec<RawCiphertext>> = options.iter().map(|&k| vec![start(pk); k]).collect();
    for style in styles {
        let k = style
            .contests
            .iter()
            .map(|&q| options.get(q).copied().ok_or(TotalsError::Contest(q)))
            .sum::<Result<usize, _>>()?;
        for row in style.rows {
            if row.len() != FIRST_VOTE + k {
                return Err(TotalsError::Width { expected: FIRST_VOTE + k, got: row.len() });
            }
            let mut votes = row.iter().skip(FIRST_VOTE);
            for &q in style.contests {
                let contest = totals.get_mut(q).ok_or(TotalsError::Contest(q))?;
                for (total, vote) in contest.iter_mut().zip(votes.by_ref()) {
                    *total += vote.raw();
                }
            }
        }
    }
    Ok(totals)
}

/// TL-2: `N_s`, the sum of the kept rows' `W` columns.
pub fn weight_total(pk: &PublicKey, rows: &[&[Ciphertext]]) -> Result<RawCiphertext, TotalsError> {
    rows.iter().try_fold(start(pk), |acc, row| match row.get(W_COLUMN) {
        Some(w) => Ok(acc + w.raw()),
        None => Err(TotalsError::Width { expected: FIRST_VOTE, got: row.len() }),
    })
}

/// TL-3: the published `counted_s` and `overridden_s` against the combined decryption of
/// `N_s` (the plaintext point), `M_s` and the number of groups with a kept row. A kept dummy
/// (`W = 0`) adds a group but nothing to `N_s`; an override that was not kept leaves
/// `overridden_s` short of `M_s` in `N_s`: neither can be hidden by any choice of the counts.
pub fn check_counts(
    decrypted: &RistrettoPoint,
    m_s: u64,
    counted: u64,
    overridden: u64,
    kept_groups: u64,
) -> Result<(), TotalsError> {
    if counted >= m_s {
        return Err(TotalsError::CountedTooLarge { counted, m: m_s });
    }
    let claimed = u128::from(counted) + u128::from(overridden);
    if claimed != u128::from(kept_groups) {
        return Err(TotalsError::Groups { claimed, groups: kept_groups });
    }
    let weight = u128::from(counted) + u128::from(m_s) * u128::from(overridden);
    if Scalar::from(weight) * generator_g() == *decrypted { Ok(()) } else { Err(TotalsError::Weight) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::{SecretKey, encrypt};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    struct Board {
        sk: SecretKey,
        pk: PublicKey,
        rng: ChaCha20Rng,
    }

    impl Board {
        fn new() -> Self {
            let mut rng = ChaCha20Rng::seed_from_u64(19);
            let sk = SecretKey::generate(&mut rng);
            let pk = sk.public_key();
            Self { sk, pk, rng }
        }

        /// A row `[X, V, I, W, votes…]` with `W = w` and these votes (X, V, I are placeholders).
        fn row(&mut self, w: u64, votes: &[u64]) -> Vec<Ciphertext> {
            let mut r: Vec<Ciphertext> = (0..3).map(|_| encrypt(&self.pk, 99, &mut self.rng).unwrap().0).collect();
            r.push(encrypt(&self.pk, w, &mut self.rng).unwrap().0);
            r.extend(votes.iter().map(|&v| encrypt(&self.pk, v, &mut self.rng).unwrap().0));
            r
        }

        fn decrypt(&self, ct: &RawCiphertext) -> RistrettoPoint {
            self.sk.decrypt_to_point(&ct.validate().unwrap())
        }
    }

    fn g(x: u64) -> RistrettoPoint {
        Scalar::from(x) * generator_g()
    }

    /// The claims (counted, overridden) in a grid that TL-3 accepts.
    fn accepted(n: &RistrettoPoint, m: u64, groups: u64) -> Vec<(u64, u64)> {
        let mut ok = Vec::new();
        for counted in 0..3 * m {
            for overridden in 0..=groups + 2 {
                if check_counts(n, m, counted, overridden, groups).is_ok() {
                    ok.push((counted, overridden));
                }
            }
        }
        ok
    }

    #[test]
    fn contest_totals_add_the_kept_rows_of_every_style_holding_the_contest() {
        let mut b = Board::new();
        // Contest 0 has 2 options, contest 1 has 3. Style a holds (0, 1), style b holds (1).
        let a_rows = [b.row(1, &[1, 0, 0, 1, 0]), b.row(1, &[0, 1, 0, 0, 1])];
        let b_rows = [b.row(1, &[0, 0, 1])];
        let a: Vec<&[Ciphertext]> = a_rows.iter().map(Vec::as_slice).collect();
        let bb: Vec<&[Ciphertext]> = b_rows.iter().map(Vec::as_slice).collect();
        let styles = [StyleKept { contests: &[0, 1], rows: &a }, StyleKept { contests: &[1], rows: &bb }];
        let totals = contest_totals(&b.pk, &[2, 3], &styles).unwrap();
        let plain: Vec<Vec<RistrettoPoint>> = totals.iter().map(|t| t.iter().map(|c| b.decrypt(c)).collect()).collect();
        assert_eq!(plain, vec![vec![g(1), g(1)], vec![g(0), g(1), g(2)]]);
        // Nothing kept: every total is (G, K), never the identity.
        let empty = contest_totals(&b.pk, &[2], &[StyleKept { contests: &[0], rows: &[] }]).unwrap();
        assert_eq!(empty[0][0].alpha, generator_g());
        // A row of the wrong width, or an unknown contest.
        assert_eq!(
            contest_totals(&b.pk, &[2, 3], &[StyleKept { contests: &[1], rows: &a }]),
            Err(TotalsError::Width { expected: 7, got: 9 })
        );
        assert_eq!(
            contest_totals(&b.pk, &[2], &[StyleKept { contests: &[1], rows: &a }]),
            Err(TotalsError::Contest(1))
        );
    }

    #[test]
    fn honest_counts_pass_tl3_and_no_other_claim_does() {
        let mut b = Board::new();
        // The board holds 5 ballots and 1 override of the style: M_s = 7. Kept: 3 ballots and
        // the override, one group each.
        let m = 7;
        let rows = [b.row(1, &[]), b.row(1, &[]), b.row(1, &[]), b.row(m, &[])];
        let kept: Vec<&[Ciphertext]> = rows.iter().map(Vec::as_slice).collect();
        let n = b.decrypt(&weight_total(&b.pk, &kept).unwrap());
        assert_eq!(n, g(3 + m));
        assert_eq!(check_counts(&n, m, 3, 1, 4), Ok(()));
        assert_eq!(accepted(&n, m, 4), vec![(3, 1)], "a wrong overridden (or counted) count is refused");
        assert_eq!(check_counts(&n, m, 3, 0, 4), Err(TotalsError::Groups { claimed: 3, groups: 4 }));
        assert_eq!(check_counts(&n, m, 4, 0, 4), Err(TotalsError::Weight));
        assert_eq!(check_counts(&g(m), m, m, 0, m), Err(TotalsError::CountedTooLarge { counted: m, m }));
    }

    #[test]
    fn a_kept_dummy_is_refused_whatever_the_counts() {
        let mut b = Board::new();
        let m = 7;
        // A dummy kept next to the honest rows (one more group, nothing added to N_s).
        let rows = [b.row(1, &[]), b.row(1, &[]), b.row(1, &[]), b.row(m, &[]), b.row(0, &[])];
        let kept: Vec<&[Ciphertext]> = rows.iter().map(Vec::as_slice).collect();
        let n = b.decrypt(&weight_total(&b.pk, &kept).unwrap());
        assert_eq!(accepted(&n, m, 5), vec![]);
        // A dummy kept in place of a lost override (the override's group now keeps the dummy).
        let offset = [&kept[..3], &kept[4..]].concat();
        let n = b.decrypt(&weight_total(&b.pk, &offset).unwrap());
        assert_eq!(accepted(&n, m, 4), vec![]);
        // Without the dummy, the same rows pass with overridden = 0: the lost override shows
        // only as overridden_s below the valid overrides on the board (a finding, §7.11).
        let n = b.decrypt(&weight_total(&b.pk, &kept[..3]).unwrap());
        assert_eq!(accepted(&n, m, 3), vec![(3, 0)]);
    }
}
