//! A dealer's polynomial and its Feldman commitments (`docs/protocol/06-dkg.md` §Polynomial,
//! §Coefficient proofs, §Round 1): the secret polynomial, the commitments revealed in round 2
//! with a Schnorr proof per coefficient, and the round-1 hash that commits to them.

use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::signed::CeremonyMessage;
use crate::error::DecodeError;
use crate::group::{GroupElement, bytes_hex, decode_scalar, mul_base, random_nonzero_scalar};
use crate::labels;
use crate::proofs::schnorr::SchnorrProof;
use crate::proofs::{DirectCheck, EquationSink};
use crate::threshold::{DkgError, Parameters, eval_in_exponent, transcript_with_context};
use crate::transcript::TranscriptProtocol;

/// A dealer's secret polynomial `f(x) = a_0 + a_1·x + … + a_{t−1}·x^{t−1}` (§Polynomial).
/// Zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Polynomial {
    coefficients: Vec<Scalar>,
}

impl Polynomial {
    /// A random polynomial of degree `t − 1`. Draws `a_0, …, a_{t−1}` in that order, each 64
    /// bytes (again while zero: a zero coefficient would make its commitment the identity).
    pub fn random<R: RngCore + CryptoRng>(params: &Parameters, rng: &mut R) -> Self {
        Self { coefficients: (0..params.t()).map(|_| random_nonzero_scalar(rng)).collect() }
    }

    /// The number of coefficients `t`.
    pub fn threshold(&self) -> usize {
        self.coefficients.len()
    }

    /// The coefficients' canonical encodings concatenated (`32·t` bytes), for storage encrypted
    /// under the key-holder's passphrase.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(32 * self.coefficients.len()));
        for a in &self.coefficients {
            out.extend_from_slice(a.as_bytes());
        }
        out
    }

    /// Decodes [`Polynomial::to_bytes`]: `t` canonical non-zero scalars.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self, DkgError> {
        let t = params.t() as usize;
        if bytes.len() != 32 * t {
            return Err(DecodeError::Length { expected: 32 * t, actual: bytes.len() }.into());
        }
        let mut coefficients = Vec::with_capacity(t);
        for chunk in bytes.chunks_exact(32) {
            let a = decode_scalar(chunk)?;
            if a == Scalar::ZERO {
                return Err(DecodeError::ZeroScalar.into());
            }
            coefficients.push(a);
        }
        Ok(Self { coefficients })
    }

    /// `f(x)` by Horner's rule.
    pub(crate) fn evaluate(&self, x: u32) -> Scalar {
        let xs = Scalar::from(x);
        self.coefficients.iter().rev().fold(Scalar::ZERO, |acc, a| acc * xs + a)
    }

    /// The Feldman commitments `K_j = a_j·G` with a Schnorr proof of knowledge of every `a_j`
    /// (§Coefficient proofs). Draws one Schnorr nonce (64 bytes) per coefficient, `j = 0, …, t−1`.
    pub fn commit<R: RngCore + CryptoRng>(
        &self,
        params: &Parameters,
        context: &[u8; 32],
        dealer: u32,
        rng: &mut R,
    ) -> Result<DealerCommitments, DkgError> {
        params.check_index("dealer", dealer)?;
        check_count("polynomial coefficients", params.t(), self.coefficients.len())?;
        let commitments: Vec<GroupElement> =
            self.coefficients.iter().map(|a| GroupElement::from_nonzero_multiple(mul_base(a))).collect();
        let mut proofs = Vec::with_capacity(commitments.len());
        for (j, a) in (0u32..).zip(&self.coefficients) {
            let mut t = coefficient_transcript(context, dealer, &commitments, j);
            proofs.push(SchnorrProof::prove(&mut t, a, rng)?);
        }
        Ok(DealerCommitments { dealer, commitments, proofs })
    }
}

impl fmt::Debug for Polynomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Polynomial(t={}, coefficients=<redacted>)", self.coefficients.len())
    }
}

/// Both indices in `1..=n` and different (a key-holder neither deals to nor accuses itself).
pub(super) fn check_two_key_holders(
    params: &Parameters,
    a: (&'static str, u32),
    b: (&'static str, u32),
) -> Result<(), DkgError> {
    params.check_index(a.0, a.1)?;
    params.check_index(b.0, b.1)?;
    if a.1 == b.1 {
        return Err(DkgError::SelfAddressed { index: a.1 });
    }
    Ok(())
}

fn check_count(what: &'static str, expected: u32, actual: usize) -> Result<(), DkgError> {
    if actual != expected as usize {
        return Err(DkgError::WrongCount { what, expected: expected as usize, actual });
    }
    Ok(())
}

/// The transcript of the proof for coefficient `j` (§Coefficient proofs): context, dealer, `t`,
/// every commitment of the dealer, then `j`.
fn coefficient_transcript(context: &[u8; 32], dealer: u32, commitments: &[GroupElement], j: u32) -> Transcript {
    let mut t = transcript_with_context(labels::DS_DKG_COEFFICIENT, context);
    t.append_u64(labels::L_DEALER, u64::from(dealer));
    t.append_u64(labels::L_T, commitments.len() as u64);
    for k in commitments {
        t.append_element(labels::L_CAP_K, k);
    }
    t.append_u64(labels::L_J, u64::from(j));
    t
}

/// A dealer's Feldman commitments `K_{i,0..t−1}` and their Schnorr proofs: the round-2 reveal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealerCommitments {
    /// The dealer's index `i`.
    pub dealer: u32,
    /// `K_{i,j} = a_{i,j}·G` for `j = 0, …, t−1`.
    pub commitments: Vec<GroupElement>,
    /// A proof of knowledge of `a_{i,j}` for every `j`.
    pub proofs: Vec<SchnorrProof>,
}

impl DealerCommitments {
    /// Checks the shape: the dealer index is in range, exactly `t` commitments and `t` proofs.
    pub fn validate(&self, params: &Parameters) -> Result<(), DkgError> {
        params.check_index("dealer", self.dealer)?;
        check_count("commitments", params.t(), self.commitments.len())?;
        check_count("coefficient proofs", params.t(), self.proofs.len())
    }

    /// The round-1 commitment hash (§Round 1): context, dealer, `t`, every `K_j`, then every
    /// proof's `A_j` and `z_j`, squeezed as 32 bytes under `commitment-hash`.
    pub fn hash(&self, context: &[u8; 32]) -> [u8; 32] {
        let mut t = transcript_with_context(labels::DS_DKG_COMMIT, context);
        t.append_u64(labels::L_DEALER, u64::from(self.dealer));
        t.append_u64(labels::L_T, self.commitments.len() as u64);
        for k in &self.commitments {
            t.append_element(labels::L_CAP_K, k);
        }
        for p in &self.proofs {
            t.append_element(labels::L_CAP_A, &p.commitment);
            t.append_scalar(labels::L_Z, &p.response);
        }
        t.challenge_32(labels::L_COMMITMENT_HASH)
    }

    /// The round-1 message committing to these commitments.
    pub fn commitment_hash(&self, context: &[u8; 32]) -> CommitmentHash {
        CommitmentHash { dealer: self.dealer, hash: self.hash(context) }
    }

    /// Checks the reveal against the dealer's round-1 hash.
    pub fn check_hash(&self, context: &[u8; 32], committed: &CommitmentHash) -> Result<(), DkgError> {
        if committed.dealer != self.dealer {
            return Err(DkgError::Mismatch("commitment hash of another dealer"));
        }
        if committed.hash != self.hash(context) {
            return Err(DkgError::CommitmentHashMismatch { dealer: self.dealer });
        }
        Ok(())
    }

    /// Adds the equations of every coefficient proof to `sink` (for batching). Checks the shape
    /// first.
    pub fn verify_into<S: EquationSink>(
        &self,
        params: &Parameters,
        context: &[u8; 32],
        sink: &mut S,
    ) -> Result<(), DkgError> {
        self.validate(params)?;
        for ((j, k), proof) in (0u32..).zip(&self.commitments).zip(&self.proofs) {
            let mut t = coefficient_transcript(context, self.dealer, &self.commitments, j);
            proof
                .verify(&mut t, k, sink)
                .map_err(|_| DkgError::CoefficientProof { dealer: self.dealer, coefficient: j })?;
        }
        Ok(())
    }

    /// Verifies every coefficient proof, naming the first that fails.
    pub fn verify(&self, params: &Parameters, context: &[u8; 32]) -> Result<(), DkgError> {
        self.verify_into(params, context, &mut DirectCheck::default())
    }

    /// `Σ_j l^j·K_{i,j}`: what `s_{i→l}·G` must equal (§Round 3).
    pub fn expected_share(&self, recipient: u32) -> RistrettoPoint {
        eval_in_exponent(recipient, self.commitments.iter().map(|k| k.point()))
    }
}

/// The round-1 message: a dealer's commitment hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentHash {
    /// The dealer's index.
    pub dealer: u32,
    /// [`DealerCommitments::hash`] of the commitments the dealer will reveal.
    #[serde(with = "bytes_hex")]
    pub hash: [u8; 32],
}

/// What the sender signs (`docs/protocol/06-dkg.md` §Signed messages, kind `commitment-hash`).
impl CeremonyMessage for CommitmentHash {
    const KIND: &'static str = labels::DKG_KIND_COMMITMENT_HASH;
    fn sender(&self) -> u32 {
        self.dealer
    }
    fn append_content(&self, t: &mut Transcript) {
        t.append_u64(labels::L_DEALER, u64::from(self.dealer));
        t.append_message(labels::L_HASH, &self.hash);
    }
}

/// What the sender signs (`docs/protocol/06-dkg.md` §Signed messages, kind `reveal`).
impl CeremonyMessage for DealerCommitments {
    const KIND: &'static str = labels::DKG_KIND_REVEAL;
    fn sender(&self) -> u32 {
        self.dealer
    }
    fn append_content(&self, t: &mut Transcript) {
        t.append_u64(labels::L_DEALER, u64::from(self.dealer));
        t.append_u64(labels::L_COUNT, self.commitments.len() as u64);
        for k in &self.commitments {
            t.append_element(labels::L_CAP_K, k);
        }
        t.append_u64(labels::L_COUNT, self.proofs.len() as u64);
        for p in &self.proofs {
            t.append_element(labels::L_CAP_A, &p.commitment);
            t.append_scalar(labels::L_Z, &p.response);
        }
    }
}

impl Polynomial {
    pub(super) fn commit_points(&self) -> Vec<RistrettoPoint> {
        self.coefficients.iter().map(mul_base).collect()
    }
}
