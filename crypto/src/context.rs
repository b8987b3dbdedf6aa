//! The election context, in two steps (`docs/protocol/02-transcripts.md` §Context).
//!
//! Order of an election: base context (version, group, generators, campaign, key-holders,
//! threshold) → key ceremony (its proofs absorb the base hash) → manifest frozen → extended
//! context (base hash, joint key, manifest hash) → voting. Every ballot, decryption and tally
//! proof absorbs the extended hash.

use merlin::Transcript;

use crate::elgamal::{KeyTable, PublicKey};
use crate::error::DecodeError;
use crate::group::{GroupElement, generator_g, generator_h};
use crate::labels;
use crate::manifest::Manifest;
use crate::transcript::TranscriptProtocol;

/// A key-holder's public identity as bound into the base context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyHolderIdentity {
    /// Signing key for ceremony messages.
    pub signing_key: GroupElement,
    /// Communication key to which shares are encrypted.
    pub comm_key: GroupElement,
}

/// Computes the base context hash. Key-holders are numbered `1..=n` in slice order.
pub fn base_hash(campaign_id: &str, threshold: u32, key_holders: &[KeyHolderIdentity]) -> [u8; 32] {
    let mut t = Transcript::protocol(labels::DS_BASE_CONTEXT);
    t.append_message(labels::L_VERSION, labels::PROTOCOL_VERSION);
    t.append_message(labels::L_GROUP, labels::GROUP_NAME);
    t.append_message(labels::L_CAP_G, generator_g().compress().as_bytes());
    t.append_message(labels::L_CAP_H, generator_h().compress().as_bytes());
    t.append_str(labels::L_CAMPAIGN, campaign_id);
    t.append_u64(labels::L_N, key_holders.len() as u64);
    t.append_u64(labels::L_T, u64::from(threshold));
    for (i, k) in key_holders.iter().enumerate() {
        t.append_u64(labels::L_KEY_HOLDER, i as u64 + 1);
        t.append_element(labels::L_SIGNING_KEY, &k.signing_key);
        t.append_element(labels::L_COMM_KEY, &k.comm_key);
    }
    t.challenge_32(labels::L_BASE_HASH)
}

/// Computes the extended context hash: it binds the base hash, the joint key, the manifest,
/// the pinned commission (`commission_hash`: [`crate::commission::Commission::hash`],
/// 14-commission.md §Binding) and the board key with the package's parameters
/// (`parameters_hash`: [`crate::parameters::parameters_hash`], 02-transcripts.md §Parameters hash).
pub fn extended_hash(
    base: &[u8; 32],
    joint_key: &PublicKey,
    manifest_hash: &[u8; 32],
    commission_hash: &[u8; 32],
    parameters_hash: &[u8; 32],
) -> [u8; 32] {
    let mut t = Transcript::protocol(labels::DS_EXTENDED_CONTEXT);
    t.append_message(labels::L_BASE_HASH, base);
    t.append_element(labels::L_JOINT_KEY, &joint_key.0);
    t.append_message(labels::L_MANIFEST_HASH, manifest_hash);
    t.append_message(labels::L_COMMISSION_HASH, commission_hash);
    t.append_message(labels::L_PARAMETERS_HASH, parameters_hash);
    t.challenge_32(labels::L_EXTENDED_HASH)
}

/// Everything a ballot is bound to: the frozen manifest, the joint key and both hashes.
#[derive(Clone, Debug)]
pub struct ElectionContext {
    base_hash: [u8; 32],
    manifest: Manifest,
    manifest_hash: [u8; 32],
    joint_key: PublicKey,
    key_table: KeyTable,
    extended_hash: [u8; 32],
}

impl ElectionContext {
    /// Builds the context after the ceremony and the manifest freeze. Validates the manifest.
    /// `commission_hash` is the pinned commission's ([`crate::commission::Commission::hash`]),
    /// `parameters_hash` the board key's and parameters' ([`crate::parameters::parameters_hash`]).
    pub fn new(
        base_hash: [u8; 32],
        joint_key: PublicKey,
        manifest: Manifest,
        commission_hash: [u8; 32],
        parameters_hash: [u8; 32],
    ) -> Result<Self, DecodeError> {
        manifest.validate()?;
        let manifest_hash = manifest.hash();
        let extended_hash = extended_hash(&base_hash, &joint_key, &manifest_hash, &commission_hash, &parameters_hash);
        Ok(Self { base_hash, manifest, manifest_hash, joint_key, key_table: KeyTable::new(joint_key), extended_hash })
    }

    /// The base hash.
    pub fn base_hash(&self) -> &[u8; 32] {
        &self.base_hash
    }
    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    /// The manifest hash.
    pub fn manifest_hash(&self) -> &[u8; 32] {
        &self.manifest_hash
    }
    /// The joint election key.
    pub fn joint_key(&self) -> &PublicKey {
        &self.joint_key
    }
    /// The joint key's multiplication table, for provers.
    pub fn key_table(&self) -> &KeyTable {
        &self.key_table
    }
    /// The extended hash.
    pub fn extended_hash(&self) -> &[u8; 32] {
        &self.extended_hash
    }
}
