//! Benchmark of the filter's comparisons (docs/protocol/13-revoting.md §7.10, §14): the honest
//! selection, proving and verifying the aggregated range proofs in chunks of 64, per comparison
//! (one comparison per row that is not kept, about). It prints figures and asserts nothing
//! about time: `cargo bench -p dobush-crypto --bench filter_blocks` (`FILTER_BENCH_ROWS=n` for
//! another size; default 4,096 rows in groups of 4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use curve25519_dalek::scalar::Scalar;
use dobush_crypto::filter::comparisons::{
    ChainPointers, Commitments, Group, GroupRow, Interval, Layout, Opening, Openings, SelectionContext,
    prove_comparisons, select, verify_comparisons,
};
use dobush_crypto::filter::cover::Cover;
use dobush_crypto::group::{generator_g, generator_h, random_scalar};
use rand::SeedableRng;
use rand::rngs::OsRng;
use rand_chacha::ChaCha20Rng;

fn main() {
    let rows: usize = std::env::var("FILTER_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(4096);
    let per_group = 4;
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let openings: Vec<Opening> =
        (0..rows).map(|i| Opening { ord: i as u64 + 1, rho: random_scalar(&mut rng) }).collect();
    let p: Vec<_> = openings.iter().map(|o| Scalar::from(o.ord) * generator_g() + o.rho * generator_h()).collect();
    let groups: Vec<Group> = (0..rows / per_group)
        .map(|g| {
            let mut root = [0u8; 32];
            root[..8].copy_from_slice(&(g as u64).to_be_bytes());
            let rows =
                (0..per_group).map(|k| GroupRow { row: g * per_group + k, interval: Interval::default() }).collect();
            Group { root, rows }
        })
        .collect();
    let chains = groups.iter().map(|g| ChainPointers { root: g.root, pointers: vec![] }).collect();
    let layout = Layout { dropped: vec![], chains, exceptions: vec![], groups };
    let o = Openings { rows: &openings, pointers: &[] };
    let c = Commitments { rows: &p, pointers: &[] };
    let ctx = SelectionContext { context: &[7; 32], run: 1, style: "bench" };

    let t = Instant::now();
    let sel = select(&layout, &o).unwrap();
    let t_select = t.elapsed();
    let t = Instant::now();
    let proofs = prove_comparisons(&mut OsRng, &ctx, &sel.comparisons, &c, &o).unwrap();
    let t_prove = t.elapsed();
    let t = Instant::now();
    verify_comparisons(&mut OsRng, &ctx, &sel.comparisons, &c, &proofs).unwrap();
    let t_verify = t.elapsed();
    let m = sel.comparisons.len();
    let bytes: usize = proofs.iter().map(|p| p.to_bytes().len()).sum();
    let us = |d: std::time::Duration| d.as_secs_f64() * 1e6 / m as f64;
    println!(
        "filter comparisons: {rows} rows in groups of {per_group}, {m} comparisons, {} chunks of 64",
        proofs.len()
    );
    println!("  select (honest selection)  {:>8.1} µs per comparison", us(t_select));
    println!("  prove                      {:>8.1} µs per comparison", us(t_prove));
    println!("  verify                     {:>8.1} µs per comparison", us(t_verify));
    println!("  proof size                 {:>8.1} bytes per comparison", bytes as f64 / m as f64);
    println!(
        "  per row (×{:.2} comparisons per row): prove {:.1} µs, verify {:.1} µs",
        m as f64 / rows as f64,
        us(t_prove) * m as f64 / rows as f64,
        us(t_verify) * m as f64 / rows as f64
    );
    // The cover at a million ballots (§9.1) and the comparisons it implies at one per row not kept.
    for (g, cap) in [(800_000u64, 8u64), (800_000, 16), (500_000, 8)] {
        let cover = Cover::new(1_000_000, g, cap).unwrap();
        let not_kept = cover.rows() - g;
        println!(
            "  n = 1,000,000, g = {g}, c = {cap}: {} padded rows, ~{not_kept} comparisons: prove {:.0} s, verify {:.0} s (one core each, from the figures above)",
            cover.rows(),
            us(t_prove) * not_kept as f64 / 1e6,
            us(t_verify) * not_kept as f64 / 1e6
        );
    }
}
