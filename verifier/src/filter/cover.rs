//! The dummy cover (`13-revoting.md` §9.1): the group sizes of the groups that are not
//! exceptions must be exactly `cover(n′, g′, c)` (CV-1, CV-2).

/// The slot sizes of `cover(n, g, c)`, largest first, or why there is none.
///
/// CV-1: `S_1 = g`, `S_m = min(g, ⌊(n − g)/(m − 1)⌋)` for `2 ≤ m ≤ c`, `S_{c+1} = 0`; CV-2:
/// `S_m − S_{m+1}` groups of size `m`. Slot `k` (from 0, largest first) therefore has the size
/// of the largest `m` with `S_m > k`.
pub fn cover(n: u64, g: u64, c: u64) -> Result<Vec<u64>, String> {
    if !(1..=1 << 16).contains(&c) {
        return Err(format!("the row limit c = {c} is outside 1 … 65536"));
    }
    if g > n || (n - g) > g.saturating_mul(c - 1) {
        return Err(format!("{n} rows do not fit {g} groups of 1 to {c} rows"));
    }
    let big_s = |m: u64| if m == 1 { g } else { g.min((n - g) / (m - 1)) };
    let mut slots = Vec::new();
    for m in (1..=c).rev() {
        let from = slots.len() as u64;
        let to = big_s(m);
        slots.extend((from..to).map(|_| m));
    }
    Ok(slots)
}

/// Checks §9.1 for a style: `sizes` are the sizes of the groups of at most `c` rows, `dummies`
/// the number of dummy rows (all of them in these groups).
pub fn check_cover(sizes: &[u64], dummies: u64, c: u64) -> Result<(), String> {
    if let Some(s) = sizes.iter().find(|&&s| s == 0 || s > c) {
        return Err(format!("a group of {s} rows is not part of a cover with c = {c}"));
    }
    let total: u64 = sizes.iter().sum();
    let n = total.checked_sub(dummies).ok_or_else(|| format!("{dummies} dummies but only {total} rows"))?;
    let expected = cover(n, sizes.len() as u64, c)?;
    let mut got = sizes.to_vec();
    got.sort_unstable_by(|a, b| b.cmp(a));
    if got == expected { Ok(()) } else { Err(format!("the group sizes are not cover({n}, {}, {c})", sizes.len())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_section_9_1() {
        let rows = |n, g, c| cover(n, g, c).unwrap().iter().sum::<u64>();
        assert_eq!(rows(1_000_000, 800_000, 8), 1_318_570);
        assert_eq!(rows(1_000_000, 800_000, 16), 1_463_641);
        assert_eq!(rows(1_000_000, 500_000, 8), 1_796_427);
        assert_eq!(rows(1_000_000, 333_334, 16), 2_212_150);
    }

    #[test]
    fn every_distribution_of_up_to_8_groups_fits() {
        // Sizes in 1 … c for g groups, as a counter in base c (every order, not only sorted).
        for c in 1..=8u64 {
            for g in 1..=5usize {
                let mut chains = vec![1u64; g];
                loop {
                    let n = chains.iter().sum();
                    let slots = cover(n, g as u64, c).unwrap();
                    let mut sorted = chains.clone();
                    sorted.sort_unstable_by(|a, b| b.cmp(a));
                    assert!(sorted.iter().zip(&slots).all(|(x, s)| x <= s), "{chains:?} in {slots:?}");
                    let dummies = slots.iter().sum::<u64>() - n;
                    assert_eq!(check_cover(&slots, dummies, c), Ok(()));
                    match chains.iter().position(|&x| x < c) {
                        Some(i) => {
                            chains[i] += 1;
                            chains[..i].fill(1);
                        }
                        None => break,
                    }
                }
            }
        }
    }

    #[test]
    fn wrong_sizes_are_refused() {
        assert_eq!(cover(5, 3, 4), Ok(vec![3, 2, 1]));
        assert!(check_cover(&[2, 1, 3], 1, 4).is_ok());
        assert!(check_cover(&[3, 1, 1], 0, 4).is_err());
        assert!(check_cover(&[3, 2, 1], 0, 4).is_err());
        assert!(check_cover(&[5, 1], 0, 4).is_err());
        assert!(check_cover(&[1], 2, 4).is_err());
        assert!(cover(3, 4, 8).is_err());
        assert!(cover(17, 2, 8).is_err());
        assert!(cover(1, 1, 0).is_err());
    }
}
