//! Signed messages (`docs/protocol/06-dkg.md` §Signed messages): every message of the ceremony
//! is published with its sender's signature over the context, its kind, its sender and its
//! content. Each message type says what it signs next to its definition.

use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::labels;
use crate::signature::{Signature, VerifyingKey};
use crate::threshold::{DkgError, KeyHolderKeys, KeyHolderPublic, transcript_with_context};
use crate::transcript::TranscriptProtocol;

/// A message of the ceremony that its sender signs (§Signed messages).
pub trait CeremonyMessage {
    /// The message kind, appended under `kind`.
    const KIND: &'static str;
    /// The sender's index.
    fn sender(&self) -> u32;
    /// Appends the message's canonical content to the signing transcript.
    fn append_content(&self, t: &mut Transcript);
}

fn message_transcript<M: CeremonyMessage>(context: &[u8; 32], message: &M) -> Transcript {
    let mut t = transcript_with_context(labels::DS_DKG_MESSAGE, context);
    t.append_str(labels::L_KIND, M::KIND);
    t.append_u64(labels::L_SENDER, u64::from(message.sender()));
    message.append_content(&mut t);
    t
}

/// A ceremony message with its sender's signature (§Signed messages).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed<M> {
    /// The message.
    pub message: M,
    /// Schnorr signature by the sender's signing key over the message transcript.
    pub signature: Signature,
}

impl<M: CeremonyMessage> Signed<M> {
    /// Signs `message` with the sender's signing key. Draws 32 bytes (the signature's hedge).
    pub fn sign<R: RngCore + CryptoRng>(message: M, context: &[u8; 32], keys: &KeyHolderKeys, rng: &mut R) -> Self {
        let signature = keys.signing_key().sign(&mut message_transcript(context, &message), rng);
        Self { message, signature }
    }

    /// Verifies the signature under `key` and returns the message.
    pub fn verify_with(&self, context: &[u8; 32], key: &VerifyingKey) -> Result<&M, DkgError> {
        key.verify(&mut message_transcript(context, &self.message), &self.signature)
            .map_err(|_| DkgError::Signature { kind: M::KIND, sender: self.message.sender() })?;
        Ok(&self.message)
    }

    /// Verifies the signature under the signing key of the sender named in the message.
    pub fn verify<'a>(&'a self, context: &[u8; 32], publics: &[KeyHolderPublic]) -> Result<&'a M, DkgError> {
        let sender = key_holder(publics, self.message.sender())?;
        self.verify_with(context, &sender.signing_key)
    }
}

/// The key-holder with index `index` in a list checked by
/// [`check_key_holders`](crate::threshold::check_key_holders).
pub(super) fn key_holder(publics: &[KeyHolderPublic], index: u32) -> Result<&KeyHolderPublic, DkgError> {
    index
        .checked_sub(1)
        .and_then(|i| publics.get(i as usize))
        .filter(|p| p.index == index)
        .ok_or(DkgError::IndexOutOfRange { what: "key-holder", index, n: publics.len() as u32 })
}
