//! A key ceremony run in one process by `n` key-holders whose secrets all live there
//! (`docs/protocol/06-dkg.md`): the tests of every crate, and the demo server, which plays five
//! demo key-holders of a demo-mode campaign. There is no dealer: every key-holder deals its own
//! polynomial and the key comes out of [`dkg::evaluate`] exactly as in production. Never use it
//! for a real election: whoever runs it holds every share.

use rand_core::{CryptoRng, RngCore};

use super::decrypt::{DecryptionError, DecryptionShare, ShareKeys, TotalId, verify_and_combine};
use super::dkg::{self, CeremonyOutcome, CeremonyTranscript, DealerCommitments, EncryptedShare, Polynomial, Signed};
use super::{DealerFault, DkgError, KeyHolderKeys, KeyHolderPublic, KeyShare, Parameters};
use crate::context::base_hash;
use crate::dlog::DlogTable;
use crate::elgamal::{Ciphertext, PublicKey};

/// A ceremony in progress among in-process key-holders, round by round, with every message in
/// a public [`CeremonyTranscript`]. Tests may alter the fields between rounds to simulate a
/// cheating key-holder.
pub struct InProcessCeremony {
    /// `n` and `t`.
    pub params: Parameters,
    /// The base context hash.
    pub context: [u8; 32],
    /// Every key-holder's secret keys, index `l` at position `l − 1`.
    pub keys: Vec<KeyHolderKeys>,
    /// Their public keys.
    pub publics: Vec<KeyHolderPublic>,
    /// Every dealer's polynomial.
    pub polynomials: Vec<Polynomial>,
    /// Every dealer's commitments and proofs, made in round 1 and revealed in round 2.
    pub commitments: Vec<DealerCommitments>,
    /// The public messages so far.
    pub transcript: CeremonyTranscript,
}

impl InProcessCeremony {
    /// `n` new key-holders. Draws, for `l = 1..=n`, [`KeyHolderKeys::generate`]; then
    /// [`InProcessCeremony::with_keys`]'s draws.
    pub fn new<R: RngCore + CryptoRng>(rng: &mut R, context: [u8; 32], n: u32, t: u32) -> Result<Self, DkgError> {
        let keys = (0..n).map(|_| KeyHolderKeys::generate(rng)).collect();
        Self::with_keys(rng, context, keys, t)
    }

    /// Key-holders with the given keys (index = position + 1). Draws every dealer's polynomial,
    /// `l = 1..=n`.
    pub fn with_keys<R: RngCore + CryptoRng>(
        rng: &mut R,
        context: [u8; 32],
        keys: Vec<KeyHolderKeys>,
        t: u32,
    ) -> Result<Self, DkgError> {
        let params = Parameters::new(u32::try_from(keys.len()).unwrap_or(u32::MAX), t)?;
        let publics: Vec<KeyHolderPublic> = keys.iter().zip(1u32..).map(|(k, l)| k.public(l)).collect();
        crate::threshold::check_key_holders(&params, &publics)?;
        let polynomials = params.indices().map(|_| Polynomial::random(&params, rng)).collect();
        Ok(Self {
            params,
            context,
            keys,
            publics,
            polynomials,
            commitments: Vec::new(),
            transcript: CeremonyTranscript::default(),
        })
    }

    /// Round 1: every dealer commits (coefficient proofs) and publishes its signed commitment
    /// hash. Draws, for each dealer in order, `t` proof nonces then 32 signature bytes.
    pub fn round1<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> Result<(), DkgError> {
        self.commitments.clear();
        for (i, (poly, keys)) in (1u32..).zip(self.polynomials.iter().zip(&self.keys)) {
            let c = poly.commit(&self.params, &self.context, i, rng)?;
            let hash = c.commitment_hash(&self.context);
            self.transcript.commitment_hashes.push(Signed::sign(hash, &self.context, keys, rng));
            self.commitments.push(c);
        }
        Ok(())
    }

    /// Round 2: every dealer reveals its commitments and sends its encrypted shares, all signed.
    /// Draws, for each dealer in order, the reveal's signature bytes, then for each recipient in
    /// order the ephemeral secret and the share's signature bytes.
    pub fn round2<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> Result<(), DkgError> {
        for (i, ((poly, keys), c)) in (1u32..).zip(self.polynomials.iter().zip(&self.keys).zip(&self.commitments)) {
            self.transcript.reveals.push(Signed::sign(c.clone(), &self.context, keys, rng));
            for p in self.publics.iter().filter(|p| p.index != i) {
                let share = poly.encrypt_share(&self.context, i, p, rng)?;
                self.transcript.shares.push(Signed::sign(share, &self.context, keys, rng));
            }
        }
        Ok(())
    }

    /// Replaces the share of the same dealer and recipient in the transcript (or adds it).
    pub fn replace_share(&mut self, share: Signed<EncryptedShare>) {
        let (d, r) = (share.message.dealer, share.message.recipient);
        self.transcript.shares.retain(|s| !(s.message.dealer == d && s.message.recipient == r));
        self.transcript.shares.push(share);
    }

    /// Round 3: every recipient checks every share addressed to it against the dealer's revealed
    /// commitments, and complains about each bad one (not about a share whose ephemeral-key proof
    /// fails: that is public already). Returns the number of complaints. Draws,
    /// per complaint in transcript order, the proof nonce and the signature bytes.
    pub fn round3<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> Result<usize, DkgError> {
        let mut complaints = Vec::new();
        for s in &self.transcript.shares {
            let share = &s.message;
            let Some(reveal) = self.transcript.reveals.iter().find(|r| r.message.dealer == share.dealer) else {
                continue;
            };
            let Some(keys) = share.recipient.checked_sub(1).and_then(|k| self.keys.get(k as usize)) else {
                continue;
            };
            if let Err(DkgError::BadShare { fault, .. }) = keys.check_share(&self.context, share, &reveal.message) {
                if matches!(fault, DealerFault::InvalidShareProof { .. }) {
                    continue; // public without a complaint; complaining would be unsafe
                }
                let complaint = keys.complain(&self.context, share, rng)?;
                complaints.push(Signed::sign(complaint, &self.context, keys, rng));
            }
        }
        let count = complaints.len();
        self.transcript.complaints.extend(complaints);
        Ok(count)
    }

    /// Every key-holder derives its share from the transcript ([`dkg::derive_key_share`]).
    /// Returns the outcome and the shares, index `l` at position `l − 1`.
    pub fn finish(&self) -> Result<(CeremonyOutcome, Vec<KeyShare>), DkgError> {
        let outcome = dkg::evaluate(&self.params, &self.context, &self.publics, &self.transcript)?;
        let mut shares = Vec::with_capacity(self.keys.len());
        for ((l, keys), poly) in (1u32..).zip(&self.keys).zip(&self.polynomials) {
            let (o, share) =
                dkg::derive_key_share(&self.params, &self.context, &self.publics, &self.transcript, keys, l, poly)?;
            if o != outcome {
                return Err(DkgError::Mismatch("key-holders computed different outcomes"));
            }
            shares.push(share);
        }
        Ok((outcome, shares))
    }
}

/// A completed ceremony: everything a test needs to encrypt to the joint key and decrypt.
pub struct Ceremony {
    /// `n` and `t`.
    pub params: Parameters,
    /// The base context hash the ceremony is bound to.
    pub base_context: [u8; 32],
    /// The key-holders' public keys.
    pub publics: Vec<KeyHolderPublic>,
    /// The key-holders' secret keys.
    pub keys: Vec<KeyHolderKeys>,
    /// The joint election key.
    pub joint_key: PublicKey,
    /// Every key-holder's share of the election secret, index `l` at position `l − 1`.
    pub shares: Vec<KeyShare>,
    /// The public outcome (qualified dealers, verification keys).
    pub outcome: CeremonyOutcome,
    /// Every signed message of the ceremony.
    pub transcript: CeremonyTranscript,
}

impl Ceremony {
    /// Decrypts `ciphertext` with the shares of the first `t` key-holders: each makes a signed
    /// partial decryption under the extended context, which are verified and combined as in
    /// production. Draws one proof nonce and one signature nonce per key-holder used, in index
    /// order.
    pub fn decrypt<R: RngCore + CryptoRng>(
        &self,
        extended_context: &[u8; 32],
        total: TotalId,
        ciphertext: &Ciphertext,
        table: &DlogTable,
        rng: &mut R,
    ) -> Result<u64, DecryptionError> {
        let partials = self
            .shares
            .iter()
            .zip(&self.keys)
            .take(self.params.t() as usize)
            .map(|(s, k)| s.partial_decrypt(extended_context, total, ciphertext, k.signing_key(), rng))
            .collect::<Result<Vec<DecryptionShare>, _>>()?;
        let keys = ShareKeys::new(&self.outcome.verification_keys, &self.publics)?;
        verify_and_combine(&self.params, extended_context, &keys, total, ciphertext, &partials, table).map(|c| c.count)
    }
}

/// Runs an honest ceremony among `n` new key-holders with threshold `t`, bound to
/// `base_context`. Draws the key-holders' keys, then everything [`run_ceremony_with_keys`] draws.
pub fn run_ceremony<R: RngCore + CryptoRng>(
    rng: &mut R,
    base_context: &[u8; 32],
    n: u32,
    t: u32,
) -> Result<Ceremony, DkgError> {
    let keys = (0..n).map(|_| KeyHolderKeys::generate(rng)).collect();
    run_ceremony_with_keys(rng, base_context, keys, t)
}

/// Runs an honest ceremony among key-holders with the given keys (index = position + 1).
/// Draws, in order: the polynomials, round 1, round 2 (see [`InProcessCeremony`]).
pub fn run_ceremony_with_keys<R: RngCore + CryptoRng>(
    rng: &mut R,
    base_context: &[u8; 32],
    keys: Vec<KeyHolderKeys>,
    t: u32,
) -> Result<Ceremony, DkgError> {
    let mut c = InProcessCeremony::with_keys(rng, *base_context, keys, t)?;
    c.round1(rng)?;
    c.round2(rng)?;
    c.round3(rng)?;
    let (outcome, shares) = c.finish()?;
    let InProcessCeremony { params, context, keys, publics, transcript, .. } = c;
    Ok(Ceremony {
        params,
        base_context: context,
        publics,
        keys,
        joint_key: outcome.joint_key,
        shares,
        outcome,
        transcript,
    })
}

/// Runs an honest ceremony whose base context is the real one of `campaign_id`: draws the `n`
/// key-holders' keys, computes [`base_hash`] over them and `t`, then runs the ceremony.
pub fn run_ceremony_for_campaign<R: RngCore + CryptoRng>(
    rng: &mut R,
    campaign_id: &str,
    n: u32,
    t: u32,
) -> Result<Ceremony, DkgError> {
    let keys: Vec<KeyHolderKeys> = (0..n).map(|_| KeyHolderKeys::generate(rng)).collect();
    let context_keys: Vec<_> = keys.iter().zip(1u32..).map(|(k, l)| k.public(l).context_keys()).collect();
    let base = base_hash(campaign_id, t, &context_keys);
    run_ceremony_with_keys(rng, &base, keys, t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::encrypt;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn helper_ceremony_gives_a_working_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(42);
        let c = run_ceremony_for_campaign(&mut rng, "kg-2026-test", 5, 3).unwrap();
        assert_eq!(c.shares.len(), 5);
        assert_eq!(c.outcome.qualified, vec![1, 2, 3, 4, 5]);
        let (ct, _) = encrypt(&c.joint_key, 12, &mut rng).unwrap();
        let total = TotalId { contest: 0, option: 1 };
        assert_eq!(c.decrypt(&[1u8; 32], total, &ct, &DlogTable::new(100), &mut rng), Ok(12));
        // Deterministic under a seed, as the vector generator needs.
        let again = run_ceremony_for_campaign(&mut ChaCha20Rng::seed_from_u64(42), "kg-2026-test", 5, 3).unwrap();
        assert_eq!(again.joint_key, c.joint_key);
        assert!(run_ceremony(&mut rng, &[0u8; 32], 3, 3).is_err(), "t < n");
    }
}
