//! Benchmarks of the shuffle and of the operations the filter of issue 19 is built from. They
//! print figures and assert nothing about time: `cargo bench -p dobush-crypto --bench shuffle`.
//! `SHUFFLE_BENCH_LARGE=1` adds N = 100,000 (several minutes); `SHUFFLE_BENCH_PART=shuffle` or
//! `=micro` runs one half. Figures are in docs/protocol/12-shuffle.md §Cost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{
    CompressedRistretto, RistrettoBasepointTable, RistrettoPoint, VartimeRistrettoPrecomputation,
};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{MultiscalarMul, VartimeMultiscalarMul, VartimePrecomputedMultiscalarMul};
use dobush_crypto::elgamal::{Ciphertext, KeyTable, PublicKey, RawCiphertext, SecretKey};
use dobush_crypto::group::{generator_g, generator_h, hash_to_group, mul_base, random_scalar};
use dobush_crypto::proofs::DirectCheck;
use dobush_crypto::proofs::dleq::DleqProof;
use dobush_crypto::shuffle::{Rows, ShuffleStatement, prove_shuffle, shuffle_rows, verify_shuffle};
use merlin::Transcript;
use rand::SeedableRng;
use rand::rngs::OsRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

const CTX: [u8; 32] = [0x42; 32];
const PURPOSE: &str = "bench/shuffle";
const WIDTHS: [usize; 3] = [1, 9, 24];

fn us(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

/// `n` rows of the widest width, each ciphertext a distinct encryption (made on every core).
fn input_rows(key: &KeyTable, n: usize, w: usize) -> Vec<Ciphertext> {
    (0..n * w)
        .into_par_iter()
        .map(|i| {
            let mut rng = ChaCha20Rng::seed_from_u64(i as u64);
            let r = random_scalar(&mut rng);
            RawCiphertext { alpha: mul_base(&r), beta: mul_base(&Scalar::from(i as u64 % 7)) + key.mul(&r) }
                .validate()
                .unwrap()
        })
        .collect()
}

/// The first `w` columns of rows of width `full`.
fn narrow(all: &[Ciphertext], full: usize, w: usize) -> Rows {
    Rows::new(w, all.chunks_exact(full).flat_map(|r| r[..w].iter().copied()).collect()).unwrap()
}

struct Figures {
    shuffle: Duration,
    prove: Duration,
    verify: Duration,
    proof_bytes: usize,
    json_bytes: usize,
}

fn run(pk: &PublicKey, input: &Rows) -> Figures {
    let mut rng = OsRng;
    // Every column under K: the columns under H of the filter cost the same.
    let keys = vec![*pk; input.width()];
    let t = Instant::now();
    let (output, secret) = shuffle_rows(&mut rng, &keys, input).unwrap();
    let shuffle = t.elapsed();
    let stmt = ShuffleStatement { context: &CTX, purpose: PURPOSE, keys: &keys, input, output: &output };
    let t = Instant::now();
    let proof = prove_shuffle(&mut rng, &stmt, &secret).unwrap();
    let prove = t.elapsed();
    let t = Instant::now();
    verify_shuffle(&mut rng, &stmt, &proof).unwrap();
    let verify = t.elapsed();
    let json_bytes = serde_json::to_vec(&proof).unwrap().len();
    Figures { shuffle, prove, verify, proof_bytes: proof.size_in_bytes(), json_bytes }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

fn shuffles() {
    let mut rng = OsRng;
    let pk = SecretKey::generate(&mut rng).public_key();
    let key = KeyTable::new(pk);
    let mut sizes = vec![1_000usize, 10_000];
    if std::env::var_os("SHUFFLE_BENCH_LARGE").is_some() {
        sizes.push(100_000);
    }
    let threads = rayon::current_num_threads();
    println!("shuffle of N rows of w ciphertexts ({threads} threads; µs per row; proof size per row)");
    println!(
        "{:>7} {:>3} | {:>10} {:>10} {:>12} | {:>10} | {:>9} {:>9}",
        "N", "w", "shuffle", "prove", "shuffle+prove", "verify", "proof B", "JSON B"
    );
    let widest = WIDTHS[WIDTHS.len() - 1];
    for &n in &sizes {
        let all = input_rows(&key, n, widest);
        for w in WIDTHS {
            let input = narrow(&all, widest, w);
            let f = run(&pk, &input);
            println!(
                "{n:>7} {w:>3} | {:>10.1} {:>10.1} {:>12.1} | {:>10.1} | {:>9.0} {:>9.0}",
                us(f.shuffle, n),
                us(f.prove, n),
                us(f.shuffle + f.prove, n),
                us(f.verify, n),
                f.proof_bytes as f64 / n as f64,
                f.json_bytes as f64 / n as f64,
            );
        }
    }
    // With and without the second core, at N = 10,000.
    let n = 10_000;
    let all = input_rows(&key, n, widest);
    println!("\nN = {n}: 1 thread against 2 (µs per row)");
    println!(
        "{:>3} | {:>10} {:>10} | {:>10} {:>10} | {:>8} {:>8}",
        "w", "prove 1", "prove 2", "verify 1", "verify 2", "× prove", "× verify"
    );
    for w in WIDTHS {
        let input = narrow(&all, widest, w);
        let one = pool(1).install(|| run(&pk, &input));
        let two = pool(2).install(|| run(&pk, &input));
        let (p1, p2) = (us(one.shuffle + one.prove, n), us(two.shuffle + two.prove, n));
        let (v1, v2) = (us(one.verify, n), us(two.verify, n));
        println!("{w:>3} | {p1:>10.1} {p2:>10.1} | {v1:>10.1} {v2:>10.1} | {:>8.2} {:>8.2}", p1 / p2, v1 / v2);
    }
    println!(
        "\nmemory: a decoded Ciphertext is {} bytes (two points with their encodings), 64 bytes compressed",
        std::mem::size_of::<Ciphertext>()
    );
}

/// Time per call of `f` over `reps` calls, the best of three rounds (the VM is shared).
fn per_call(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                f();
            }
            us(t.elapsed(), reps)
        })
        .fold(f64::INFINITY, f64::min)
}

fn micro() {
    let mut rng = OsRng;
    let pool1 = pool(1);
    println!("\noperations the filter is built from (one thread, µs per operation)");
    let s = random_scalar(&mut rng);
    let p = hash_to_group(b"bench point");
    let k = SecretKey::generate(&mut rng).public_key();
    let k_table = RistrettoBasepointTable::create(k.point());
    let k_pre = VartimeRistrettoPrecomputation::new([*k.point()]);
    let line = |what: &str, x: f64| println!("  {what:<58} {x:>10.2}");
    line(
        "variable-base scalar multiplication s·P",
        per_call(2000, || {
            black_box(black_box(s) * black_box(p));
        }),
    );
    line(
        "fixed-base s·G, basepoint table (constant time)",
        per_call(5000, || {
            black_box(&s * RISTRETTO_BASEPOINT_TABLE);
        }),
    );
    line(
        "fixed-base s·K, table of K (constant time)",
        per_call(5000, || {
            black_box(&s * &k_table);
        }),
    );
    line(
        "fixed-base s·K, VartimeRistrettoPrecomputation of K",
        per_call(2000, || {
            black_box(k_pre.vartime_multiscalar_mul([s]));
        }),
    );
    line(
        "hash to group (SHA-512 + one-way map), per point",
        per_call(5000, || {
            black_box(hash_to_group(black_box(b"dobush/v1/shuffle/generator....")));
        }),
    );
    let enc = p.compress();
    line(
        "compress a point",
        per_call(5000, || {
            black_box(black_box(p).compress());
        }),
    );
    line(
        "decompress a point (decode)",
        per_call(5000, || {
            black_box(CompressedRistretto(black_box(enc.to_bytes())).decompress());
        }),
    );

    println!("\nmultiscalar multiplication, µs per point (one thread)");
    for n in [1_000usize, 65_536, 1_048_576] {
        let scalars: Vec<Scalar> = (0..n).map(|_| random_scalar(&mut rng)).collect();
        let points: Vec<RistrettoPoint> =
            (0..n as u64).into_par_iter().map(|i| mul_base(&Scalar::from(i + 1)) + p).collect();
        let vt = pool1.install(|| {
            per_call(1, || {
                black_box(RistrettoPoint::vartime_multiscalar_mul(&scalars, &points));
            }) / n as f64
        });
        // Constant time (Straus), in slices of 256 as the prover does; 1M is skipped (15 s).
        let ct = if n <= 65_536 {
            let t = Instant::now();
            let sum: RistrettoPoint =
                scalars.chunks(256).zip(points.chunks(256)).map(|(s, p)| RistrettoPoint::multiscalar_mul(s, p)).sum();
            black_box(sum);
            format!("{:>8.2}", us(t.elapsed(), n))
        } else {
            format!("{:>8}", "—")
        };
        println!("  {n:>9} points: variable time (Pippenger) {vt:>8.2}   constant time (Straus) {ct}");
    }

    println!("\nChaum–Pedersen (DLEQ) proof, one thread");
    let x = random_scalar(&mut rng);
    let base = hash_to_group(b"dleq base");
    let (xg, y) = (mul_base(&x), x * base);
    let stmt = || {
        let mut t = Transcript::new(b"bench");
        t.append_message(b"X", xg.compress().as_bytes());
        t.append_message(b"P", base.compress().as_bytes());
        t.append_message(b"Y", y.compress().as_bytes());
        t
    };
    let proof = DleqProof::prove(&mut stmt(), &base, &x, &mut rng).unwrap();
    line(
        "prove",
        per_call(2000, || {
            black_box(DleqProof::prove(&mut stmt(), &base, &x, &mut OsRng).unwrap());
        }),
    );
    line(
        "verify, alone",
        per_call(2000, || proof.verify(&mut stmt(), &xg, &base, &y, &mut DirectCheck::default()).unwrap()),
    );
    let batched = per_call(1, || {
        let mut weights = OsRng;
        let mut batch = dobush_crypto::proofs::BatchVerifier::new(&mut weights);
        for _ in 0..1000 {
            proof.verify(&mut stmt(), &xg, &base, &y, &mut batch).unwrap();
        }
        batch.finish().unwrap();
    });
    line("verify, in a batch of 1,000 (per proof)", batched / 1000.0);

    println!("\nbulletproofs range proofs of 32-bit values, aggregated (one thread, µs per value)");
    let pc = PedersenGens { B: generator_g(), B_blinding: generator_h() };
    let bp = BulletproofGens::new(32, 64);
    for m in [1usize, 8, 64] {
        let values: Vec<u64> = (0..m as u64).map(|i| i * 77_777 + 5).collect();
        let blindings: Vec<Scalar> = (0..m).map(|_| random_scalar(&mut rng)).collect();
        let reps = (64 / m).max(2);
        let mut made = None;
        let prove = pool1.install(|| {
            per_call(reps, || {
                let mut t = Transcript::new(b"bench range");
                made = Some(
                    RangeProof::prove_multiple_with_rng(&bp, &pc, &mut t, &values, &blindings, 32, &mut OsRng).unwrap(),
                );
            })
        });
        let (proof, commitments) = made.unwrap();
        let verify = pool1.install(|| {
            per_call(reps, || {
                let mut t = Transcript::new(b"bench range");
                proof.verify_multiple_with_rng(&bp, &pc, &mut t, &commitments, 32, &mut OsRng).unwrap();
            })
        });
        println!(
            "  m = {m:>2}: prove {:>9.1}   verify {:>9.1}   ({} bytes for all {m})",
            prove / m as f64,
            verify / m as f64,
            proof.to_bytes().len()
        );
    }
}

fn main() {
    let part = std::env::var("SHUFFLE_BENCH_PART").unwrap_or_default();
    if part != "micro" {
        shuffles();
    }
    if part != "shuffle" {
        micro();
    }
}
