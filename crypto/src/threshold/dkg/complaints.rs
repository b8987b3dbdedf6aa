//! Complaints and their adjudication (`docs/protocol/06-dkg.md` §Round 3, §Complaints): a
//! recipient whose share is wrong reveals the share's Diffie–Hellman value with a proof, and
//! anyone decides from the signed messages whether the dealer or the complainer is at fault.

use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::polynomial::{DealerCommitments, check_two_key_holders};
use super::shares::{EncryptedShare, open_share};
use super::signed::{CeremonyMessage, Signed, key_holder};
use crate::group::GroupElement;
use crate::labels;
use crate::proofs::DirectCheck;
use crate::proofs::dleq::DleqProof;
use crate::threshold::{
    DealerFault, DkgError, KeyHolderKeys, KeyHolderPublic, Parameters, check_key_holders, transcript_with_context,
};
use crate::transcript::TranscriptProtocol;

/// The transcript of a complaint's proof (§Complaints): context, complainer, dealer, the
/// complainer's communication key `C`, the share's `E` and ciphertext, and the revealed `S`.
fn complaint_transcript(
    context: &[u8; 32],
    comm_key: &GroupElement,
    share: &EncryptedShare,
    shared: &GroupElement,
) -> Transcript {
    let mut t = transcript_with_context(labels::DS_DKG_COMPLAINT, context);
    t.append_u64(labels::L_COMPLAINER, u64::from(share.recipient));
    t.append_u64(labels::L_DEALER, u64::from(share.dealer));
    t.append_element(labels::L_CAP_C, comm_key);
    t.append_element(labels::L_CAP_E, &share.ephemeral);
    t.append_message(labels::L_CIPHERTEXT, &share.ciphertext);
    t.append_element(labels::L_CAP_S, shared);
    t
}

impl KeyHolderKeys {
    /// A complaint against the dealer of `share` (§Complaints): reveals `S = c·E` with a proof
    /// that `log_G C = log_E S`. Refuses (with [`DealerFault::InvalidShareProof`]) a share whose
    /// ephemeral key comes without a valid proof of knowledge: revealing `c·E` for an `E` the
    /// dealer may have copied from another dealer would disclose that dealer's share. Draws the
    /// proof's nonce (64 bytes).
    pub fn complain<R: RngCore + CryptoRng>(
        &self,
        context: &[u8; 32],
        share: &EncryptedShare,
        rng: &mut R,
    ) -> Result<Complaint, DkgError> {
        share.verify(context, &self.public(share.recipient))?;
        let shared = GroupElement::from_nonzero_multiple(self.comm_secret() * share.ephemeral.point());
        let mut t = complaint_transcript(context, &self.comm_key(), share, &shared);
        let proof = DleqProof::prove(&mut t, share.ephemeral.point(), self.comm_secret(), rng)?;
        Ok(Complaint { complainer: share.recipient, dealer: share.dealer, shared_secret: shared, proof })
    }
}

/// A publicly verifiable complaint of key-holder `l` against dealer `i` (§Complaints).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Complaint {
    /// The complaining recipient `l`.
    pub complainer: u32,
    /// The accused dealer `i`.
    pub dealer: u32,
    /// `S = c_l·E`, which lets anyone derive the share's AEAD key.
    pub shared_secret: GroupElement,
    /// Proof that `log_G C_l = log_E S`.
    pub proof: DleqProof,
}

impl Complaint {
    /// Checks the indices: both in range and different.
    pub fn validate(&self, params: &Parameters) -> Result<(), DkgError> {
        check_two_key_holders(params, ("complainer", self.complainer), ("dealer", self.dealer))
    }
}

/// Why a complaint is unfounded: the complainer, not the dealer, is at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Error)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ComplaintFault {
    /// The Chaum–Pedersen proof does not verify: `S` is not `c_l·E`.
    #[error("the complaint's proof is invalid")]
    InvalidProof,
    /// The revealed share decrypts and matches the dealer's commitments.
    #[error("the disputed share is valid")]
    ShareIsValid,
}

/// The outcome of [`adjudicate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The dealer cheated and is disqualified.
    DealerCheated(DealerFault),
    /// The complaint is unfounded; the complainer is at fault.
    ComplaintUnfounded(ComplaintFault),
}

/// Decides a complaint whose messages' signatures and shapes are checked and whose dealer's
/// commitments are verified.
pub(super) fn judge(
    context: &[u8; 32],
    complainer: &KeyHolderPublic,
    commitments: &DealerCommitments,
    share: &EncryptedShare,
    complaint: &Complaint,
) -> Result<Verdict, DkgError> {
    if complaint.dealer != share.dealer || complaint.complainer != share.recipient || commitments.dealer != share.dealer
    {
        return Err(DkgError::Mismatch("complaint, share and commitments must name one dealer and recipient"));
    }
    if let Err(DkgError::BadShare { fault, .. }) = share.verify(context, complainer) {
        return Ok(Verdict::DealerCheated(fault));
    }
    let complainer_comm_key = &complainer.comm_key;
    let mut t = complaint_transcript(context, complainer_comm_key, share, &complaint.shared_secret);
    if complaint
        .proof
        .verify(
            &mut t,
            complainer_comm_key.point(),
            share.ephemeral.point(),
            complaint.shared_secret.point(),
            &mut DirectCheck::default(),
        )
        .is_err()
    {
        return Ok(Verdict::ComplaintUnfounded(ComplaintFault::InvalidProof));
    }
    Ok(match open_share(context, share, &complaint.shared_secret, commitments) {
        Err(fault) => Verdict::DealerCheated(fault),
        Ok(_) => Verdict::ComplaintUnfounded(ComplaintFault::ShareIsValid),
    })
}

/// Decides a complaint publicly (§Complaints): checks the three messages' signatures, that they
/// concern one dealer and recipient, the dealer's coefficient proofs and the share's
/// ephemeral-key proof (failing proofs condemn the dealer); then the complaint's proof (failing:
/// unfounded), re-derives the AEAD key from the revealed `S`, decrypts the dealer's signed share
/// and checks it against the commitments.
pub fn adjudicate(
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
    reveal: &Signed<DealerCommitments>,
    share: &Signed<EncryptedShare>,
    complaint: &Signed<Complaint>,
) -> Result<Verdict, DkgError> {
    check_key_holders(params, publics)?;
    let r = reveal.verify(context, publics)?;
    let s = share.verify(context, publics)?;
    let c = complaint.verify(context, publics)?;
    r.validate(params)?;
    s.validate(params)?;
    c.validate(params)?;
    let complainer = key_holder(publics, c.complainer)?;
    if r.dealer != s.dealer {
        return Err(DkgError::Mismatch("reveal and share of different dealers"));
    }
    if let Err(DkgError::CoefficientProof { coefficient, .. }) = r.verify(params, context) {
        return Ok(Verdict::DealerCheated(DealerFault::InvalidCoefficientProof { coefficient }));
    }
    judge(context, complainer, r, s, c)
}

/// What the sender signs (`docs/protocol/06-dkg.md` §Signed messages, kind `complaint`).
impl CeremonyMessage for Complaint {
    const KIND: &'static str = labels::DKG_KIND_COMPLAINT;
    fn sender(&self) -> u32 {
        self.complainer
    }
    fn append_content(&self, t: &mut Transcript) {
        t.append_u64(labels::L_COMPLAINER, u64::from(self.complainer));
        t.append_u64(labels::L_DEALER, u64::from(self.dealer));
        t.append_element(labels::L_CAP_S, &self.shared_secret);
        t.append_element(labels::L_CAP_A, &self.proof.a);
        t.append_element(labels::L_CAP_B, &self.proof.b);
        t.append_scalar(labels::L_Z, &self.proof.response);
    }
}
