//! Ballots: encryption with proofs on the voter's device, verification that cannot be skipped,
//! the Benaloh cast-or-challenge audit and tracking codes (`docs/protocol/08-ballot.md`).
//!
//! A ballot is bound to the extended election context, its ballot style, a random ballot id and
//! the voter's public credential (all in every proof's transcript), and signed by the credential
//! over its body hash; so a ballot copied to another voter, style or election fails.

use std::collections::HashSet;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

use crate::ballot_v2::encrypted_credential::EncryptedCredential;
use crate::context::ElectionContext;
use crate::elgamal::{Ciphertext, Nonce, encrypt_with_nonce, encrypt_with_table};
use crate::error::{DecodeError, ProofError};
use crate::group::{GroupElement, bytes_hex, decode_scalar, scalar_hex};
use crate::labels;
use crate::manifest::Contest;
use crate::proofs::disjunctive::{DisjunctiveProof, Statement};
use crate::proofs::range::{RangeCountProof, RangeStatement};
use crate::proofs::{BaseId, BatchVerifier, DirectCheck, EquationSink};
use crate::signature::{Signature, SigningKey, VerifyingKey};
use crate::transcript::TranscriptProtocol;

/// The voter's choices: for each contest of the style, a 0/1 mark per selection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaintextBallot {
    /// Ballot style id.
    pub style: String,
    /// Contests in the style's order.
    pub contests: Vec<PlaintextContest>,
}

/// Marks in one contest: one 0/1 per selection (options, then against-all, then blank).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaintextContest {
    /// Contest id.
    pub contest_id: String,
    /// 0/1 per selection.
    pub selections: Vec<u8>,
}

/// One encrypted selection with its 0/1 proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedSelection {
    /// `Enc(mark)`.
    pub ciphertext: Ciphertext,
    /// Proof that the mark is 0 or 1.
    pub proof: DisjunctiveProof,
}

/// The proof that a contest's weighted sum of marks is in its allowed range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CountProof {
    /// Disjunctive proof over the sum, for ranges of at most 16 values (one value: Chaum–Pedersen).
    Disjunctive {
        /// The proof.
        proof: DisjunctiveProof,
    },
    /// Bulletproofs range proof linked to the sum, for wider ranges.
    Range {
        /// The proof.
        proof: Box<RangeCountProof>,
    },
}

/// One encrypted contest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedContest {
    /// Contest id.
    pub contest_id: String,
    /// One per selection.
    pub selections: Vec<EncryptedSelection>,
    /// The count proof.
    pub count_proof: CountProof,
}

/// An encrypted, signed ballot as the voter's device sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedBallot {
    /// 16 random bytes chosen by the device.
    #[serde(with = "bytes_hex")]
    pub ballot_id: [u8; 16],
    /// Ballot style id.
    pub style: String,
    /// The voter's public credential.
    pub credential: VerifyingKey,
    /// Contests in the style's order.
    pub contests: Vec<EncryptedContest>,
    /// The credential's signature over the body hash.
    pub signature: Signature,
}

/// The tracking code: a hash of the ballot body and its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackingCode(#[serde(with = "bytes_hex")] pub [u8; 32]);

impl TrackingCode {
    /// Lowercase hex of all 32 bytes.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The short form shown to voters: the first 10 bytes in Crockford base32, 4 groups of 4.
    pub fn short(&self) -> String {
        const A: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let mut acc: u128 = 0;
        for b in &self.0[..10] {
            acc = (acc << 8) | u128::from(*b);
        }
        let syms: Vec<char> = (0..16).rev().map(|i| char::from(A[((acc >> (5 * i)) & 31) as usize])).collect();
        syms.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
    }
}

/// Where in a ballot a check failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BallotError {
    /// The ballot does not have the shape its style requires.
    #[error("malformed ballot: {0}")]
    Malformed(String),
    /// A proof failed.
    #[error("contest {contest:?}{}: {proof} proof: {source}", selection.map(|s| format!(", selection {s}")).unwrap_or_default())]
    Proof {
        /// Contest id.
        contest: String,
        /// Selection index, for 0/1 proofs.
        selection: Option<usize>,
        /// Which proof: `selection` or `count`.
        proof: &'static str,
        /// What failed.
        source: ProofError,
    },
    /// The credential's signature failed.
    #[error("credential signature: {0}")]
    Signature(ProofError),
    /// The credential proof of a v2 ballot failed (13-revoting.md §3.2).
    #[error("credential proof: {0}")]
    CredentialProof(ProofError),
    /// The opening of a challenged ballot does not match it.
    #[error("opening does not match the ballot: {0}")]
    Opening(String),
}

impl From<DecodeError> for BallotError {
    fn from(e: DecodeError) -> Self {
        BallotError::Malformed(e.to_string())
    }
}

/// A ballot whose every proof and signature has been verified against an election context.
/// Only the verification functions of this module construct it; tallies accept nothing else.
#[derive(Clone, Debug)]
pub struct Verified<B> {
    ballot: B,
    tracking_code: TrackingCode,
    contest_indices: Vec<usize>,
}

/// A verified v1 ballot.
pub type VerifiedBallot = Verified<EncryptedBallot>;

impl<B> Verified<B> {
    /// The ballot.
    pub fn ballot(&self) -> &B {
        &self.ballot
    }
    /// Its tracking code.
    pub fn tracking_code(&self) -> &TrackingCode {
        &self.tracking_code
    }
    /// Manifest index of each contest, in ballot order.
    pub fn contest_indices(&self) -> &[usize] {
        &self.contest_indices
    }
    /// Gives the ballot back.
    pub fn into_inner(self) -> B {
        self.ballot
    }
}

/// The secrets of a freshly encrypted ballot: the marks and every nonce. Needed only to open
/// the ballot for a Benaloh challenge; dropped (and zeroized) once the ballot is cast.
pub struct BallotSecrets {
    ballot_id: [u8; 16],
    marks: Vec<Vec<u8>>,
    nonces: Vec<Vec<Nonce>>,
}

impl BallotSecrets {
    /// The secrets of a ballot whose contests [`encrypt_contests`] made.
    pub(crate) fn new(ballot_id: [u8; 16], plaintext: &PlaintextBallot, nonces: Vec<Vec<Nonce>>) -> Self {
        Self { ballot_id, marks: plaintext.contests.iter().map(|c| c.selections.clone()).collect(), nonces }
    }
}

impl Drop for BallotSecrets {
    fn drop(&mut self) {
        for m in &mut self.marks {
            m.zeroize();
        }
    }
}

impl std::fmt::Debug for BallotSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BallotSecrets(<redacted>)")
    }
}

/// The opening of one selection of a challenged ballot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionOpening {
    /// The mark, 0 or 1.
    pub mark: u8,
    /// The encryption nonce.
    #[serde(with = "scalar_hex")]
    pub nonce: Scalar,
}

/// The opening of a challenged ballot, published on the board (never counted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotOpening {
    /// The ballot id.
    #[serde(with = "bytes_hex")]
    pub ballot_id: [u8; 16],
    /// Per contest, per selection.
    pub contests: Vec<Vec<SelectionOpening>>,
}

impl BallotSecrets {
    /// Opens the ballot for a Benaloh challenge. A challenged ballot must never be cast.
    pub fn open(self) -> BallotOpening {
        BallotOpening {
            ballot_id: self.ballot_id,
            contests: self
                .marks
                .iter()
                .zip(&self.nonces)
                .map(|(ms, ns)| {
                    ms.iter().zip(ns).map(|(m, n)| SelectionOpening { mark: *m, nonce: *n.scalar() }).collect()
                })
                .collect(),
        }
    }
}

/// What a ballot binds at the credential's position of `T_ballot` and of the body hash: the
/// public credential X (v1, 08-ballot.md §Ballot transcripts, §Body hash), or `cred` and `tbase`
/// (v2, 13-revoting.md §3.1, §3.7).
#[derive(Clone, Copy)]
pub(crate) enum Voter<'a> {
    /// `T.point("credential", X)`.
    Credential(&'a VerifyingKey),
    /// `T.point("cred-alpha", cred.α) … T.point("tbase-beta", tbase.β)`.
    Encrypted(&'a EncryptedCredential),
}

impl Voter<'_> {
    fn append_to(&self, t: &mut Transcript) {
        match self {
            Voter::Credential(x) => t.append_element(labels::L_CREDENTIAL, &x.0),
            Voter::Encrypted(enc) => enc.append_to(t),
        }
    }
}

/// What every transcript of a ballot starts from: the ballot id, the style and the voter.
#[derive(Clone, Copy)]
pub(crate) struct Header<'a> {
    /// The 16-byte ballot id.
    pub(crate) ballot_id: &'a [u8; 16],
    /// The style id.
    pub(crate) style: &'a str,
    /// The credential (v1) or its encryption (v2).
    pub(crate) voter: Voter<'a>,
}

/// `T_ballot` (08 §Ballot transcripts; v2: 13 §3.7): context, ballot id, style, the voter and
/// the key.
fn ballot_transcript(ctx: &ElectionContext, h: &Header<'_>) -> Transcript {
    let mut t = Transcript::protocol(labels::DS_BALLOT);
    t.append_message(labels::L_CONTEXT, ctx.extended_hash());
    t.append_message(labels::L_BALLOT_ID, h.ballot_id);
    t.append_str(labels::L_STYLE, h.style);
    h.voter.append_to(&mut t);
    t.append_element(labels::L_PK, &ctx.joint_key().0);
    t
}

/// `T_contest`: `T_ballot` plus the contest's manifest index and every ciphertext.
fn contest_transcript(tb: &Transcript, index: usize, cts: &[&Ciphertext]) -> Transcript {
    let mut t = tb.clone();
    t.append_u64(labels::L_CONTEST, index as u64);
    t.append_u64(labels::L_SELECTIONS, cts.len() as u64);
    for c in cts {
        t.append_element(labels::L_ALPHA, &c.alpha);
        t.append_element(labels::L_BETA, &c.beta);
    }
    t
}

fn selection_transcript(tc: &Transcript, j: usize) -> Transcript {
    let mut t = tc.clone();
    t.domain_sep(labels::DS_SELECTION);
    t.append_u64(labels::L_SELECTION, j as u64);
    append_values(&mut t, &[0, 1]);
    t
}

fn append_values(t: &mut Transcript, values: &[u64]) {
    t.append_u64(labels::L_VALUES, values.len() as u64);
    for v in values {
        t.append_u64(labels::L_VALUE, *v);
    }
}

fn count_transcript(tc: &Transcript, contest: &Contest) -> Transcript {
    let mut t = tc.clone();
    t.domain_sep(if contest.uses_range_proof() { labels::DS_COUNT_RANGE } else { labels::DS_COUNT });
    let k = contest.selection_count();
    t.append_u64(labels::L_WEIGHTS, k as u64);
    for i in 0..k {
        t.append_u64(labels::L_WEIGHT, contest.weight(i));
    }
    append_values(&mut t, &contest.allowed_values());
    t
}

/// `(lo, hi)` of a contiguous value list (range-proof contests have no exclusive selection).
fn range_bounds(values: &[u64]) -> (u64, u64) {
    (values.first().copied().unwrap_or(0), values.last().copied().unwrap_or(0))
}

/// The weighted sum `Σ wᵢ·Cᵢ` of a contest's ciphertexts.
fn weighted_sum(contest: &Contest, cts: &[&Ciphertext]) -> (RistrettoPoint, RistrettoPoint) {
    let mut a = RistrettoPoint::default();
    let mut b = RistrettoPoint::default();
    for (i, c) in cts.iter().enumerate() {
        let w = contest.weight(i);
        if w == 1 {
            a += c.alpha.point();
            b += c.beta.point();
        } else {
            let w = Scalar::from(w);
            a += w * c.alpha.point();
            b += w * c.beta.point();
        }
    }
    (a, b)
}

fn append_disjunctive(t: &mut Transcript, p: &DisjunctiveProof) {
    t.append_u64(labels::L_BRANCHES, p.branches.len() as u64);
    for b in &p.branches {
        t.append_element(labels::L_A, &b.a);
        t.append_element(labels::L_B, &b.b);
        t.append_scalar(labels::L_C, &b.c);
        t.append_scalar(labels::L_Z, &b.z);
    }
}

/// The body hash: every field of the ballot except the signature (§Body hash).
pub fn body_hash(ctx: &ElectionContext, b: &EncryptedBallot) -> [u8; 32] {
    let h = Header { ballot_id: &b.ballot_id, style: &b.style, voter: Voter::Credential(&b.credential) };
    body_hash_of(ctx, &h, &b.contests)
}

/// The body hash of 08 §Body hash, with the voter at the credential's position (v2: 13 §3.7).
pub(crate) fn body_hash_of(ctx: &ElectionContext, h: &Header<'_>, contests: &[EncryptedContest]) -> [u8; 32] {
    let mut t = Transcript::protocol(labels::DS_BALLOT_BODY);
    t.append_message(labels::L_CONTEXT, ctx.extended_hash());
    t.append_message(labels::L_BALLOT_ID, h.ballot_id);
    t.append_str(labels::L_STYLE, h.style);
    h.voter.append_to(&mut t);
    t.append_u64(labels::L_CONTESTS, contests.len() as u64);
    for c in contests {
        t.append_str(labels::L_CONTEST_ID, &c.contest_id);
        t.append_u64(labels::L_SELECTIONS, c.selections.len() as u64);
        for s in &c.selections {
            t.append_element(labels::L_ALPHA, &s.ciphertext.alpha);
            t.append_element(labels::L_BETA, &s.ciphertext.beta);
            append_disjunctive(&mut t, &s.proof);
        }
        match &c.count_proof {
            CountProof::Disjunctive { proof } => {
                t.append_str(labels::L_COUNT_KIND, "disjunctive");
                append_disjunctive(&mut t, proof);
            }
            CountProof::Range { proof } => {
                t.append_str(labels::L_COUNT_KIND, "range");
                t.append_element(labels::L_V1, &proof.v1);
                t.append_element(labels::L_A1, &proof.link.a1);
                t.append_element(labels::L_A2, &proof.link.a2);
                t.append_element(labels::L_A3, &proof.link.a3);
                t.append_scalar(labels::L_ZX, &proof.link.zx);
                t.append_scalar(labels::L_ZR, &proof.link.zr);
                t.append_scalar(labels::L_ZS, &proof.link.zs);
                t.append_message(labels::L_BULLETPROOF, &proof.range.to_bytes());
            }
        }
    }
    t.challenge_32(labels::L_BODY_HASH)
}

fn signature_transcript(ctx: &ElectionContext, body: &[u8; 32]) -> Transcript {
    let mut t = Transcript::protocol(labels::DS_BALLOT_SIGNATURE);
    t.append_message(labels::L_CONTEXT, ctx.extended_hash());
    t.append_message(labels::L_BODY_HASH, body);
    t
}

/// The tracking code of a ballot as the voter's device shows it before the cast-or-check
/// choice. Computes only hashes; it says nothing about validity (see [`verify_ballot`]).
pub fn tracking_code_of(ctx: &ElectionContext, b: &EncryptedBallot) -> TrackingCode {
    tracking_code(&body_hash(ctx, b), &b.signature)
}

fn tracking_code(body: &[u8; 32], sig: &Signature) -> TrackingCode {
    let mut t = Transcript::protocol(labels::DS_TRACKING_CODE);
    t.append_message(labels::L_BODY_HASH, body);
    t.append_message(labels::L_SIGNATURE, &sig.to_bytes());
    TrackingCode(t.challenge_32(labels::L_TRACKING_CODE))
}

/// Encrypts a ballot on the voter's device and signs it with the credential.
///
/// Draws, in this order (§Order of draws): the ballot id (16 bytes); then per contest in ballot
/// order: one nonce per selection (64 bytes each, redrawn if zero), the draws of each
/// selection's 0/1 proof in order, the draws of the count proof; finally 32 bytes for the
/// signature nonce.
pub fn encrypt_ballot<R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    credential: &SigningKey,
    plaintext: &PlaintextBallot,
    rng: &mut R,
) -> Result<(EncryptedBallot, BallotSecrets), BallotError> {
    check_plaintext_style(ctx, plaintext)?;
    let mut ballot_id = [0u8; 16];
    rng.fill_bytes(&mut ballot_id);
    let cred = credential.verifying_key();
    let h = Header { ballot_id: &ballot_id, style: &plaintext.style, voter: Voter::Credential(&cred) };
    let (contests, nonces) = encrypt_contests(ctx, &h, plaintext, rng)?;
    let mut ballot = EncryptedBallot {
        ballot_id,
        style: plaintext.style.clone(),
        credential: cred,
        contests,
        // Placeholder replaced below; the body hash does not cover the signature.
        signature: Signature { r: cred.0, s: Scalar::ZERO },
    };
    let body = body_hash(ctx, &ballot);
    ballot.signature = credential.sign(&mut signature_transcript(ctx, &body), rng);
    Ok((ballot, BallotSecrets::new(ballot_id, plaintext, nonces)))
}

/// Refuses, before anything is drawn, a plaintext whose style is unknown or whose contests are
/// not exactly the style's, in its order.
pub(crate) fn check_plaintext_style(ctx: &ElectionContext, plaintext: &PlaintextBallot) -> Result<(), BallotError> {
    let style = ctx
        .manifest()
        .style(&plaintext.style)
        .ok_or_else(|| BallotError::Malformed(format!("unknown ballot style {:?}", plaintext.style)))?;
    if style.contests.len() != plaintext.contests.len()
        || style.contests.iter().zip(&plaintext.contests).any(|(a, b)| *a != b.contest_id)
    {
        return Err(BallotError::Malformed("contests do not match the ballot style".into()));
    }
    Ok(())
}

/// Encrypts and proves every contest of `plaintext` (§Ballot transcripts on `h`; §Order of draws
/// step 2, which v1 and v2 share). Returns the contests and each selection's nonce.
pub(crate) fn encrypt_contests<R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    h: &Header<'_>,
    plaintext: &PlaintextBallot,
    rng: &mut R,
) -> Result<(Vec<EncryptedContest>, Vec<Vec<Nonce>>), BallotError> {
    let manifest = ctx.manifest();
    let pk = ctx.joint_key();
    let tb = ballot_transcript(ctx, h);
    let mut contests = Vec::with_capacity(plaintext.contests.len());
    let mut all_nonces = Vec::with_capacity(plaintext.contests.len());
    for pc in &plaintext.contests {
        let (index, contest) = manifest
            .contest(&pc.contest_id)
            .ok_or_else(|| BallotError::Malformed(format!("unknown contest {:?}", pc.contest_id)))?;
        if !contest.is_valid_vote(&pc.selections) {
            return Err(BallotError::Malformed(format!("not a valid vote in contest {:?}", pc.contest_id)));
        }
        let nonces: Vec<Nonce> = pc.selections.iter().map(|_| Nonce::generate(rng)).collect();
        let cts = pc
            .selections
            .iter()
            .zip(&nonces)
            .map(|(m, r)| encrypt_with_table(ctx.key_table(), u64::from(*m), r))
            .collect::<Result<Vec<_>, _>>()?;
        let ct_refs: Vec<&Ciphertext> = cts.iter().collect();
        let tc = contest_transcript(&tb, index, &ct_refs);
        let proof_err =
            |selection, proof, source| BallotError::Proof { contest: pc.contest_id.clone(), selection, proof, source };
        let mut selections = Vec::with_capacity(cts.len());
        for (j, ((ct, m), r)) in cts.iter().zip(&pc.selections).zip(&nonces).enumerate() {
            let st = Statement { pk: pk.point(), alpha: ct.alpha.point(), beta: ct.beta.point(), values: &[0, 1] };
            let proof = DisjunctiveProof::prove(
                &mut selection_transcript(&tc, j),
                ctx.key_table(),
                &st,
                u64::from(*m),
                r.scalar(),
                rng,
            )
            .map_err(|e| proof_err(Some(j), "selection", e))?;
            selections.push(EncryptedSelection { ciphertext: *ct, proof });
        }
        let (sa, sb) = weighted_sum(contest, &ct_refs);
        let value: u64 = pc.selections.iter().enumerate().map(|(i, m)| u64::from(*m) * contest.weight(i)).sum();
        let r_sum: Zeroizing<Scalar> =
            Zeroizing::new(nonces.iter().enumerate().map(|(i, r)| Scalar::from(contest.weight(i)) * r.scalar()).sum());
        let values = contest.allowed_values();
        let mut t = count_transcript(&tc, contest);
        let count_proof = if contest.uses_range_proof() {
            let (lo, hi) = range_bounds(&values);
            let st = RangeStatement { pk: pk.point(), alpha: &sa, beta: &sb, lo, hi };
            CountProof::Range {
                proof: Box::new(
                    RangeCountProof::prove(&mut t, ctx.key_table(), &st, value, &r_sum, rng)
                        .map_err(|e| proof_err(None, "count", e))?,
                ),
            }
        } else {
            let st = Statement { pk: pk.point(), alpha: &sa, beta: &sb, values: &values };
            CountProof::Disjunctive {
                proof: DisjunctiveProof::prove(&mut t, ctx.key_table(), &st, value, &r_sum, rng)
                    .map_err(|e| proof_err(None, "count", e))?,
            }
        };
        contests.push(EncryptedContest { contest_id: pc.contest_id.clone(), selections, count_proof });
        all_nonces.push(nonces);
    }
    Ok((contests, all_nonces))
}

/// Checks that the ballot's contests are exactly its style's (08 §Verification checks 3–5) and
/// that the α's of all its ciphertexts and of `more_alphas` (v2: cred.α and tbase.α, 13 §3.1)
/// are pairwise distinct (check 7), before any proof.
pub(crate) fn check_structure(
    ctx: &ElectionContext,
    style: &str,
    contests: &[EncryptedContest],
    more_alphas: &[&GroupElement],
) -> Result<(), BallotError> {
    let style =
        ctx.manifest().style(style).ok_or_else(|| BallotError::Malformed(format!("unknown ballot style {style:?}")))?;
    if style.contests.len() != contests.len() || style.contests.iter().zip(contests).any(|(a, c)| *a != c.contest_id) {
        return Err(BallotError::Malformed("contests do not match the ballot style".into()));
    }
    let mut alphas = HashSet::new();
    let votes = contests.iter().flat_map(|c| c.selections.iter().map(|s| &s.ciphertext.alpha));
    for alpha in votes.chain(more_alphas.iter().copied()) {
        if !alphas.insert(*alpha.as_bytes()) {
            return Err(BallotError::Malformed(
                "two ciphertexts share their first component (reused randomness)".into(),
            ));
        }
    }
    Ok(())
}

/// Adds every contest's proofs on `h`'s transcripts to `sink` (08 §Verification checks 5, 6, 8,
/// 9), after [`check_structure`]. `pk_base` is K registered in `sink`. Returns each contest's
/// manifest index.
pub(crate) fn check_contests<S: EquationSink, R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    h: &Header<'_>,
    contests: &[EncryptedContest],
    pk_base: BaseId,
    sink: &mut S,
    rng: &mut R,
) -> Result<Vec<usize>, BallotError> {
    let manifest = ctx.manifest();
    let pk = ctx.joint_key();
    let tb = ballot_transcript(ctx, h);
    let mut indices = Vec::with_capacity(contests.len());
    for c in contests {
        let (index, contest) = manifest
            .contest(&c.contest_id)
            .ok_or_else(|| BallotError::Malformed(format!("unknown contest {:?}", c.contest_id)))?;
        if c.selections.len() != contest.selection_count() {
            return Err(BallotError::Malformed(format!(
                "contest {:?}: {} selections, the manifest has {}",
                c.contest_id,
                c.selections.len(),
                contest.selection_count()
            )));
        }
        let proof_err =
            |selection, proof, source| BallotError::Proof { contest: c.contest_id.clone(), selection, proof, source };
        let ct_refs: Vec<&Ciphertext> = c.selections.iter().map(|s| &s.ciphertext).collect();
        let tc = contest_transcript(&tb, index, &ct_refs);
        for (j, s) in c.selections.iter().enumerate() {
            let st = Statement {
                pk: pk.point(),
                alpha: s.ciphertext.alpha.point(),
                beta: s.ciphertext.beta.point(),
                values: &[0, 1],
            };
            s.proof
                .verify(&mut selection_transcript(&tc, j), &st, pk_base, sink)
                .map_err(|e| proof_err(Some(j), "selection", e))?;
        }
        let (sa, sb) = weighted_sum(contest, &ct_refs);
        let values = contest.allowed_values();
        let mut t = count_transcript(&tc, contest);
        match (&c.count_proof, contest.uses_range_proof()) {
            (CountProof::Disjunctive { proof }, false) => {
                let st = Statement { pk: pk.point(), alpha: &sa, beta: &sb, values: &values };
                proof.verify(&mut t, &st, pk_base, sink)
            }
            (CountProof::Range { proof }, true) => {
                let (lo, hi) = range_bounds(&values);
                let st = RangeStatement { pk: pk.point(), alpha: &sa, beta: &sb, lo, hi };
                proof.verify(&mut t, &st, pk_base, sink, rng)
            }
            _ => Err(ProofError::Shape("count proof kind does not match the contest's range")),
        }
        .map_err(|e| proof_err(None, "count", e))?;
        indices.push(index);
    }
    Ok(indices)
}

/// A ballot that can be checked into an equation sink: v1 here, v2 in
/// [`crate::ballot_v2::ballot`]. Both share the batching of [`verify_batch`].
pub(crate) trait CheckBallot {
    /// Checks the structure and adds every equation to `sink`; returns the tracking code and
    /// the contests' manifest indices.
    fn check_into<S: EquationSink, R: RngCore + CryptoRng>(
        &self,
        ctx: &ElectionContext,
        sink: &mut S,
        rng: &mut R,
    ) -> Result<(TrackingCode, Vec<usize>), BallotError>;
}

impl CheckBallot for EncryptedBallot {
    /// 08 §Verification checks 1–11.
    fn check_into<S: EquationSink, R: RngCore + CryptoRng>(
        &self,
        ctx: &ElectionContext,
        sink: &mut S,
        rng: &mut R,
    ) -> Result<(TrackingCode, Vec<usize>), BallotError> {
        let b = self;
        check_structure(ctx, &b.style, &b.contests, &[])?;
        let pk_base: BaseId = sink.base(ctx.joint_key().point());
        let h = Header { ballot_id: &b.ballot_id, style: &b.style, voter: Voter::Credential(&b.credential) };
        let indices = check_contests(ctx, &h, &b.contests, pk_base, sink, rng)?;
        let body = body_hash(ctx, b);
        b.credential
            .verify_into(&mut signature_transcript(ctx, &body), &b.signature, sink)
            .map_err(BallotError::Signature)?;
        Ok((tracking_code(&body, &b.signature), indices))
    }
}

/// Verifies one ballot completely (all proofs and the signature, batched into one check).
pub fn verify_ballot<R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    ballot: EncryptedBallot,
    rng: &mut R,
) -> Result<VerifiedBallot, BallotError> {
    verify_ballots(ctx, vec![ballot], rng).pop().unwrap_or_else(|| Err(BallotError::Malformed("no ballot".into())))
}

/// Verifies many ballots with one batched check (§Batch verification). If the batch fails,
/// halves are re-checked until every bad ballot is found; a single bad ballot is re-checked
/// equation by equation so that the error names the contest, selection and proof.
/// Results are in input order.
pub fn verify_ballots<R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    ballots: Vec<EncryptedBallot>,
    rng: &mut R,
) -> Vec<Result<VerifiedBallot, BallotError>> {
    verify_batch(ctx, ballots, rng)
}

/// The batched check of §Batch verification for any ballot kind (v1 and v2): one result per
/// ballot, in input order.
pub(crate) fn verify_batch<B: CheckBallot, R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    ballots: Vec<B>,
    rng: &mut R,
) -> Vec<Result<Verified<B>, BallotError>> {
    let mut results: Vec<Outcome> = Vec::new();
    results.resize_with(ballots.len(), || None);
    let all: Vec<usize> = (0..ballots.len()).collect();
    verify_subset(ctx, &ballots, &all, &mut results, rng);
    ballots
        .into_iter()
        .zip(results)
        .map(|(ballot, r)| match r {
            Some(Ok((tracking_code, contest_indices))) => Ok(Verified { ballot, tracking_code, contest_indices }),
            Some(Err(e)) => Err(e),
            None => Err(BallotError::Malformed("not verified".into())),
        })
        .collect()
}

type Outcome = Option<Result<(TrackingCode, Vec<usize>), BallotError>>;

fn verify_subset<B: CheckBallot, R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    ballots: &[B],
    subset: &[usize],
    results: &mut [Outcome],
    rng: &mut R,
) {
    if subset.len() == 1 {
        let i = subset[0];
        if let Some(b) = ballots.get(i) {
            let r = b.check_into(ctx, &mut DirectCheck::default(), rng);
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(r);
            }
        }
        return;
    }
    let mut candidates = Vec::with_capacity(subset.len());
    // Weights come from a transcript RNG seeded by the caller's RNG, drawn only now that the
    // ballots are fixed.
    let mut weight_rng = Transcript::new(labels::TRANSCRIPT).build_rng().finalize(rng);
    let outcome = {
        let mut batch = BatchVerifier::new(&mut weight_rng);
        for &i in subset {
            let Some(b) = ballots.get(i) else { continue };
            let mark = batch.mark();
            match b.check_into(ctx, &mut batch, rng) {
                Ok(ok) => candidates.push((i, ok)),
                Err(e) => {
                    batch.rollback(mark);
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(Err(e));
                    }
                }
            }
        }
        batch.finish()
    };
    if outcome.is_ok() {
        for (i, ok) in candidates {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(Ok(ok));
            }
        }
        return;
    }
    let idx: Vec<usize> = candidates.into_iter().map(|(i, _)| i).collect();
    let (left, right) = idx.split_at(idx.len() / 2);
    for half in [left, right] {
        if !half.is_empty() {
            verify_subset(ctx, ballots, half, results, rng);
        }
    }
}

/// Checks a challenged ballot's opening: every ciphertext re-encrypts from the revealed mark
/// and nonce to exactly the published one, and the marks are a valid vote. Returns the
/// plaintext so the voter can compare it with what they chose (§Benaloh challenge).
pub fn verify_challenged_ballot(
    ctx: &ElectionContext,
    ballot: &VerifiedBallot,
    opening: &BallotOpening,
) -> Result<PlaintextBallot, BallotError> {
    let b = &ballot.ballot;
    let h = Header { ballot_id: &b.ballot_id, style: &b.style, voter: Voter::Credential(&b.credential) };
    open_contests(ctx, &h, &b.contests, &ballot.contest_indices, opening)
}

/// The checks of §Benaloh challenge on a verified ballot's contests (v1 and v2 alike).
pub(crate) fn open_contests(
    ctx: &ElectionContext,
    h: &Header<'_>,
    ballot_contests: &[EncryptedContest],
    contest_indices: &[usize],
    opening: &BallotOpening,
) -> Result<PlaintextBallot, BallotError> {
    if opening.ballot_id != *h.ballot_id {
        return Err(BallotError::Opening("ballot id differs".into()));
    }
    if opening.contests.len() != ballot_contests.len() {
        return Err(BallotError::Opening("number of contests differs".into()));
    }
    let mut contests = Vec::with_capacity(ballot_contests.len());
    for ((c, oc), &index) in ballot_contests.iter().zip(&opening.contests).zip(contest_indices) {
        let contest =
            ctx.manifest().contests.get(index).ok_or_else(|| BallotError::Opening("unknown contest".into()))?;
        if oc.len() != c.selections.len() {
            return Err(BallotError::Opening(format!("contest {:?}: number of selections differs", c.contest_id)));
        }
        let mut marks = Vec::with_capacity(oc.len());
        for (j, (s, o)) in c.selections.iter().zip(oc).enumerate() {
            if o.mark > 1 {
                return Err(BallotError::Opening(format!(
                    "contest {:?}, selection {j}: mark is not 0 or 1",
                    c.contest_id
                )));
            }
            let nonce = Nonce::from_scalar(decode_scalar(o.nonce.as_bytes())?)?;
            let re = encrypt_with_nonce(ctx.joint_key(), u64::from(o.mark), &nonce)?;
            if re != s.ciphertext {
                return Err(BallotError::Opening(format!(
                    "contest {:?}, selection {j}: the opening does not re-encrypt to the ciphertext",
                    c.contest_id
                )));
            }
            marks.push(o.mark);
        }
        if !contest.is_valid_vote(&marks) {
            return Err(BallotError::Opening(format!(
                "contest {:?}: the opened marks are not a valid vote",
                c.contest_id
            )));
        }
        contests.push(PlaintextContest { contest_id: c.contest_id.clone(), selections: marks });
    }
    Ok(PlaintextBallot { style: h.style.to_owned(), contests })
}
