//! The filter's totals (`13-revoting.md` §7.11), recomputed from the kept rows: TL-1 (per
//! contest and selection), TL-2 (the weight total `N_s` of a style) and the check TL-3 of the
//! published counts against the decryption of `N_s`.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;

/// A ciphertext as two points `(α, β)`.
pub type Pair = (RistrettoPoint, RistrettoPoint);

/// One style: the contests of its ballots in ballot order, and its kept rows
/// `[X, V, I, W, votes…]`.
pub struct Style<'a> {
    /// Contest indices (manifest order).
    pub contests: &'a [usize],
    /// Kept rows.
    pub kept: &'a [Vec<Pair>],
}

/// TL-1: `T_{q,i} = (G, K) + Σ_{s ∋ q} Σ_{kept p} vote_{p,(q,i)}`, with `selections[q]` the
/// number of selections of contest `q`.
pub fn tl1(key: &RistrettoPoint, selections: &[usize], styles: &[Style<'_>]) -> Result<Vec<Vec<Pair>>, String> {
    let g = RISTRETTO_BASEPOINT_POINT;
    let mut t: Vec<Vec<Pair>> = selections.iter().map(|&k| vec![(g, *key); k]).collect();
    for (si, s) in styles.iter().enumerate() {
        // Column of the first vote of each contest of the style.
        let mut offsets = Vec::with_capacity(s.contests.len());
        let mut col = 4;
        for &q in s.contests {
            let k = *selections.get(q).ok_or(format!("style {si}: no contest {q}"))?;
            offsets.push((q, col, k));
            col += k;
        }
        for (pi, row) in s.kept.iter().enumerate() {
            if row.len() != col {
                return Err(format!("style {si}, kept row {pi}: {} ciphertexts, expected {col}", row.len()));
            }
            for &(q, from, k) in &offsets {
                for i in 0..k {
                    let (a, b) = row[from + i];
                    let slot = &mut t[q][i];
                    *slot = (slot.0 + a, slot.1 + b);
                }
            }
        }
    }
    Ok(t)
}

/// TL-2: `N_s = (G, K) + Σ_{kept p} W_p` (`W` is column 3).
pub fn tl2(key: &RistrettoPoint, kept: &[Vec<Pair>]) -> Result<Pair, String> {
    let mut n = (RISTRETTO_BASEPOINT_POINT, *key);
    for (pi, row) in kept.iter().enumerate() {
        let (a, b) = row.get(3).ok_or(format!("kept row {pi} has no W column"))?;
        n = (n.0 + a, n.1 + b);
    }
    Ok(n)
}

/// TL-3 for a style: `decrypted` is the combined decryption of `N_s` (a point), `m` is `M_s`,
/// `groups_kept` the number of groups with a kept row.
pub fn tl3(decrypted: &RistrettoPoint, m: u64, counted: u64, overridden: u64, groups_kept: u64) -> Result<(), String> {
    if counted >= m {
        return Err(format!("TL-3: counted_s = {counted} is not below M_s = {m}"));
    }
    if u128::from(counted) + u128::from(overridden) != u128::from(groups_kept) {
        return Err(format!(
            "TL-3: counted_s + overridden_s = {} but {groups_kept} groups keep a row",
            u128::from(counted) + u128::from(overridden)
        ));
    }
    let expect = (Scalar::from(counted) + Scalar::from(m) * Scalar::from(overridden)) * RISTRETTO_BASEPOINT_POINT;
    if expect != *decrypted {
        return Err("TL-3: the decryption of N_s is not (counted_s + M_s·overridden_s)·G".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(x: u64) -> RistrettoPoint {
        Scalar::from(x) * RISTRETTO_BASEPOINT_POINT
    }

    /// Encryption under `s·G` with nonce `r`, and decryption with `s`.
    fn enc(s: &Scalar, m: u64, r: u64) -> Pair {
        (g(r), g(m) + Scalar::from(r) * (s * RISTRETTO_BASEPOINT_POINT))
    }

    fn dec(s: &Scalar, c: &Pair) -> RistrettoPoint {
        c.1 - s * c.0
    }

    fn row(s: &Scalar, w: u64, votes: &[u64]) -> Vec<Pair> {
        let mut r = vec![enc(s, 9, 1), enc(s, 9, 2), enc(s, 9, 3), enc(s, w, 4)];
        r.extend(votes.iter().zip(5..).map(|(&v, n)| enc(s, v, n)));
        r
    }

    #[test]
    fn totals_and_counts() {
        let s = Scalar::from(77u64);
        let key = s * RISTRETTO_BASEPOINT_POINT;
        let a = vec![row(&s, 1, &[1, 0, 0, 0, 1]), row(&s, 7, &[0, 0, 0, 0, 0]), row(&s, 1, &[0, 1, 1, 0, 0])];
        let b = vec![row(&s, 1, &[0, 1, 0])];
        let styles = [Style { contests: &[0, 1], kept: &a }, Style { contests: &[1], kept: &b }];
        let t = tl1(&key, &[2, 3], &styles).unwrap();
        let plain: Vec<Vec<RistrettoPoint>> = t.iter().map(|c| c.iter().map(|x| dec(&s, x)).collect()).collect();
        assert_eq!(plain, vec![vec![g(1), g(1)], vec![g(1), g(1), g(1)]]);
        assert!(tl1(&key, &[2, 3], &[Style { contests: &[1], kept: &a }]).is_err());
        // Style a: 2 ballots and an override kept, M_s = 7.
        let n = dec(&s, &tl2(&key, &a).unwrap());
        assert_eq!(tl3(&n, 7, 2, 1, 3), Ok(()));
        for (c, o, groups) in [(3, 0, 3), (2, 0, 3), (2, 1, 4), (9, 0, 9), (1, 2, 3)] {
            assert!(tl3(&n, 7, c, o, groups).is_err(), "({c}, {o}, {groups})");
        }
        // A kept dummy (W = 0): one more group, no claim passes.
        let mut d = a.clone();
        d.push(row(&s, 0, &[0, 0, 0, 0, 0]));
        let n = dec(&s, &tl2(&key, &d).unwrap());
        for c in 0..7 {
            for o in 0..6 {
                assert!(tl3(&n, 7, c, o, 4).is_err(), "({c}, {o})");
            }
        }
    }
}
