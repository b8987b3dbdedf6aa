//! Benchmarks that print figures (never asserted): `cargo bench -p dobush-crypto`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//!
//! For one contest with k = 1, 5, 10, 30 options and one mark: ballot encryption, verification
//! one by one, batched verification of 64 ballots; the tally of 100,000 verified ballots.

use std::time::{Duration, Instant};

use dobush_crypto::ballot::{PlaintextBallot, PlaintextContest, encrypt_ballot, verify_ballot, verify_ballots};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::credential::Credential;
use dobush_crypto::elgamal::SecretKey;
use dobush_crypto::manifest::Manifest;
use dobush_crypto::tally::EncryptedTally;
use rand::rngs::OsRng;

fn manifest(k: usize) -> Manifest {
    dobush_crypto::testing::one_contest_manifest(&format!("bench-{k}"), k)
}

fn per(d: Duration, n: usize) -> String {
    format!("{:8.3} ms", d.as_secs_f64() * 1000.0 / n as f64)
}

fn main() {
    let mut rng = OsRng;
    println!("dobush-crypto benchmarks (one contest, one mark, k options; times per ballot, one core)");
    println!("{:>4} | {:>11} | {:>11} | {:>11}", "k", "encrypt", "verify 1×1", "verify ×64");
    for k in [1usize, 5, 10, 30] {
        let sk = SecretKey::generate(&mut rng);
        let Ok(ctx) = ElectionContext::new([0u8; 32], sk.public_key(), manifest(k), [0u8; 32], [0u8; 32]) else {
            return;
        };
        let n = 64;
        let plain = |i: usize| PlaintextBallot {
            style: "s".into(),
            contests: vec![PlaintextContest {
                contest_id: "c".into(),
                selections: (0..k).map(|j| u8::from(j == i % k)).collect(),
            }],
        };
        let creds: Vec<Credential> = (0..n).filter_map(|_| Credential::generate(&mut rng).ok()).collect();
        let t = Instant::now();
        let ballots: Vec<_> = creds
            .iter()
            .enumerate()
            .filter_map(|(i, c)| encrypt_ballot(&ctx, c.signing_key(), &plain(i), &mut rng).ok().map(|(b, _)| b))
            .collect();
        let enc = t.elapsed();
        let t = Instant::now();
        let ok1 = ballots.iter().filter(|b| verify_ballot(&ctx, (*b).clone(), &mut rng).is_ok()).count();
        let one = t.elapsed();
        let t = Instant::now();
        let okb = verify_ballots(&ctx, ballots.clone(), &mut rng).iter().filter(|r| r.is_ok()).count();
        let batch = t.elapsed();
        assert_eq!((ok1, okb), (n, n), "benchmark ballots must verify");
        println!("{k:>4} | {} | {} | {}", per(enc, n), per(one, n), per(batch, n));
    }

    // Tally of 100,000 verified ballots (k = 5): 1,000 distinct ballots added 100 times each.
    let sk = SecretKey::generate(&mut rng);
    let Ok(ctx) = ElectionContext::new([0u8; 32], sk.public_key(), manifest(5), [0u8; 32], [0u8; 32]) else { return };
    let ballots: Vec<_> = (0..1000)
        .filter_map(|i| {
            let c = Credential::generate(&mut rng).ok()?;
            let p = PlaintextBallot {
                style: "s".into(),
                contests: vec![PlaintextContest {
                    contest_id: "c".into(),
                    selections: (0..5).map(|j| u8::from(j == i % 5)).collect(),
                }],
            };
            encrypt_ballot(&ctx, c.signing_key(), &p, &mut rng).ok().map(|(b, _)| b)
        })
        .collect();
    let verified: Vec<_> = verify_ballots(&ctx, ballots, &mut rng).into_iter().filter_map(Result::ok).collect();
    let mut tally = EncryptedTally::new(&ctx);
    let t = Instant::now();
    for _ in 0..100 {
        for v in &verified {
            let _ = tally.add(v);
        }
    }
    let totals = tally.totals();
    println!(
        "tally of {} verified ballots (k = 5): {:.3} s (incl. final compression: {})",
        verified.len() * 100,
        t.elapsed().as_secs_f64(),
        totals.is_ok()
    );

    // Threshold decryption, 3 of 5.
    use dobush_crypto::dlog::DlogTable;
    use dobush_crypto::testing::run_ceremony_for_campaign;
    use dobush_crypto::threshold::decrypt::{ShareKeys, TotalId, verify_and_combine};
    let t = Instant::now();
    let Ok(cer) = run_ceremony_for_campaign(&mut rng, "bench", 5, 3) else { return };
    println!("key ceremony, 5 key-holders, t = 3 (all rounds, in process): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let Ok(ctx) = ElectionContext::new(cer.base_context, cer.joint_key, manifest(5), [0u8; 32], [0u8; 32]) else {
        return;
    };
    // The start value of a tally, Enc(0; 1): any valid ciphertext serves.
    let Ok(totals) = EncryptedTally::new(&ctx).totals() else { return };
    let Some(ct) = totals.first().and_then(|c| c.totals.first()).copied() else { return };
    let id = TotalId { contest: 0, option: 0 };
    let ext = *ctx.extended_hash();
    let n = 200;
    let t = Instant::now();
    let mut shares = Vec::new();
    for _ in 0..n {
        shares = cer
            .shares
            .iter()
            .zip(&cer.keys)
            .take(3)
            .filter_map(|(s, k)| s.partial_decrypt(&ext, id, &ct, k.signing_key(), &mut rng).ok())
            .collect();
    }
    println!(
        "signed partial decryption with proof: {:.3} ms per share",
        t.elapsed().as_secs_f64() * 1e3 / (3 * n) as f64
    );
    let table = DlogTable::new(100_000);
    let Ok(keys) = ShareKeys::new(&cer.outcome.verification_keys, &cer.publics) else { return };
    let t = Instant::now();
    for _ in 0..n {
        let _ = verify_and_combine(&cer.params, &ext, &keys, id, &ct, &shares, &table);
    }
    println!(
        "verify 3 shares + combine + discrete log (≤ 100,000): {:.3} ms per total",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}
