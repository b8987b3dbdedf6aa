//! Tests of the shuffle (`docs/protocol/12-shuffle.md`): honest proofs verify; every altered
//! proof or statement is refused; and for each verification equation a forging prover that
//! satisfies every other equation is caught by that equation alone (§Verifier, the table of
//! forgeries), so each test would pass if its equation were not checked.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zeroize::Zeroizing;

use super::generators::Generators;
use super::prover::{Aggregates, Chain, Draws, commitment_sums, permute_challenges, respond};
use super::transcript::ShuffleTranscript;
use super::verifier::Replay;
use super::*;
use crate::elgamal::{KeyTable, RawCiphertext, SecretKey};
use crate::group::{GroupElement, generator_g, generator_h, mul_base, random_scalar};

const CTX: [u8; 32] = [7; 32];
const PURPOSE: &str = "test/shuffle";

/// Input rows with known plaintexts and nonces (`α = a·G`), so that forging provers can
/// compute what they need.
struct Fixture {
    sk: SecretKey,
    pk: PublicKey,
    key: KeyTable,
    /// `[pk; w]`: every column under the one key (the tests of mixed keys make their own).
    keys: Vec<PublicKey>,
    tables: Vec<KeyTable>,
    input: Rows,
    /// `log_G α_{j,k}`, row-major.
    logs: Vec<Scalar>,
    /// Plaintexts `m_{j,k}`, row-major, all distinct and non-zero.
    plain: Vec<Scalar>,
    n: usize,
    w: usize,
}

fn enc(key: &KeyTable, m: &Scalar, a: &Scalar) -> Ciphertext {
    RawCiphertext { alpha: mul_base(a), beta: mul_base(m) + key.mul(a) }.validate().unwrap()
}

fn rows(key: &KeyTable, w: usize, plain: &[Scalar], logs: &[Scalar]) -> Rows {
    Rows::new(w, plain.iter().zip(logs).map(|(m, a)| enc(key, m, a)).collect()).unwrap()
}

fn fixture(rng: &mut ChaCha20Rng, n: usize, w: usize) -> Fixture {
    let sk = SecretKey::generate(rng);
    let pk = sk.public_key();
    let key = KeyTable::new(pk);
    let plain: Vec<Scalar> = (0..n * w).map(|x| Scalar::from(x as u64 + 1)).collect();
    let logs: Vec<Scalar> = (0..n * w).map(|_| random_scalar(rng)).collect();
    let input = rows(&key, w, &plain, &logs);
    let keys = vec![pk; w];
    let tables = vec![key.clone(); w];
    Fixture { sk, pk, key, keys, tables, input, logs, plain, n, w }
}

fn statement<'a>(f: &'a Fixture, output: &'a Rows) -> ShuffleStatement<'a> {
    ShuffleStatement { context: &CTX, purpose: PURPOSE, keys: &f.keys, input: &f.input, output }
}

fn verify(f: &Fixture, output: &Rows, proof: &ShuffleProof) -> Result<(), ShuffleError> {
    verify_shuffle(&mut ChaCha20Rng::seed_from_u64(1), &statement(f, output), proof)
}

/// Every equation that does not hold, checked one by one.
fn failing(f: &Fixture, output: &Rows, proof: &ShuffleProof) -> Vec<ShuffleEquation> {
    let stmt = statement(f, output);
    Replay::new(&stmt, proof).unwrap().failing(&mut ChaCha20Rng::seed_from_u64(2)).unwrap()
}

/// Asserts that exactly `eq` fails, and that the verifier refuses the proof naming it.
fn caught_only_by(f: &Fixture, output: &Rows, proof: &ShuffleProof, eq: ShuffleEquation) {
    assert_eq!(failing(f, output, proof), vec![eq], "every other equation must hold");
    assert_eq!(verify(f, output, proof), Err(ShuffleError::Equation(eq)));
}

fn honest(rng: &mut ChaCha20Rng, f: &Fixture) -> (Rows, ShuffleSecret, ShuffleProof) {
    let (output, secret) = shuffle_rows(rng, &f.keys, &f.input).unwrap();
    let proof = prove_shuffle(rng, &statement(f, &output), &secret).unwrap();
    (output, secret, proof)
}

/// A prover that commits to an arbitrary matrix `B` and knows the log of every `α`, so that
/// SH-4 always holds and SH-5 holds exactly when `Σ u'_i·m'_{i,k} = Σ u_j·m_{j,k}`.
struct Forgery {
    /// Row `j` of `B`: `(i, B_{j,i})`.
    matrix: Vec<Vec<(usize, Scalar)>>,
    output_plain: Vec<Scalar>,
    output_logs: Vec<Scalar>,
    /// Answer with `u'_i = u_{σ⁻¹(i)}` for this σ instead of `u' = Bᵀu`.
    answer_with: Option<Vec<usize>>,
    /// Replace the chain's last element by `R·G + (Π u)·ĥ` with a fresh `R`, so that SH-2 holds.
    forge_chain_end: bool,
}

impl Forgery {
    fn permutation(p: &[usize]) -> Vec<Vec<(usize, Scalar)>> {
        p.iter().map(|&i| vec![(i, Scalar::ONE)]).collect()
    }

    /// Commits to the permutation `pi` and answers for it, with these outputs.
    fn committing_to(pi: &[usize], (output_plain, output_logs): (Vec<Scalar>, Vec<Scalar>)) -> Self {
        Self { matrix: Self::permutation(pi), output_plain, output_logs, answer_with: None, forge_chain_end: false }
    }

    fn output(&self, f: &Fixture) -> Rows {
        rows(&f.key, f.w, &self.output_plain, &self.output_logs)
    }

    fn prove(&self, rng: &mut ChaCha20Rng, f: &Fixture) -> (Rows, ShuffleProof) {
        let output = self.output(f);
        let stmt = statement(f, &output);
        let (n, w) = (f.n, f.w);
        let gens = Generators::derive(&CTX, PURPOSE, n);
        let h_hat = gens.h_hat_table();
        let draws = Draws::draw(rng, n, w);
        let p: Vec<GroupElement> = self
            .matrix
            .iter()
            .zip(&draws.r)
            .map(|(row, r)| {
                let committed: RistrettoPoint = row.iter().map(|(i, b)| b * gens.h[*i]).sum();
                GroupElement::from_point(mul_base(r) + committed).unwrap()
            })
            .collect();
        let mut t = ShuffleTranscript::new(&stmt);
        let u = t.permutation_commitments(&p);
        let u_prime: Vec<Scalar> = match &self.answer_with {
            Some(sigma) => permute_challenges(sigma, &u).unwrap().to_vec(),
            None => {
                let mut v = vec![Scalar::ZERO; n];
                for (row, uj) in self.matrix.iter().zip(&u) {
                    for (i, b) in row {
                        v[*i] += b * uj;
                    }
                }
                v
            }
        };
        let mut chain = Chain::commit(&h_hat, &u_prime, &draws.r_hat).unwrap();
        let mut r_hat = chain.r_hat;
        if self.forge_chain_end {
            r_hat = random_scalar(rng);
            let prod: Scalar = u.iter().product();
            *chain.points.last_mut().unwrap() = GroupElement::from_point(mul_base(&r_hat) + prod * gens.h_hat).unwrap();
        }
        t.chain(&chain.points);
        let (r_bar, r_tilde) = commitment_sums(&draws.r, &u);
        let rho = (0..w)
            .map(|k| {
                let out: Scalar = (0..n).map(|i| u_prime[i] * self.output_logs[i * w + k]).sum();
                let inp: Scalar = (0..n).map(|j| u[j] * f.logs[j * w + k]).sum();
                out - inp
            })
            .collect();
        let agg = Aggregates { r_bar, r_tilde, r_hat, rho: Zeroizing::new(rho) };
        let proof = respond(&mut t, &stmt, &gens, &f.tables, &h_hat, &draws, &u_prime, &chain, &agg, p).unwrap();
        (output, proof)
    }
}

/// Honest re-encryption of input row `j` as plaintexts and logs: `(m_j, a_j + ρ)`.
fn reencrypted(rng: &mut ChaCha20Rng, f: &Fixture, j: usize) -> (Vec<Scalar>, Vec<Scalar>) {
    let w = f.w;
    let m = f.plain[j * w..(j + 1) * w].to_vec();
    let a = f.logs[j * w..(j + 1) * w].iter().map(|a| a + random_scalar(rng)).collect();
    (m, a)
}

/// Outputs of a permutation `π` (input `j` → output `π(j)`), honestly re-encrypted.
fn permuted(rng: &mut ChaCha20Rng, f: &Fixture, pi: &[usize]) -> (Vec<Scalar>, Vec<Scalar>) {
    let (mut m, mut a) = (vec![Scalar::ZERO; f.n * f.w], vec![Scalar::ZERO; f.n * f.w]);
    for (j, &i) in pi.iter().enumerate() {
        let (mj, aj) = reencrypted(rng, f, j);
        m[i * f.w..(i + 1) * f.w].copy_from_slice(&mj);
        a[i * f.w..(i + 1) * f.w].copy_from_slice(&aj);
    }
    (m, a)
}

fn decrypt(f: &Fixture, ct: &Ciphertext) -> RistrettoPoint {
    f.sk.decrypt_to_point(ct)
}

#[test]
fn honest_shuffles_verify_and_keep_every_row_whole() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    for (n, w) in [(1, 1), (1, 3), (2, 1), (2, 2), (3, 1), (5, 4), (16, 1), (33, 2)] {
        let f = fixture(&mut rng, n, w);
        let (output, secret, proof) = honest(&mut rng, &f);
        assert_eq!(verify(&f, &output, &proof), Ok(()), "N = {n}, w = {w}");
        assert!(failing(&f, &output, &proof).is_empty());
        assert_eq!(proof.size_in_bytes(), 32 * (5 * n + 6 + 3 * w));
        for (j, &i) in secret.permutation().iter().enumerate() {
            for k in 0..w {
                let (a, b) = (&f.input.row(j).unwrap()[k], &output.row(i).unwrap()[k]);
                assert_ne!(a, b, "every ciphertext is re-encrypted");
                assert_eq!(decrypt(&f, a), decrypt(&f, b), "output row π(j) holds input row j");
            }
        }
    }
}

#[test]
fn shuffling_and_proving_are_reproducible_from_the_rng() {
    let f = fixture(&mut ChaCha20Rng::seed_from_u64(11), 6, 2);
    let run = || {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        honest(&mut rng, &f)
    };
    let ((o1, s1, p1), (o2, s2, p2)) = (run(), run());
    assert_eq!((o1, p1), (o2, p2));
    assert_eq!(s1.permutation(), s2.permutation());
}

#[test]
fn a_proof_survives_json_and_has_exactly_the_specified_fields() {
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let f = fixture(&mut rng, 3, 2);
    let (output, _, proof) = honest(&mut rng, &f);
    let json = serde_json::to_value(&proof).unwrap();
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "chain",
            "permutation_commitments",
            "s1",
            "s2",
            "s3",
            "s4",
            "s_hat",
            "s_prime",
            "t1",
            "t2",
            "t3",
            "t4",
            "t_hat"
        ]
    );
    let back: ShuffleProof = serde_json::from_value(json).unwrap();
    assert_eq!(back, proof);
    let rows_json = serde_json::to_value(&output).unwrap();
    assert_eq!(rows_json.as_array().unwrap().len(), 3);
    assert_eq!(serde_json::from_value::<Rows>(rows_json).unwrap(), output);
}

#[test]
fn altering_any_commitment_or_response_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    let f = fixture(&mut rng, 4, 2);
    let (output, _, proof) = honest(&mut rng, &f);
    let bump = |p: &mut GroupElement| *p = GroupElement::from_point(p.point() + generator_g()).unwrap();
    let mut altered: Vec<(String, ShuffleProof)> = Vec::new();
    let mut alter = |what: String, change: &dyn Fn(&mut ShuffleProof)| {
        let mut p = proof.clone();
        change(&mut p);
        altered.push((what, p));
    };
    for i in 0..4 {
        alter(format!("P_{i}"), &|p| bump(&mut p.permutation_commitments[i]));
        alter(format!("Ĉ_{i}"), &|p| bump(&mut p.chain[i]));
        alter(format!("T̂_{i}"), &|p| bump(&mut p.t_hat[i]));
        alter(format!("ŝ_{i}"), &|p| p.s_hat[i] += Scalar::ONE);
        alter(format!("s'_{i}"), &|p| p.s_prime[i] += Scalar::ONE);
    }
    for k in 0..2 {
        alter(format!("T₄α_{k}"), &|p| bump(&mut p.t4[k].alpha));
        alter(format!("T₄β_{k}"), &|p| bump(&mut p.t4[k].beta));
        alter(format!("s₄_{k}"), &|p| p.s4[k] += Scalar::ONE);
    }
    alter("T₁".into(), &|p| bump(&mut p.t1));
    alter("T₂".into(), &|p| bump(&mut p.t2));
    alter("T₃".into(), &|p| bump(&mut p.t3));
    alter("s₁".into(), &|p| p.s1 += Scalar::ONE);
    alter("s₂".into(), &|p| p.s2 += Scalar::ONE);
    alter("s₃".into(), &|p| p.s3 += Scalar::ONE);
    alter("P swapped".into(), &|p| p.permutation_commitments.swap(0, 1));
    alter("s' swapped".into(), &|p| p.s_prime.swap(0, 1));
    assert_eq!(altered.len(), 5 * 4 + 3 * 2 + 8);
    for (what, p) in altered {
        assert!(matches!(verify(&f, &output, &p), Err(ShuffleError::Equation(_))), "{what} altered must be refused");
    }
    // A response changed alone (the transcript is the same) is caught by its own equation.
    let mut p = proof.clone();
    p.s_hat[2] += Scalar::ONE;
    caught_only_by(&f, &output, &p, ShuffleEquation::Sh6 { row: 2 });
    let mut p = proof.clone();
    p.s1 += Scalar::ONE;
    caught_only_by(&f, &output, &p, ShuffleEquation::Sh1);
    let mut p = proof;
    p.s4[1] += Scalar::ONE;
    assert_eq!(failing(&f, &output, &p), vec![ShuffleEquation::Sh4 { column: 1 }, ShuffleEquation::Sh5 { column: 1 }]);
}

#[test]
fn altering_the_statement_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(15);
    let f = fixture(&mut rng, 4, 3);
    let (output, secret, proof) = honest(&mut rng, &f);
    let with = |change: &dyn Fn(&mut Vec<Vec<Ciphertext>>)| {
        let mut v = output.to_vecs();
        change(&mut v);
        Rows::from_rows(v).unwrap()
    };
    let bump = |p: &mut GroupElement| *p = GroupElement::from_point(p.point() + generator_g()).unwrap();
    // Each output ciphertext, each component.
    for i in 0..4 {
        for k in 0..3 {
            let o = with(&|v| bump(&mut v[i][k].alpha));
            assert!(verify(&f, &o, &proof).is_err(), "α'_{{{i},{k}}}");
            let o = with(&|v| bump(&mut v[i][k].beta));
            assert!(verify(&f, &o, &proof).is_err(), "β'_{{{i},{k}}}");
        }
    }
    assert!(verify(&f, &with(&|v| v.swap(0, 3)), &proof).is_err(), "two output rows swapped");
    assert!(verify(&f, &with(&|v| v[1].swap(0, 2)), &proof).is_err(), "two ciphertexts of a row swapped");
    assert!(verify(&f, &with(&|v| v[2] = v[1].clone()), &proof).is_err(), "a row duplicated over another");
    assert_eq!(
        verify(&f, &with(&|v| v.truncate(3)), &proof),
        Err(ShuffleError::Shape("the output must have as many rows as the input"))
    );
    // A row replaced by a re-encryption of another output row.
    let other = with(&|v| {
        v[0] = v[1]
            .iter()
            .map(|ct| (ct.raw() + RawCiphertext { alpha: generator_g(), beta: *f.pk.point() }).validate().unwrap())
            .collect()
    });
    assert!(verify(&f, &other, &proof).is_err(), "a row replaced by a re-encryption of another");
    // The proof is bound to the context, the purpose, the key and the input.
    let stmt = statement(&f, &output);
    let mut r = ChaCha20Rng::seed_from_u64(3);
    let ctx2 = [8u8; 32];
    assert!(verify_shuffle(&mut r, &ShuffleStatement { context: &ctx2, ..stmt }, &proof).is_err());
    assert!(verify_shuffle(&mut r, &ShuffleStatement { purpose: "test/other", ..stmt }, &proof).is_err());
    let pk2 = SecretKey::generate(&mut rng).public_key();
    for k in 0..3 {
        let mut keys = f.keys.clone();
        keys[k] = pk2;
        assert!(verify_shuffle(&mut r, &ShuffleStatement { keys: &keys, ..stmt }, &proof).is_err(), "key {k}");
    }
    assert_eq!(
        verify_shuffle(&mut r, &ShuffleStatement { keys: &f.keys[..2], ..stmt }, &proof),
        Err(ShuffleError::Shape("there must be one key per column"))
    );
    let mut inp = f.input.to_vecs();
    inp.swap(0, 1);
    let inp = Rows::from_rows(inp).unwrap();
    assert!(verify_shuffle(&mut r, &ShuffleStatement { input: &inp, ..stmt }, &proof).is_err());
    // The secret of one shuffle does not prove another shuffle of the same rows.
    let (output2, _) = shuffle_rows(&mut rng, &f.keys, &f.input).unwrap();
    let wrong = prove_shuffle(&mut rng, &statement(&f, &output2), &secret).unwrap();
    assert!(verify(&f, &output2, &wrong).is_err());
}

/// SH-1: two outputs multiplied by λ⁻¹ and λ, committed as a matrix with entries λ and λ⁻¹.
/// Π u' is unchanged, so only the column sums show the forgery, which changes plaintexts.
#[test]
fn sh1_catches_scaled_rows() {
    let mut rng = ChaCha20Rng::seed_from_u64(20);
    let f = fixture(&mut rng, 4, 2);
    let pi = [2usize, 0, 3, 1];
    let lambda = Scalar::from(3u64);
    let (mut m, mut a) = permuted(&mut rng, &f, &pi);
    let mut matrix = Forgery::permutation(&pi);
    for (j, coeff) in [(0usize, lambda), (1, lambda.invert())] {
        matrix[j] = vec![(pi[j], coeff)];
        let i = pi[j];
        for x in m[i * 2..i * 2 + 2].iter_mut().chain(a[i * 2..i * 2 + 2].iter_mut()) {
            *x *= coeff.invert();
        }
    }
    let forgery = Forgery { matrix, ..Forgery::committing_to(&pi, (m, a)) };
    let (output, proof) = forgery.prove(&mut rng, &f);
    let row = output.row(pi[0]).unwrap();
    assert_ne!(decrypt(&f, &row[0]), decrypt(&f, &f.input.row(0).unwrap()[0]), "the forgery changes a plaintext");
    caught_only_by(&f, &output, &proof, ShuffleEquation::Sh1);
}

/// SH-2: inputs 0 and 1 encrypt the same row; the matrix spreads each ½–½ over their two
/// outputs (doubly stochastic, not a permutation), which then hold twice the row and zero.
#[test]
fn sh2_catches_a_doubly_stochastic_matrix() {
    let (f, output, proof, doubled) = doubled_row(21, false);
    let two_g = decrypt(&f, &f.input.row(0).unwrap()[0]) * Scalar::from(2u64);
    assert_eq!(decrypt(&f, &output.row(doubled).unwrap()[0]), two_g, "one output holds the row twice");
    caught_only_by(&f, &output, &proof, ShuffleEquation::Sh2);
}

/// The doubly stochastic forgery of SH-2 (and SH-6): inputs 0 and 1 encrypt the same row, the
/// matrix is π but with inputs 0 and 1 spread ½–½ over outputs π(0) and π(1), which hold
/// 2·m₀ and 0. Returns the fixture, the output, the proof and π(0).
fn doubled_row(seed: u64, forge_chain_end: bool) -> (Fixture, Rows, ShuffleProof, usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut f = fixture(&mut rng, 4, 2);
    let w = f.w;
    f.plain.copy_within(0..w, w);
    f.input = rows(&f.key, w, &f.plain, &f.logs);
    let pi = [1usize, 3, 0, 2];
    let (mut m, a) = permuted(&mut rng, &f, &pi);
    let half = Scalar::from(2u64).invert();
    let mut matrix = Forgery::permutation(&pi);
    matrix[0] = vec![(pi[0], half), (pi[1], half)];
    matrix[1] = vec![(pi[0], half), (pi[1], half)];
    for k in 0..w {
        m[pi[0] * w + k] = f.plain[k] + f.plain[k];
        m[pi[1] * w + k] = Scalar::ZERO;
    }
    let forgery = Forgery { matrix, forge_chain_end, ..Forgery::committing_to(&pi, (m, a)) };
    let (output, proof) = forgery.prove(&mut rng, &f);
    (f, output, proof, pi[0])
}

/// SH-3: commit to one permutation, shuffle with and answer for another.
#[test]
fn sh3_catches_an_answer_for_another_permutation() {
    let mut rng = ChaCha20Rng::seed_from_u64(22);
    let f = fixture(&mut rng, 5, 2);
    let (pi, sigma) = ([0usize, 1, 2, 3, 4], vec![4usize, 2, 0, 1, 3]);
    let outputs = permuted(&mut rng, &f, &sigma);
    let forgery = Forgery { answer_with: Some(sigma), ..Forgery::committing_to(&pi, outputs) };
    let (output, proof) = forgery.prove(&mut rng, &f);
    caught_only_by(&f, &output, &proof, ShuffleEquation::Sh3);
}

/// SH-4 and SH-5: one output component changed, proved with the honest secret.
#[test]
fn sh4_and_sh5_catch_a_changed_component() {
    let mut rng = ChaCha20Rng::seed_from_u64(23);
    let f = fixture(&mut rng, 4, 3);
    let (output, secret) = shuffle_rows(&mut rng, &f.keys, &f.input).unwrap();
    for (beta, eq) in [(false, ShuffleEquation::Sh4 { column: 2 }), (true, ShuffleEquation::Sh5 { column: 2 })] {
        let mut v = output.to_vecs();
        let ct = &mut v[1][2];
        let target = if beta { &mut ct.beta } else { &mut ct.alpha };
        *target = GroupElement::from_point(target.point() + generator_g()).unwrap();
        let changed = Rows::from_rows(v).unwrap();
        let proof = prove_shuffle(&mut rng, &statement(&f, &changed), &secret).unwrap();
        caught_only_by(&f, &changed, &proof, eq);
    }
}

/// SH-5: column 1 permuted differently from column 0, by a prover that knows every nonce (so
/// SH-4 holds): only the plaintexts show that rows were torn apart.
#[test]
fn sh5_catches_a_column_permuted_on_its_own() {
    let mut rng = ChaCha20Rng::seed_from_u64(24);
    let f = fixture(&mut rng, 4, 2);
    let (pi, sigma) = ([3usize, 0, 1, 2], [0usize, 3, 1, 2]);
    let (mut m, mut a) = permuted(&mut rng, &f, &pi);
    let (m2, a2) = permuted(&mut rng, &f, &sigma);
    for i in 0..4 {
        m[i * 2 + 1] = m2[i * 2 + 1];
        a[i * 2 + 1] = a2[i * 2 + 1];
    }
    let (output, proof) = Forgery::committing_to(&pi, (m, a)).prove(&mut rng, &f);
    caught_only_by(&f, &output, &proof, ShuffleEquation::Sh5 { column: 1 });
    // The honest prover with the secret of column 0's permutation fails on column 1 as well.
    let nonces: Vec<Scalar> = (0..8).map(|_| random_scalar(&mut rng)).collect();
    let secret = ShuffleSecret::from_parts(pi.to_vec(), nonces).unwrap();
    assert!(verify(&f, &output, &prove_shuffle(&mut rng, &statement(&f, &output), &secret).unwrap()).is_err());
}

/// SH-6: the SH-2 forgery with the chain's last element made to satisfy SH-2.
#[test]
fn sh6_catches_a_chain_that_skips_a_step() {
    let (f, output, proof, _) = doubled_row(25, true);
    caught_only_by(&f, &output, &proof, ShuffleEquation::Sh6 { row: 3 });
}

#[test]
fn the_forging_prover_is_honest_when_it_does_not_cheat() {
    // So that the tests above fail because of their cheat, not because of the forger.
    let mut rng = ChaCha20Rng::seed_from_u64(26);
    let f = fixture(&mut rng, 5, 3);
    let pi = vec![2usize, 4, 1, 0, 3];
    let outputs = permuted(&mut rng, &f, &pi);
    let forgery = Forgery { answer_with: Some(pi.clone()), ..Forgery::committing_to(&pi, outputs) };
    let (output, proof) = forgery.prove(&mut rng, &f);
    assert_eq!(verify(&f, &output, &proof), Ok(()));
}

#[test]
fn shapes_outside_the_statement_are_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(27);
    let f = fixture(&mut rng, 3, 2);
    let (output, secret, proof) = honest(&mut rng, &f);
    let stmt = statement(&f, &output);
    let mut r = ChaCha20Rng::seed_from_u64(4);
    let (long, longest) = ("x".repeat(257), "x".repeat(256));
    for purpose in ["", long.as_str()] {
        let s = ShuffleStatement { purpose, ..stmt };
        assert!(matches!(verify_shuffle(&mut r, &s, &proof), Err(ShuffleError::Shape(_))));
        assert!(matches!(prove_shuffle(&mut r, &s, &secret), Err(ShuffleError::Shape(_))));
    }
    assert!(verify_shuffle(&mut r, &ShuffleStatement { purpose: &longest, ..stmt }, &proof).is_err());
    let short = |change: &dyn Fn(&mut ShuffleProof)| {
        let mut p = proof.clone();
        change(&mut p);
        verify_shuffle(&mut ChaCha20Rng::seed_from_u64(5), &stmt, &p)
    };
    for result in [
        short(&|p| p.chain.truncate(1)),
        short(&|p| p.permutation_commitments.truncate(1)),
        short(&|p| p.t_hat.truncate(1)),
        short(&|p| p.s_hat.truncate(1)),
        short(&|p| p.s_prime.push(Scalar::ONE)),
        short(&|p| p.t4.truncate(1)),
        short(&|p| p.s4.push(Scalar::ONE)),
    ] {
        assert!(matches!(result, Err(ShuffleError::Shape(_))));
    }
    // Narrower output rows, and a secret for other rows.
    let narrow = Rows::new(1, output.ciphertexts()[..3].to_vec()).unwrap();
    assert!(matches!(
        verify_shuffle(&mut r, &ShuffleStatement { output: &narrow, ..stmt }, &proof),
        Err(ShuffleError::Shape(_))
    ));
    let other = ShuffleSecret::from_parts(vec![1, 0], vec![Scalar::ONE; 4]).unwrap();
    assert!(matches!(prove_shuffle(&mut r, &stmt, &other), Err(ShuffleError::Shape(_))));
}

#[test]
fn rows_must_be_whole_and_not_empty() {
    let mut rng = ChaCha20Rng::seed_from_u64(28);
    let f = fixture(&mut rng, 2, 2);
    let cts = f.input.ciphertexts().to_vec();
    assert!(Rows::new(0, cts.clone()).is_err());
    assert!(Rows::new(3, cts.clone()).is_err());
    assert!(Rows::new(2, Vec::new()).is_err());
    assert!(Rows::new(MAX_WIDTH + 1, cts.clone()).is_err());
    assert!(Rows::from_rows(Vec::new()).is_err());
    assert!(Rows::from_rows(vec![cts[..2].to_vec(), cts[..1].to_vec()]).is_err());
    let rows = Rows::new(2, cts).unwrap();
    assert_eq!((rows.len(), rows.width(), rows.row(2)), (2, 2, None));
    assert!(rows.row(usize::MAX).is_none());
    let uneven = serde_json::json!([[f.input.row(0).unwrap()[0]], []]);
    assert!(serde_json::from_value::<Rows>(uneven).is_err());
    assert!(serde_json::from_value::<Rows>(serde_json::json!([])).is_err());
}

#[test]
fn decoding_a_proof_is_strict() {
    let mut rng = ChaCha20Rng::seed_from_u64(29);
    let f = fixture(&mut rng, 2, 1);
    let (_, _, proof) = honest(&mut rng, &f);
    let json = serde_json::to_value(&proof).unwrap();
    let decode = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut v = json.clone();
        change(&mut v);
        serde_json::from_value::<ShuffleProof>(v)
    };
    assert!(decode(&|_| ()).is_ok());
    let identity = "00".repeat(32);
    // ℓ itself: not a canonical scalar (rule E2).
    let ell = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
    let upper = json["t1"].as_str().unwrap().to_uppercase();
    assert!(decode(&|v| v["t1"] = identity.clone().into()).is_err(), "identity commitment");
    assert!(decode(&|v| v["chain"][1] = identity.clone().into()).is_err(), "identity in the chain");
    assert!(decode(&|v| v["t4"][0]["beta"] = identity.clone().into()).is_err(), "identity in T₄");
    assert!(decode(&|v| v["t1"] = ("ff".repeat(32)).into()).is_err(), "not a point");
    assert!(decode(&|v| v["s1"] = ell.into()).is_err(), "s₁ = ℓ");
    assert!(decode(&|v| v["s_prime"][0] = ell.into()).is_err(), "s'_0 = ℓ");
    assert!(decode(&|v| v["t1"] = upper.clone().into()).is_err(), "upper-case hex");
    assert!(decode(&|v| v["extra"] = 1.into()).is_err(), "unknown field");
    assert!(decode(&|v| v["t4"][0]["gamma"] = 1.into()).is_err(), "unknown field in T₄");
    assert!(decode(&|v| drop(v.as_object_mut().unwrap().remove("s3"))).is_err(), "missing field");
    assert!(decode(&|v| v["s2"] = "00".into()).is_err(), "short scalar");
}

#[test]
fn generators_are_bound_to_context_purpose_and_index_but_not_to_n() {
    let a = Generators::derive(&CTX, PURPOSE, 5);
    let b = Generators::derive(&CTX, PURPOSE, 3);
    assert_eq!(a.h[..3], b.h[..]);
    assert_eq!(a.h_hat, b.h_hat);
    let c = Generators::derive(&[8; 32], PURPOSE, 3);
    let d = Generators::derive(&CTX, "test/other", 3);
    for x in [&c, &d] {
        assert!(x.h.iter().all(|h| !a.h.contains(h)) && x.h_hat != a.h_hat);
    }
    let mut all: Vec<[u8; 32]> =
        a.h.iter().chain([&a.h_hat, &generator_g(), &generator_h()]).map(|p| p.compress().to_bytes()).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 8, "h_0 … h_4, ĥ, G and H are distinct");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn random_sizes_verify_and_any_changed_byte_is_refused(
        seed: u64, n in 1usize..12, w in 1usize..4, pick: usize, bit in 0usize..256
    ) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let f = fixture(&mut rng, n, w);
        let (output, _, proof) = honest(&mut rng, &f);
        prop_assert_eq!(verify(&f, &output, &proof), Ok(()));
        // Flip one bit of one hex string of the proof or of the output; what still decodes
        // must be refused.
        let mut v = serde_json::json!({"proof": proof, "output": output});
        let mut leaves = Vec::new();
        collect_strings(&v, &mut Vec::new(), &mut leaves);
        let path = &leaves[pick % leaves.len()];
        let leaf = path.iter().fold(&mut v, |acc, p| match p {
            Step::Key(k) => &mut acc[k.as_str()],
            Step::Index(i) => &mut acc[*i],
        });
        let mut bytes = hex::decode(leaf.as_str().unwrap()).unwrap();
        bytes[bit / 8] ^= 1 << (bit % 8);
        *leaf = hex::encode(bytes).into();
        let decoded = serde_json::from_value::<ShuffleProof>(v["proof"].clone())
            .ok()
            .zip(serde_json::from_value::<Rows>(v["output"].clone()).ok());
        if let Some((p, o)) = decoded {
            prop_assert!(verify(&f, &o, &p).is_err());
        }
    }
}

enum Step {
    Key(String),
    Index(usize),
}

fn collect_strings(v: &serde_json::Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        serde_json::Value::String(_) => out.push(
            path.iter()
                .map(|s| match s {
                    Step::Key(k) => Step::Key(k.clone()),
                    Step::Index(i) => Step::Index(*i),
                })
                .collect(),
        ),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(Step::Index(i));
                collect_strings(x, path, out);
                path.pop();
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                path.push(Step::Key(k.clone()));
                collect_strings(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Rows of width 3 with column keys `[K, H, K]` (13-revoting.md §5: the ordinal column is under
/// `H`), shuffled honestly, with the keys and the secret.
fn mixed_keys(rng: &mut ChaCha20Rng, n: usize) -> (Vec<PublicKey>, Rows, Rows, ShuffleSecret) {
    let pk = SecretKey::generate(rng).public_key();
    let h = PublicKey(GroupElement::from_point(generator_h()).unwrap());
    let keys = vec![pk, h, pk];
    let tables = permute::key_tables(&keys);
    let cts = (0..n * 3).map(|x| enc(&tables[x % 3], &Scalar::from(x as u64), &random_scalar(rng))).collect();
    let input = Rows::new(3, cts).unwrap();
    let (output, secret) = shuffle_rows(rng, &keys, &input).unwrap();
    (keys, input, output, secret)
}

#[test]
fn each_column_is_reencrypted_and_proved_under_its_own_key() {
    let mut rng = ChaCha20Rng::seed_from_u64(30);
    let (keys, input, output, secret) = mixed_keys(&mut rng, 6);
    let tables = permute::key_tables(&keys);
    for (j, &i) in secret.permutation().iter().enumerate() {
        for (k, table) in tables.iter().enumerate() {
            let rho = secret.nonces()[j * 3 + k];
            let (a, b) = (&input.row(j).unwrap()[k], &output.row(i).unwrap()[k]);
            assert_eq!(*b.alpha.point(), a.alpha.point() + mul_base(&rho));
            assert_eq!(*b.beta.point(), a.beta.point() + table.mul(&rho), "column {k} under K_{k}");
        }
    }
    let stmt = ShuffleStatement { context: &CTX, purpose: PURPOSE, keys: &keys, input: &input, output: &output };
    let proof = prove_shuffle(&mut rng, &stmt, &secret).unwrap();
    assert_eq!(verify_shuffle(&mut rng, &stmt, &proof), Ok(()));
    // The same proof under any other key vector is refused, even a permutation of the keys.
    let (pk, h) = (keys[0], keys[1]);
    for other in [vec![pk, pk, pk], vec![h, h, pk], vec![h, pk, pk], vec![pk, pk, h]] {
        let s = ShuffleStatement { keys: &other, ..stmt };
        assert!(verify_shuffle(&mut rng, &s, &proof).is_err(), "{other:?}");
    }
    assert!(shuffle_rows(&mut rng, &keys[..2], &input).is_err(), "one key per column");
}

/// A shuffler that re-encrypts the `H` column under `K` (so that the key-holders, who know `K`'s
/// secret, could open it) and proves with its honest nonces: SH-5 of that column alone fails,
/// whether the statement names the right keys or the proof is made for the keys actually used
/// and presented under the right ones.
#[test]
fn sh5_catches_a_column_reencrypted_under_another_key() {
    let mut rng = ChaCha20Rng::seed_from_u64(31);
    let (keys, input, _, secret) = mixed_keys(&mut rng, 4);
    let wrong = vec![keys[0], keys[0], keys[2]];
    let output = permute::apply(&permute::key_tables(&wrong), &input, &secret).unwrap();
    let stmt = ShuffleStatement { context: &CTX, purpose: PURPOSE, keys: &keys, input: &input, output: &output };
    let failing_of =
        |proof: &ShuffleProof| Replay::new(&stmt, proof).unwrap().failing(&mut ChaCha20Rng::seed_from_u64(2)).unwrap();
    let proof = prove_shuffle(&mut rng, &stmt, &secret).unwrap();
    assert_eq!(failing_of(&proof), vec![ShuffleEquation::Sh5 { column: 1 }]);
    assert_eq!(
        verify_shuffle(&mut rng, &stmt, &proof),
        Err(ShuffleError::Equation(ShuffleEquation::Sh5 { column: 1 }))
    );
    // Made (validly) for the keys used, the proof is refused under the keys of the statement.
    let used = ShuffleStatement { keys: &wrong, ..stmt };
    let proof = prove_shuffle(&mut rng, &used, &secret).unwrap();
    assert_eq!(verify_shuffle(&mut rng, &used, &proof), Ok(()));
    assert!(verify_shuffle(&mut rng, &stmt, &proof).is_err());
}
