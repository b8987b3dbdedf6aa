//! The published transcript of a ceremony and its evaluation (`docs/protocol/06-dkg.md`
//! §Transcript, §Disqualification, §Result): anyone decides from the signed messages which
//! dealers qualify and computes the joint key and every verification key; each key-holder then
//! derives its own key share.

use std::collections::{BTreeMap, BTreeSet};

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::complaints::{Complaint, ComplaintFault, Verdict, judge};
use super::polynomial::{CommitmentHash, DealerCommitments, Polynomial};
use super::shares::EncryptedShare;
use super::signed::{CeremonyMessage, Signed, key_holder};
use crate::elgamal::PublicKey;
use crate::group::GroupElement;
use crate::labels;
use crate::signature::fingerprint;
use crate::threshold::{
    DealerFault, DkgError, KeyHolderKeys, KeyHolderPublic, KeyShare, Parameters, check_key_holders, eval_in_exponent,
};

/// Every message of a ceremony, as relayed and published (§Transcript).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyTranscript {
    /// Round 1: one per dealer.
    pub commitment_hashes: Vec<Signed<CommitmentHash>>,
    /// Round 2: one per dealer.
    pub reveals: Vec<Signed<DealerCommitments>>,
    /// Round 2: one per ordered pair of distinct key-holders.
    pub shares: Vec<Signed<EncryptedShare>>,
    /// Round 3: at most one per (complainer, dealer).
    pub complaints: Vec<Signed<Complaint>>,
}

/// A disqualified dealer and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disqualification {
    /// The dealer.
    pub dealer: u32,
    /// The first fault found (in the order of §Disqualification).
    pub fault: DealerFault,
}

/// A complaint found unfounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnfoundedComplaint {
    /// The complainer (at fault).
    pub complainer: u32,
    /// The dealer it accused.
    pub dealer: u32,
    /// Why the complaint fails.
    pub reason: ComplaintFault,
}

/// The public result of a ceremony (§Result), computable by anyone from the transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyOutcome {
    /// The qualified dealers `Q`, ascending.
    pub qualified: Vec<u32>,
    /// The disqualified dealers, ascending.
    pub disqualified: Vec<Disqualification>,
    /// Complaints found unfounded, in transcript order.
    pub unfounded_complaints: Vec<UnfoundedComplaint>,
    /// The joint election key `K = Σ_{i∈Q} K_{i,0}`.
    pub joint_key: PublicKey,
    /// `VK_l = Σ_{i∈Q} Σ_j l^j·K_{i,j}` for `l = 1..=n`, in index order.
    pub verification_keys: Vec<GroupElement>,
}

impl CeremonyOutcome {
    /// `VK_l` of key-holder `index`.
    pub fn verification_key(&self, index: u32) -> Option<&GroupElement> {
        index.checked_sub(1).and_then(|i| self.verification_keys.get(i as usize))
    }

    /// The joint key's fingerprint for the commission's minutes (kind [`labels::FP_JOINT_KEY`]).
    pub fn joint_key_fingerprint(&self) -> String {
        fingerprint(labels::FP_JOINT_KEY, &self.joint_key.0)
    }
}

/// The transcript's messages after signature and shape checks, indexed.
struct Indexed<'a> {
    hashes: BTreeMap<u32, &'a CommitmentHash>,
    reveals: BTreeMap<u32, &'a DealerCommitments>,
    shares: BTreeMap<(u32, u32), &'a EncryptedShare>,
    complaints: Vec<&'a Complaint>,
}

fn index_transcript<'a>(
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
    transcript: &'a CeremonyTranscript,
) -> Result<Indexed<'a>, DkgError> {
    check_key_holders(params, publics)?;
    let mut hashes = BTreeMap::new();
    for m in &transcript.commitment_hashes {
        let h = m.verify(context, publics)?;
        params.check_index("dealer", h.dealer)?;
        if hashes.insert(h.dealer, h).is_some() {
            return Err(DkgError::DuplicateMessage { kind: CommitmentHash::KIND, sender: h.dealer });
        }
    }
    let mut reveals = BTreeMap::new();
    for m in &transcript.reveals {
        let r = m.verify(context, publics)?;
        r.validate(params)?;
        if reveals.insert(r.dealer, r).is_some() {
            return Err(DkgError::DuplicateMessage { kind: DealerCommitments::KIND, sender: r.dealer });
        }
    }
    let mut shares = BTreeMap::new();
    for m in &transcript.shares {
        let s = m.verify(context, publics)?;
        s.validate(params)?;
        if shares.insert((s.dealer, s.recipient), s).is_some() {
            return Err(DkgError::DuplicateShare { dealer: s.dealer, recipient: s.recipient });
        }
    }
    let mut complaints = Vec::new();
    let mut seen = BTreeSet::new();
    for m in &transcript.complaints {
        let c = m.verify(context, publics)?;
        c.validate(params)?;
        if !seen.insert((c.complainer, c.dealer)) {
            return Err(DkgError::DuplicateComplaint { complainer: c.complainer, dealer: c.dealer });
        }
        complaints.push(c);
    }
    Ok(Indexed { hashes, reveals, shares, complaints })
}

/// The first fault of dealer `i` visible without complaints, in the order of §Disqualification.
fn dealer_fault(
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
    ix: &Indexed<'_>,
    dealer: u32,
) -> Option<DealerFault> {
    let Some(hash) = ix.hashes.get(&dealer) else {
        return Some(DealerFault::NoCommitmentHash);
    };
    let Some(reveal) = ix.reveals.get(&dealer) else {
        return Some(DealerFault::NoReveal);
    };
    if reveal.check_hash(context, hash).is_err() {
        return Some(DealerFault::CommitmentHashMismatch);
    }
    if let Err(DkgError::CoefficientProof { coefficient, .. }) = reveal.verify(params, context) {
        return Some(DealerFault::InvalidCoefficientProof { coefficient });
    }
    params.indices().filter(|&l| l != dealer).find_map(|recipient| {
        let Some(share) = ix.shares.get(&(dealer, recipient)) else {
            return Some(DealerFault::MissingShare { recipient });
        };
        // The list is checked, so the recipient is always found.
        let public = key_holder(publics, recipient).ok()?;
        share.verify(context, public).err().map(|_| DealerFault::InvalidShareProof { recipient })
    })
}

/// Evaluates a ceremony transcript (§Result): checks every signature and shape (any failure is
/// an error: the relaying server must not have accepted such a message), disqualifies dealers
/// (§Disqualification), adjudicates every complaint against a dealer not yet disqualified, and
/// computes the joint key and every verification key. Anyone can run it; it uses no secret.
pub fn evaluate(
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
    transcript: &CeremonyTranscript,
) -> Result<CeremonyOutcome, DkgError> {
    let ix = index_transcript(params, context, publics, transcript)?;
    let mut faults: BTreeMap<u32, DealerFault> =
        params.indices().filter_map(|i| dealer_fault(params, context, publics, &ix, i).map(|f| (i, f))).collect();
    let mut unfounded_complaints = Vec::new();
    for c in &ix.complaints {
        if faults.contains_key(&c.dealer) {
            continue;
        }
        let (Some(reveal), Some(share)) = (ix.reveals.get(&c.dealer), ix.shares.get(&(c.dealer, c.complainer))) else {
            continue; // unreachable: a dealer without them is already disqualified
        };
        let complainer = key_holder(publics, c.complainer)?;
        match judge(context, complainer, reveal, share, c)? {
            Verdict::DealerCheated(fault) => {
                faults.insert(c.dealer, fault);
            }
            Verdict::ComplaintUnfounded(reason) => {
                unfounded_complaints.push(UnfoundedComplaint { complainer: c.complainer, dealer: c.dealer, reason })
            }
        }
    }
    let qualified: Vec<u32> = params.indices().filter(|i| !faults.contains_key(i)).collect();
    if qualified.len() < params.t() as usize {
        return Err(DkgError::TooFewQualified { qualified: qualified.len(), t: params.t() });
    }
    // The joint polynomial's commitments A_j = Σ_{i∈Q} K_{i,j}.
    let mut joint = vec![RistrettoPoint::default(); params.t() as usize];
    for i in &qualified {
        let reveal = ix.reveals.get(i).ok_or(DkgError::Missing { what: "reveal", index: *i })?;
        for (acc, k) in joint.iter_mut().zip(&reveal.commitments) {
            *acc += k.point();
        }
    }
    let joint_key = PublicKey(
        GroupElement::from_point(joint.first().copied().unwrap_or_default())
            .map_err(|_| DkgError::Degenerate("joint key"))?,
    );
    let verification_keys = params
        .indices()
        .map(|l| {
            GroupElement::from_point(eval_in_exponent(l, &joint)).map_err(|_| DkgError::Degenerate("verification key"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CeremonyOutcome {
        qualified,
        disqualified: faults.into_iter().map(|(dealer, fault)| Disqualification { dealer, fault }).collect(),
        unfounded_complaints,
        joint_key,
        verification_keys,
    })
}

/// A key-holder's last step (§Result): evaluates the transcript itself, then sums
/// `x_l = Σ_{i∈Q} s_{i→l}` (its own `f_l(l)` if it is qualified, every other share decrypted and
/// checked) and checks `x_l·G = VK_l`. Errors if `keys` or `polynomial` are not those of
/// key-holder `index` in the transcript, or if a qualified dealer's share is bad (the key-holder
/// should have complained).
pub fn derive_key_share(
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
    transcript: &CeremonyTranscript,
    keys: &KeyHolderKeys,
    index: u32,
    polynomial: &Polynomial,
) -> Result<(CeremonyOutcome, KeyShare), DkgError> {
    let outcome = evaluate(params, context, publics, transcript)?;
    let me = key_holder(publics, index)?;
    if *me != keys.public(index) {
        return Err(DkgError::Mismatch("keys are not those of this key-holder"));
    }
    let ix = index_transcript(params, context, publics, transcript)?;
    let mut x = Zeroizing::new(Scalar::ZERO);
    for &i in &outcome.qualified {
        let reveal = ix.reveals.get(&i).ok_or(DkgError::Missing { what: "reveal", index: i })?;
        if i == index {
            let own = polynomial.commit_points();
            if own.len() != reveal.commitments.len() || own.iter().zip(&reveal.commitments).any(|(a, b)| a != b.point())
            {
                return Err(DkgError::Mismatch("polynomial is not the one this key-holder revealed"));
            }
            *x += polynomial.evaluate(index);
        } else {
            let share = ix.shares.get(&(i, index)).ok_or(DkgError::Missing { what: "share", index: i })?;
            *x += *keys.open(context, share, reveal)?;
        }
    }
    let share = KeyShare::new(index, *x).map_err(|_| DkgError::Degenerate("key share"))?;
    if Some(&share.verification_key()) != outcome.verification_key(index) {
        return Err(DkgError::VerificationKeyMismatch { index });
    }
    Ok((outcome, share))
}
