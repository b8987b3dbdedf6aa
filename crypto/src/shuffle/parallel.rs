//! Sums over slices of rows on every core (rayon): the prover's constant-time multiscalar
//! multiplications and the verifier's variable-time ones are both cut into slices of rows whose
//! partial sums are added (`docs/protocol/12-shuffle.md` §Prover, §Batch verification).

use std::ops::Range;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::Identity;
use rayon::prelude::*;

use super::ShuffleError;

/// `Σ f(slice)` over slices of `rows_per_slice` rows of `0 … n`, elementwise: `f` returns `m`
/// partial sums for its slice of rows.
pub(crate) fn sum_over_rows<F>(
    n: usize,
    rows_per_slice: usize,
    m: usize,
    f: F,
) -> Result<Vec<RistrettoPoint>, ShuffleError>
where
    F: Fn(Range<usize>) -> Result<Vec<RistrettoPoint>, ShuffleError> + Sync,
{
    let step = rows_per_slice.max(1);
    (0..n.div_ceil(step)).into_par_iter().map(|s| f(s * step..n.min((s + 1) * step))).try_reduce(
        || vec![RistrettoPoint::identity(); m],
        |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
            Ok(a)
        },
    )
}

/// `xs[range]`, or a shape error (ranges are computed from lengths already checked).
pub(crate) fn slice<T>(xs: &[T], range: Range<usize>) -> Result<&[T], ShuffleError> {
    xs.get(range).ok_or(ShuffleError::Shape("a list is shorter than the rows"))
}
