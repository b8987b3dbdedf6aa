//! Signed round messages of the filter (`docs/protocol/13-revoting.md` §6.3): every round message
//! but round 1's travels and is published as a header, a body and the sender's signature by its
//! key-holder signing key (06-dkg.md §Keys) over the header. The header binds the extended
//! context, the message kind, the sender, the run and its opening nonce O, F, the round, the
//! style, `previous` (the
//! digest of everything the sender verified before it signed: [`round_digest`]) and the body by
//! its size and SHA-256, so that a body of hundreds of megabytes is signed without passing
//! through a Merlin message.
//!
//! Building block: the run (`drive.rs`, `member.rs`) does not sign its messages yet.

use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::group::bytes_hex;
use crate::labels;
use crate::signature::{Signature, VerifyingKey};
use crate::threshold::KeyHolderKeys;
use crate::transcript::TranscriptProtocol;

/// The kind of a round message (§6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Round 0.
    Keys,
    /// Round 2.
    Names,
    /// Round 3.
    Sanitation,
    /// Round 4.
    SanitationDecryptions,
    /// Round 5.
    Shuffles,
    /// Round 6.
    Tags,
    /// Round 7.
    TagDecryptions,
    /// Round 8.
    Pet,
    /// Round 9.
    PetDecryptions,
    /// Round 10.
    Selection,
    /// Round 11.
    Weight,
    /// Round 12: a member's acceptance of TL-3.
    Accept,
    /// A member stops the run (§6.7).
    Abort,
}

impl Kind {
    /// The kind's name as §6.2 writes it and the header appends it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keys => "keys",
            Self::Names => "names",
            Self::Sanitation => "sanitation",
            Self::SanitationDecryptions => "sanitation-decryptions",
            Self::Shuffles => "shuffles",
            Self::Tags => "tags",
            Self::TagDecryptions => "tag-decryptions",
            Self::Pet => "pet",
            Self::PetDecryptions => "pet-decryptions",
            Self::Selection => "selection",
            Self::Weight => "weight",
            Self::Accept => "accept",
            Self::Abort => "abort",
        }
    }

    /// The round a message of this kind belongs to (`None` for an abort, which names its own).
    pub fn round(self) -> Option<u64> {
        Some(match self {
            Self::Keys => 0,
            Self::Names => 2,
            Self::Sanitation => 3,
            Self::SanitationDecryptions => 4,
            Self::Shuffles => 5,
            Self::Tags => 6,
            Self::TagDecryptions => 7,
            Self::Pet => 8,
            Self::PetDecryptions => 9,
            Self::Selection => 10,
            Self::Weight => 11,
            Self::Accept => 12,
            Self::Abort => return None,
        })
    }
}

/// The signed header of a round message (§6.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The kind.
    pub kind: Kind,
    /// The sender, a member of F.
    pub sender: u32,
    /// The run, from 1.
    pub run: u64,
    /// The run's opening nonce O (§6.5): two openings of one run number are two runs.
    #[serde(with = "bytes_hex")]
    pub opening: [u8; 32],
    /// F: t distinct key-holders, ascending.
    pub filter: Vec<u32>,
    /// The round: the kind's, or for an abort the round it stops.
    pub round: u64,
    /// The style id; `""` for round 0 and a run-level abort.
    pub style: String,
    /// The chain: the digest of what the sender verified before it signed.
    #[serde(with = "bytes_hex")]
    pub previous: [u8; 32],
    /// The number of body bytes.
    pub body_size: u64,
    /// SHA-256 of the body bytes.
    #[serde(with = "bytes_hex")]
    pub body: [u8; 32],
}

/// Why a header is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The header breaks a rule of §6.2–6.3 before any signature is checked.
    #[error("malformed header: {0}")]
    Malformed(&'static str),
    /// The body is not the one the header names.
    #[error("the body's size or SHA-256 differs from the header's")]
    Body,
    /// The signature does not verify under the sender's key.
    #[error("the signature of member {0} does not verify")]
    Signature(u32),
    /// Two messages of one round come from one sender (§6.3).
    #[error("member {0} sent two messages in one round")]
    Twice(u32),
}

impl Header {
    /// The header of `body` (its size and SHA-256 taken from the bytes).
    #[allow(clippy::too_many_arguments)]
    pub fn for_body(
        kind: Kind,
        sender: u32,
        (run, opening): (u64, [u8; 32]),
        filter: &[u32],
        round: u64,
        style: &str,
        previous: [u8; 32],
        body: &[u8],
    ) -> Self {
        Self {
            kind,
            sender,
            run,
            opening,
            filter: filter.to_vec(),
            round,
            style: style.to_owned(),
            previous,
            body_size: body.len() as u64,
            body: Sha256::digest(body).into(),
        }
    }

    /// The rules a header keeps whatever its signature: F ascending and non-empty, the sender in
    /// F, a run from 1, the kind's own round (an abort's at most 12), round 0 with no style.
    pub fn check(&self) -> Result<(), HeaderError> {
        let m = HeaderError::Malformed;
        if self.filter.is_empty() || !self.filter.windows(2).all(|w| w[0] < w[1]) || self.filter[0] == 0 {
            return Err(m("F must be distinct key-holder indices (from 1), ascending"));
        }
        if !self.filter.contains(&self.sender) {
            return Err(m("the sender is not a member of F"));
        }
        if self.run == 0 {
            return Err(m("runs are numbered from 1"));
        }
        match self.kind.round() {
            Some(r) if r != self.round => return Err(m("the round is not the kind's")),
            None if self.round > 12 => return Err(m("an abort names a round of 0 … 12")),
            _ => {}
        }
        if self.kind == Kind::Keys && !self.style.is_empty() {
            return Err(m("round 0 is a message of the whole run: its style is empty"));
        }
        if self.kind != Kind::Keys && self.kind != Kind::Abort && self.style.is_empty() {
            return Err(m("a message of rounds 2 … 12 names its style"));
        }
        Ok(())
    }

    /// Checks that `body` is the body this header names (its size and SHA-256).
    pub fn check_body(&self, body: &[u8]) -> Result<(), HeaderError> {
        let hash: [u8; 32] = Sha256::digest(body).into();
        if body.len() as u64 != self.body_size || hash != self.body {
            return Err(HeaderError::Body);
        }
        Ok(())
    }

    /// The transcript the sender signs (§6.3), under the extended hash `context`.
    fn transcript(&self, context: &[u8; 32]) -> Transcript {
        let mut t = Transcript::protocol(labels::DS_FILTER_MESSAGE);
        t.append_message(labels::L_CONTEXT, context);
        t.append_str(labels::L_KIND, self.kind.as_str());
        t.append_u64(labels::L_SENDER, u64::from(self.sender));
        t.append_u64(labels::L_RUN, self.run);
        t.append_message(labels::L_OPENING, &self.opening);
        t.append_u64(labels::L_FILTER, self.filter.len() as u64);
        for j in &self.filter {
            t.append_u64(labels::L_MEMBER, u64::from(*j));
        }
        t.append_u64(labels::L_ROUND, self.round);
        t.append_str(labels::L_STYLE, &self.style);
        t.append_message(labels::L_PREVIOUS, &self.previous);
        t.append_u64(labels::L_BODY_SIZE, self.body_size);
        t.append_message(labels::L_BODY, &self.body);
        t
    }
}

/// A header with its sender's signature (§6.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHeader {
    /// The header.
    pub header: Header,
    /// The sender's Schnorr signature (04-proofs.md §Signatures) over the header's transcript.
    pub signature: Signature,
}

impl SignedHeader {
    /// Signs `header` with the sender's key-holder signing key (32 fresh bytes hedge the nonce).
    /// Refuses a header that breaks [`Header::check`].
    pub fn sign<R: RngCore + CryptoRng>(
        header: Header,
        context: &[u8; 32],
        keys: &KeyHolderKeys,
        rng: &mut R,
    ) -> Result<Self, HeaderError> {
        header.check()?;
        let signature = keys.signing_key().sign(&mut header.transcript(context), rng);
        Ok(Self { header, signature })
    }

    /// Verifies the header's rules and its signature under the sender's signing key `key` (the
    /// caller takes it from the package's key-holders by the header's sender).
    pub fn verify(&self, context: &[u8; 32], key: &VerifyingKey) -> Result<&Header, HeaderError> {
        self.header.check()?;
        key.verify(&mut self.header.transcript(context), &self.signature)
            .map_err(|_| HeaderError::Signature(self.header.sender))?;
        Ok(&self.header)
    }
}

/// `digest(sid, r, prev)` of §6.3 over the messages of round `round` of style `style` (`""` for
/// round 0): SHA-256 of the prefix `dobush/v2/filter-round`, `prev`, the run, the style's
/// length-prefixed bytes, the round, the number of messages and, senders ascending, each one's
/// sender, body hash and signature (R ‖ s). The messages are taken in any order; one sender twice
/// is refused.
pub fn round_digest(
    run: u64,
    style: &str,
    round: u64,
    previous: &[u8; 32],
    messages: &[&SignedHeader],
) -> Result<[u8; 32], HeaderError> {
    let mut sorted: Vec<&SignedHeader> = messages.to_vec();
    sorted.sort_by_key(|m| m.header.sender);
    if let Some(w) = sorted.windows(2).find(|w| w[0].header.sender == w[1].header.sender) {
        return Err(HeaderError::Twice(w[0].header.sender));
    }
    let mut h = Sha256::new();
    h.update(labels::FILTER_ROUND_DIGEST);
    h.update(previous);
    h.update(run.to_be_bytes());
    h.update((style.len() as u64).to_be_bytes());
    h.update(style.as_bytes());
    h.update(round.to_be_bytes());
    h.update((sorted.len() as u64).to_be_bytes());
    for m in sorted {
        h.update(m.header.sender.to_be_bytes());
        h.update(m.header.body);
        h.update(m.signature.to_bytes());
    }
    Ok(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    fn keys(seed: u8) -> KeyHolderKeys {
        KeyHolderKeys::generate(&mut ChaCha20Rng::from_seed([seed; 32]))
    }

    /// One change of a header.
    type Change = Box<dyn Fn(&mut Header)>;

    fn header(sender: u32) -> Header {
        Header::for_body(Kind::Tags, sender, (1, [8; 32]), &[1, 3, 4], 6, "s1", [7; 32], b"{\"a\":1}")
    }

    #[test]
    fn a_signed_header_verifies_and_every_field_changed_is_refused() {
        let ctx = [5u8; 32];
        let k = keys(3);
        let signed = SignedHeader::sign(header(3), &ctx, &k, &mut ChaCha20Rng::from_seed([9; 32])).unwrap();
        let key = k.signing_key().verifying_key();
        assert!(signed.verify(&ctx, &key).is_ok());
        assert!(signed.verify(&[6; 32], &key).is_err(), "another context");
        assert!(signed.verify(&ctx, &keys(4).signing_key().verifying_key()).is_err(), "another key");
        let changes: Vec<Change> = vec![
            Box::new(|h| h.kind = Kind::TagDecryptions),
            Box::new(|h| h.sender = 4),
            Box::new(|h| h.run = 2),
            Box::new(|h| h.opening[0] ^= 1),
            Box::new(|h| h.filter = vec![1, 3, 5]),
            Box::new(|h| h.filter = vec![1, 3, 4, 5]),
            Box::new(|h| h.style = "s2".into()),
            Box::new(|h| h.previous[0] ^= 1),
            Box::new(|h| h.body_size += 1),
            Box::new(|h| h.body[31] ^= 1),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut forged = signed.clone();
            change(&mut forged.header);
            assert!(forged.verify(&ctx, &key).is_err(), "change {i} verifies");
        }
        assert!(signed.header.check_body(b"{\"a\":1}").is_ok());
        assert_eq!(signed.header.check_body(b"{\"a\":2}"), Err(HeaderError::Body));
    }

    #[test]
    fn headers_that_break_the_rules_are_not_signed() {
        let k = keys(3);
        let mut rng = ChaCha20Rng::from_seed([9; 32]);
        let bad: Vec<Change> = vec![
            Box::new(|h| h.sender = 2),
            Box::new(|h| h.filter = vec![3, 1, 4]),
            Box::new(|h| h.filter = vec![0, 3]),
            Box::new(|h| h.filter = vec![]),
            Box::new(|h| h.run = 0),
            Box::new(|h| h.round = 7),
            Box::new(|h| h.style = String::new()),
            Box::new(|h| {
                h.kind = Kind::Keys;
                h.round = 0;
            }),
            Box::new(|h| {
                h.kind = Kind::Abort;
                h.round = 13;
            }),
        ];
        for (i, change) in bad.iter().enumerate() {
            let mut h = header(3);
            change(&mut h);
            assert!(
                matches!(SignedHeader::sign(h, &[5; 32], &k, &mut rng), Err(HeaderError::Malformed(_))),
                "case {i}"
            );
        }
    }

    #[test]
    fn the_round_digest_binds_every_message_and_ignores_their_order() {
        let ctx = [5u8; 32];
        let mut rng = ChaCha20Rng::from_seed([9; 32]);
        let a = SignedHeader::sign(header(1), &ctx, &keys(1), &mut rng).unwrap();
        let b = SignedHeader::sign(header(3), &ctx, &keys(3), &mut rng).unwrap();
        let d = round_digest(1, "s1", 6, &[7; 32], &[&a, &b]).unwrap();
        assert_eq!(round_digest(1, "s1", 6, &[7; 32], &[&b, &a]).unwrap(), d);
        assert_ne!(round_digest(2, "s1", 6, &[7; 32], &[&a, &b]).unwrap(), d);
        assert_ne!(round_digest(1, "s2", 6, &[7; 32], &[&a, &b]).unwrap(), d);
        assert_ne!(round_digest(1, "s1", 7, &[7; 32], &[&a, &b]).unwrap(), d);
        assert_ne!(round_digest(1, "s1", 6, &[8; 32], &[&a, &b]).unwrap(), d);
        assert_ne!(round_digest(1, "s1", 6, &[7; 32], &[&a]).unwrap(), d);
        let again = SignedHeader::sign(header(3), &ctx, &keys(3), &mut rng).unwrap();
        assert_ne!(round_digest(1, "s1", 6, &[7; 32], &[&a, &again]).unwrap(), d, "another signature of one header");
        assert_eq!(round_digest(1, "s1", 6, &[7; 32], &[&a, &b, &b]), Err(HeaderError::Twice(3)));
    }
}
