//! The key ceremony end to end, through [`InProcessCeremony`]: honest runs, every kind of
//! cheating dealer and complainer, and the strict transcript checks.

use super::shares::ephemeral_transcript;
use super::*;
use crate::group::{GroupElement, mul_base, random_nonzero_scalar};
use crate::proofs::schnorr::SchnorrProof;
use crate::testing::InProcessCeremony;
use crate::threshold::{DealerFault, DkgError, Parameters};
use curve25519_dalek::scalar::Scalar;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;

const CTX: [u8; 32] = [7u8; 32];

fn setup(seed: u64) -> (ChaCha20Rng, InProcessCeremony) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let c = InProcessCeremony::new(&mut rng, CTX, 5, 3).unwrap();
    (rng, c)
}

#[test]
fn honest_ceremony_3_of_5() {
    let (mut rng, mut c) = setup(1);
    c.round1(&mut rng).unwrap();
    c.round2(&mut rng).unwrap();
    assert_eq!(c.round3(&mut rng).unwrap(), 0, "no complaints");
    let (outcome, shares) = c.finish().unwrap();
    assert_eq!(outcome.qualified, vec![1, 2, 3, 4, 5]);
    assert!(outcome.disqualified.is_empty() && outcome.unfounded_complaints.is_empty());
    // The joint key is Σ a_{i,0}·G and each x_l·G = VK_l.
    let secret: Scalar = c.polynomials.iter().map(|p| p.evaluate(0)).sum();
    assert_eq!(mul_base(&secret), *outcome.joint_key.point());
    for s in &shares {
        assert_eq!(Some(&s.verification_key()), outcome.verification_key(s.index()));
    }
    // Any t shares interpolate to the joint secret.
    let lambdas = crate::threshold::lagrange_at_zero(&[2, 4, 5]).unwrap();
    let rec: Scalar = [1usize, 3, 4].iter().zip(&lambdas).map(|(&k, l)| l * shares[k].secret()).sum();
    assert_eq!(rec, secret);
    // The transcript and outcome round-trip through JSON, and re-evaluate identically.
    let json = serde_json::to_string(&c.transcript).unwrap();
    let back: CeremonyTranscript = serde_json::from_str(&json).unwrap();
    assert_eq!(evaluate(&c.params, &CTX, &c.publics, &back).unwrap(), outcome);
    let oj = serde_json::to_string(&outcome).unwrap();
    assert_eq!(serde_json::from_str::<CeremonyOutcome>(&oj).unwrap(), outcome);
    assert_eq!(outcome.joint_key_fingerprint().len(), 24);
    assert!(format!("{:?}", c.polynomials[0]).contains("redacted"));
}

#[test]
fn bad_share_is_detected_adjudicated_and_dealer_excluded() {
    let (mut rng, mut c) = setup(2);
    c.round1(&mut rng).unwrap();
    c.round2(&mut rng).unwrap();
    // Dealer 2 sends key-holder 4 a share of another polynomial, properly signed.
    let wrong = Polynomial::random(&c.params, &mut rng);
    let bad = wrong.encrypt_share(&CTX, 2, &c.publics[3], &mut rng).unwrap();
    c.replace_share(Signed::sign(bad.clone(), &CTX, &c.keys[1], &mut rng));
    // Key-holder 4 detects it.
    let reveal2 = &c.transcript.reveals[1].message;
    assert!(matches!(
        c.keys[3].check_share(&CTX, &bad, reveal2),
        Err(DkgError::BadShare { dealer: 2, recipient: 4, fault: DealerFault::ShareMismatch { recipient: 4 } })
    ));
    assert_eq!(c.round3(&mut rng).unwrap(), 1, "one complaint");
    // Anyone adjudicates the complaint from public, signed messages.
    let complaint = c.transcript.complaints[0].clone();
    let share = c.transcript.shares.iter().find(|s| s.message.dealer == 2 && s.message.recipient == 4).unwrap();
    let verdict = adjudicate(&c.params, &CTX, &c.publics, &c.transcript.reveals[1], share, &complaint).unwrap();
    assert_eq!(verdict, Verdict::DealerCheated(DealerFault::ShareMismatch { recipient: 4 }));

    let (outcome, shares) = c.finish().unwrap();
    assert_eq!(outcome.qualified, vec![1, 3, 4, 5]);
    assert_eq!(
        outcome.disqualified,
        vec![Disqualification { dealer: 2, fault: DealerFault::ShareMismatch { recipient: 4 } }]
    );
    // The key excludes dealer 2, and every key-holder (dealer 2 too) holds a working share.
    let secret: Scalar = [0usize, 2, 3, 4].iter().map(|&k| c.polynomials[k].evaluate(0)).sum();
    assert_eq!(mul_base(&secret), *outcome.joint_key.point());
    assert_eq!(shares.len(), 5);
    let lambdas = crate::threshold::lagrange_at_zero(&[1, 2, 4]).unwrap();
    let rec: Scalar = [0usize, 1, 3].iter().zip(&lambdas).map(|(&k, l)| l * shares[k].secret()).sum();
    assert_eq!(rec, secret);
}

#[test]
fn undecryptable_share_condemns_dealer() {
    let (mut rng, mut c) = setup(3);
    c.round1(&mut rng).unwrap();
    c.round2(&mut rng).unwrap();
    // Dealer 5 sends key-holder 1 random bytes, with a valid proof for its ephemeral key: only
    // the complaint can show that they do not decrypt.
    let e = random_nonzero_scalar(&mut rng);
    let ephemeral = GroupElement::from_point(mul_base(&e)).unwrap();
    let mut ciphertext = [0u8; ENCRYPTED_SHARE_LEN];
    rng.fill_bytes(&mut ciphertext);
    let mut t = ephemeral_transcript(&CTX, 5, &c.publics[0], &ephemeral, &ciphertext);
    let proof = SchnorrProof::prove(&mut t, &e, &mut rng).unwrap();
    let bad = EncryptedShare { dealer: 5, recipient: 1, ephemeral, ciphertext, proof };
    bad.verify(&CTX, &c.publics[0]).unwrap();
    c.replace_share(Signed::sign(bad, &CTX, &c.keys[4], &mut rng));
    assert_eq!(c.round3(&mut rng).unwrap(), 1);
    let (outcome, _) = c.finish().unwrap();
    assert_eq!(
        outcome.disqualified,
        vec![Disqualification { dealer: 5, fault: DealerFault::UndecryptableShare { recipient: 1 } }]
    );
}

#[test]
fn copied_ephemeral_key_is_caught_without_a_complaint() {
    let (mut rng, mut c) = setup(10);
    c.round1(&mut rng).unwrap();
    c.round2(&mut rng).unwrap();
    // Dealer 1 sends key-holder 4 a share whose E is 2·E' for the E' of dealer 3's share to 4,
    // hoping that 4's complaint reveals c_4·2·E' and with it dealer 3's share. It cannot prove
    // knowledge of log_G E, so the share is rejected publicly and 4 must not complain.
    let honest =
        c.transcript.shares.iter().find(|s| s.message.dealer == 3 && s.message.recipient == 4).unwrap().message.clone();
    let mut copied = honest.clone();
    copied.dealer = 1;
    copied.ephemeral = GroupElement::from_point(honest.ephemeral.point() + honest.ephemeral.point()).unwrap();
    c.replace_share(Signed::sign(copied.clone(), &CTX, &c.keys[0], &mut rng));
    let fault = DealerFault::InvalidShareProof { recipient: 4 };
    assert_eq!(copied.verify(&CTX, &c.publics[3]), Err(DkgError::BadShare { dealer: 1, recipient: 4, fault }));
    assert_eq!(
        c.keys[3].complain(&CTX, &copied, &mut rng).err(),
        Some(DkgError::BadShare { dealer: 1, recipient: 4, fault })
    );
    assert_eq!(c.round3(&mut rng).unwrap(), 0);
    let (outcome, _) = c.finish().unwrap();
    assert_eq!(outcome.disqualified, vec![Disqualification { dealer: 1, fault }]);
    // The honest share's proof is bound to its dealer, recipient and ciphertext.
    honest.verify(&CTX, &c.publics[3]).unwrap();
    let mut moved = honest.clone();
    moved.ciphertext[5] ^= 1;
    assert!(moved.verify(&CTX, &c.publics[3]).is_err());
    assert!(honest.verify(&CTX, &c.publics[2]).is_err());
}

#[test]
fn unfounded_complaint_is_recognised() {
    let (mut rng, mut c) = setup(4);
    c.round1(&mut rng).unwrap();
    c.round2(&mut rng).unwrap();
    assert_eq!(c.round3(&mut rng).unwrap(), 0);
    // Key-holder 3 complains about a valid share of dealer 1.
    let share = c.transcript.shares.iter().find(|s| s.message.dealer == 1 && s.message.recipient == 3).unwrap().clone();
    let complaint = c.keys[2].complain(&CTX, &share.message, &mut rng).unwrap();
    let signed = Signed::sign(complaint.clone(), &CTX, &c.keys[2], &mut rng);
    let v = adjudicate(&c.params, &CTX, &c.publics, &c.transcript.reveals[0], &share, &signed).unwrap();
    assert_eq!(v, Verdict::ComplaintUnfounded(ComplaintFault::ShareIsValid));
    // A complaint revealing a false S (proof made for another value) is unfounded too.
    let mut forged = complaint;
    forged.shared_secret = c.publics[2].comm_key;
    let forged = Signed::sign(forged, &CTX, &c.keys[2], &mut rng);
    let v = adjudicate(&c.params, &CTX, &c.publics, &c.transcript.reveals[0], &share, &forged).unwrap();
    assert_eq!(v, Verdict::ComplaintUnfounded(ComplaintFault::InvalidProof));

    c.transcript.complaints.push(signed);
    let (outcome, shares) = c.finish().unwrap();
    assert_eq!(outcome.qualified, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        outcome.unfounded_complaints,
        vec![UnfoundedComplaint { complainer: 3, dealer: 1, reason: ComplaintFault::ShareIsValid }]
    );
    assert_eq!(shares.len(), 5);
    // A complaint signed by someone else than the complainer is rejected outright.
    let stolen = Signed::sign(c.transcript.complaints[0].message.clone(), &CTX, &c.keys[0], &mut rng);
    assert!(matches!(
        adjudicate(&c.params, &CTX, &c.publics, &c.transcript.reveals[0], &share, &stolen),
        Err(DkgError::Signature { kind: "complaint", sender: 3 })
    ));
}

#[test]
fn coefficient_proofs_bind_context_and_dealer() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let params = Parameters::new(5, 3).unwrap();
    let poly = Polynomial::random(&params, &mut rng);
    let reveal = poly.commit(&params, &CTX, 2, &mut rng).unwrap();
    reveal.verify(&params, &CTX).unwrap();
    assert!(matches!(
        reveal.verify(&params, &[8u8; 32]),
        Err(DkgError::CoefficientProof { dealer: 2, coefficient: 0 })
    ));
    let mut other_dealer = reveal.clone();
    other_dealer.dealer = 3;
    assert!(matches!(other_dealer.verify(&params, &CTX), Err(DkgError::CoefficientProof { dealer: 3, .. })));
    // Proofs are bound to all commitments and to their own index.
    let mut swapped = reveal.clone();
    swapped.proofs.swap(0, 1);
    assert!(swapped.verify(&params, &CTX).is_err());
    let mut altered = reveal.clone();
    altered.commitments[2] = altered.commitments[1];
    assert!(matches!(altered.verify(&params, &CTX), Err(DkgError::CoefficientProof { coefficient: 0, .. })));
    let mut altered = reveal.clone();
    altered.proofs[1].response += Scalar::ONE;
    assert!(matches!(altered.verify(&params, &CTX), Err(DkgError::CoefficientProof { coefficient: 1, .. })));
    // Shape: t commitments and proofs, dealer in range.
    let mut short = reveal.clone();
    short.commitments.pop();
    assert!(matches!(short.verify(&params, &CTX), Err(DkgError::WrongCount { what: "commitments", .. })));
    let mut far = reveal.clone();
    far.dealer = 6;
    assert!(matches!(far.validate(&params), Err(DkgError::IndexOutOfRange { index: 6, .. })));
    // Batched verification agrees.
    let mut batch = crate::proofs::BatchVerifier::new(&mut rng);
    reveal.verify_into(&params, &CTX, &mut batch).unwrap();
    batch.finish().unwrap();
}

#[test]
fn commit_then_reveal_mismatch_disqualifies() {
    let (mut rng, mut c) = setup(6);
    c.round1(&mut rng).unwrap();
    // Dealer 3 reveals commitments of a polynomial other than the one it committed to (as a
    // rushing dealer adapting to others' reveals would), with valid proofs and signature.
    let other = Polynomial::random(&c.params, &mut rng);
    c.commitments[2] = other.commit(&c.params, &CTX, 3, &mut rng).unwrap();
    c.polynomials[2] = other;
    c.round2(&mut rng).unwrap();
    let reveal = &c.transcript.reveals[2].message;
    assert!(reveal.verify(&c.params, &CTX).is_ok());
    assert_eq!(
        reveal.check_hash(&CTX, &c.transcript.commitment_hashes[2].message),
        Err(DkgError::CommitmentHashMismatch { dealer: 3 })
    );
    c.round3(&mut rng).unwrap();
    let (outcome, _) = c.finish().unwrap();
    assert_eq!(outcome.disqualified, vec![Disqualification { dealer: 3, fault: DealerFault::CommitmentHashMismatch }]);
    assert_eq!(outcome.qualified, vec![1, 2, 4, 5]);
}

#[test]
fn signatures_bind_sender_and_context() {
    let (mut rng, mut c) = setup(7);
    c.round1(&mut rng).unwrap();
    let msg = c.transcript.commitment_hashes[0].clone();
    msg.verify(&CTX, &c.publics).unwrap();
    // Signed by key-holder 2 but claiming to come from dealer 1: rejected.
    let forged = Signed::sign(msg.message, &CTX, &c.keys[1], &mut rng);
    assert_eq!(forged.verify(&CTX, &c.publics), Err(DkgError::Signature { kind: "commitment-hash", sender: 1 }));
    // Another context, an altered message: rejected.
    assert!(msg.verify(&[0u8; 32], &c.publics).is_err());
    let mut altered = msg.clone();
    altered.message.hash[0] ^= 1;
    assert!(altered.verify(&CTX, &c.publics).is_err());
    // Unknown sender.
    let mut far = msg.clone();
    far.message.dealer = 9;
    assert!(matches!(far.verify(&CTX, &c.publics), Err(DkgError::IndexOutOfRange { index: 9, .. })));
    // A forged message in the transcript makes evaluation fail.
    c.transcript.commitment_hashes[0] = forged;
    c.round2(&mut rng).unwrap();
    assert!(matches!(c.finish(), Err(DkgError::Signature { .. })));
}

#[test]
fn strict_transcript_checks() {
    let (mut rng, mut c) = setup(8);
    c.round1(&mut rng).unwrap();
    c.round2(&mut rng).unwrap();
    let good = c.transcript.clone();
    // Duplicate messages.
    c.transcript.commitment_hashes.push(c.transcript.commitment_hashes[0].clone());
    assert_eq!(c.finish().err(), Some(DkgError::DuplicateMessage { kind: "commitment-hash", sender: 1 }));
    c.transcript = good.clone();
    c.transcript.shares.push(c.transcript.shares[0].clone());
    assert!(matches!(c.finish(), Err(DkgError::DuplicateShare { dealer: 1, recipient: 2 })));
    // A share to oneself.
    c.transcript = good.clone();
    let mut own = c.transcript.shares[0].message.clone();
    own.recipient = 1;
    let own = Signed::sign(own, &CTX, &c.keys[0], &mut rng);
    c.transcript.shares.push(own);
    assert_eq!(c.finish().err(), Some(DkgError::SelfAddressed { index: 1 }));
    // A missing share disqualifies its dealer.
    c.transcript = good.clone();
    c.transcript.shares.retain(|s| !(s.message.dealer == 4 && s.message.recipient == 2));
    let (outcome, _) = c.finish().unwrap();
    assert_eq!(
        outcome.disqualified,
        vec![Disqualification { dealer: 4, fault: DealerFault::MissingShare { recipient: 2 } }]
    );
    // A missing reveal too; with three dealers out, fewer than t remain.
    c.transcript = good.clone();
    c.transcript.reveals.retain(|r| r.message.dealer > 3);
    assert_eq!(c.finish().err(), Some(DkgError::TooFewQualified { qualified: 2, t: 3 }));
    // Strict JSON: wrong ciphertext length, unknown fields, identity points.
    let json = serde_json::to_value(&good.shares[0]).unwrap();
    let mut short = json.clone();
    short["message"]["ciphertext"] = serde_json::Value::String("00".repeat(47));
    assert!(serde_json::from_value::<Signed<EncryptedShare>>(short).is_err());
    let mut extra = json.clone();
    extra["message"]["extra"] = serde_json::Value::Bool(true);
    assert!(serde_json::from_value::<Signed<EncryptedShare>>(extra).is_err());
    let mut ident = json;
    ident["message"]["ephemeral"] = serde_json::Value::String("00".repeat(32));
    assert!(serde_json::from_value::<Signed<EncryptedShare>>(ident).is_err());
    assert!(serde_json::from_value::<Signed<EncryptedShare>>(serde_json::to_value(&good.shares[0]).unwrap()).is_ok());
}

#[test]
fn key_share_derivation_checks_its_inputs() {
    let (mut rng, mut c) = setup(9);
    c.round1(&mut rng).unwrap();
    c.round2(&mut rng).unwrap();
    // Another key-holder's keys or polynomial are refused.
    assert_eq!(
        derive_key_share(&c.params, &CTX, &c.publics, &c.transcript, &c.keys[0], 2, &c.polynomials[1]).err(),
        Some(DkgError::Mismatch("keys are not those of this key-holder"))
    );
    assert_eq!(
        derive_key_share(&c.params, &CTX, &c.publics, &c.transcript, &c.keys[1], 2, &c.polynomials[0]).err(),
        Some(DkgError::Mismatch("polynomial is not the one this key-holder revealed"))
    );
    // A recipient that did not complain about a bad share cannot derive its key share.
    let wrong = Polynomial::random(&c.params, &mut rng);
    let bad = wrong.encrypt_share(&CTX, 1, &c.publics[1], &mut rng).unwrap();
    c.replace_share(Signed::sign(bad, &CTX, &c.keys[0], &mut rng));
    assert!(matches!(
        derive_key_share(&c.params, &CTX, &c.publics, &c.transcript, &c.keys[1], 2, &c.polynomials[1]),
        Err(DkgError::BadShare { dealer: 1, recipient: 2, .. })
    ));
    // Storage round trip of the polynomial.
    let p2 = Polynomial::from_bytes(&c.params, &c.polynomials[0].to_bytes()).unwrap();
    assert_eq!(p2.evaluate(3), c.polynomials[0].evaluate(3));
    assert!(Polynomial::from_bytes(&c.params, &[0u8; 96]).is_err());
    assert!(Polynomial::from_bytes(&c.params, &[1u8; 64]).is_err());
}
