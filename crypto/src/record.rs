//! Published artefacts that clients and observers consume: board entries, the election package
//! a voter's device loads, and the receipt a voter keeps (`docs/record-format.md`).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ballot::{BallotOpening, EncryptedBallot, TrackingCode};
use crate::board::{BoardError, Hash, SignedTreeHead, leaf_hash, verify_inclusion};
use crate::context::{ElectionContext, KeyHolderIdentity, base_hash};
use crate::elgamal::PublicKey;
use crate::error::DecodeError;
use crate::group::{GroupElement, bytes_hex};
use crate::manifest::Manifest;
use crate::parameters::{Parameters, ReVotePolicy, parameters_hash};
use crate::signature::VerifyingKey;
use crate::tally::ContestResult;

/// The version of the record format and of every artefact in it.
pub const RECORD_VERSION: &str = "dobush-record/2";

/// A credential on the frozen list, with the ballot style it may vote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedCredential {
    /// The public credential.
    pub credential: VerifyingKey,
    /// The ballot style (district) of its voter.
    pub style: String,
}

/// A credential on the frozen list of a v2 campaign (13-revoting.md §4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedCredentialV2 {
    /// The public credential X.
    pub credential: VerifyingKey,
    /// The ballot style (district) of its voter.
    pub style: String,
    /// The PIN commitment of its application (13-revoting.md §3.3).
    #[serde(with = "bytes_hex")]
    pub pin_commitment: [u8; 32],
    /// The override stations of its voter (13-revoting.md §10.1), sorted, distinct: empty until
    /// the package decides overrides (no override is built yet, so always empty today).
    pub stations: Vec<String>,
}

/// One entry of the bulletin board. The board's Merkle leaves are the exact bytes of the
/// entry's JSON serialization, one entry per line in `board.jsonl`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BoardEntry {
    /// The e-voter credential list, frozen at the application deadline.
    CredentialList {
        /// The credentials, sorted by their encoding.
        credentials: Vec<ListedCredential>,
        /// Their number (equals the protocol's e-voter line).
        count: u64,
        /// Credentials revoked before the freeze (a voter re-applied or withdrew), sorted by
        /// encoding, none of them listed; absent when there are none, so that there is one
        /// spelling (`docs/protocol/09-credentials.md` §How credentials bind ballots, step 2).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        revoked: Vec<VerifyingKey>,
    },
    /// The frozen credential list of a v2 campaign (13-revoting.md §4.2): every item with its PIN
    /// commitment and override stations; only the *number* of credentials revoked before the
    /// freeze (a list of them would tell a buyer who knows X that the voter re-applied). Its
    /// signatures are over [`credential_list_digest_v2`].
    CredentialListV2 {
        /// The credentials, sorted by their encoding; pin commitments distinct.
        credentials: Vec<ListedCredentialV2>,
        /// Their number.
        count: u64,
        /// How many credentials were revoked or withdrawn before the freeze.
        revoked_count: u64,
    },
    /// The commission members' signatures over the credential list (the entry right before this
    /// one): [`credential_list_digest`] of the campaign id and that entry's exact bytes
    /// (`docs/protocol/10-board.md` §Credential list signatures).
    CredentialListSigned {
        /// Distinct pinned members, at least the credential list quorum (14-commission.md).
        signatures: Vec<crate::election_protocol::MemberSignature>,
    },
    /// A credential replaced while voting is open by a recorded commission decision, signed by
    /// at least the pinned commission's replacement quorum ([`check_replacement_signatures`]).
    CredentialReplaced {
        /// The revoked credential.
        old: VerifyingKey,
        /// Its replacement.
        new: VerifyingKey,
        /// The ballot style.
        style: String,
        /// Reference of the commission's decision.
        decision: String,
        /// At least one signature over [`credential_replacement_digest`]; distinct keys, each
        /// also a signer of the credential list.
        signatures: Vec<crate::election_protocol::MemberSignature>,
    },
    /// A credential replaced in a v2 campaign (13-revoting.md §4.2, §4.3): the new credential in
    /// the clear with its PIN commitment, the old one only as `old_tbase = Enc_K(TB(X_old))` with
    /// a proof of knowledge of its nonce; it never names X_old. Its own type while boards of both
    /// formats exist.
    CredentialReplacedV2 {
        /// The ballot style.
        style: String,
        /// The new credential.
        new: VerifyingKey,
        /// The new credential's PIN commitment.
        #[serde(with = "bytes_hex")]
        new_pin_commitment: [u8; 32],
        /// `Enc_K(TB(X_old); r)`.
        old_tbase: crate::elgamal::Ciphertext,
        /// The proof of knowledge of r ([`crate::ballot_v2::replacement::verify_entry_nonce`]).
        proof: crate::ballot_v2::replacement::EntryNonceProof,
        /// Reference of the commission's decision.
        decision: String,
        /// At least the pinned commission's replacement quorum over the replacement digest
        /// ([`crate::ballot_v2::replacement::ReplacementStatement::digest`]).
        signatures: Vec<crate::election_protocol::MemberSignature>,
    },
    /// Voting opened: the zero report.
    Opened {
        /// Milliseconds since the Unix epoch.
        timestamp_ms: u64,
    },
    /// A cast ballot.
    Ballot {
        /// The ballot.
        ballot: EncryptedBallot,
        /// Its tracking code.
        tracking_code: TrackingCode,
    },
    /// A challenged (Benaloh) ballot with its opening: never counted.
    Challenged {
        /// The ballot.
        ballot: EncryptedBallot,
        /// Its tracking code.
        tracking_code: TrackingCode,
        /// The revealed marks and nonces.
        opening: BallotOpening,
    },
    /// A cast v2 ballot (13-revoting.md §3.7, §4.2): the credential encrypted, no signature. Only
    /// on the board of a campaign whose package selects v2 (`parameters.ballot_v2`).
    BallotV2 {
        /// The ballot.
        ballot: crate::ballot_v2::ballot::BallotV2,
        /// Its v2 tracking code.
        tracking_code: TrackingCode,
    },
    /// A challenged (Benaloh) v2 ballot with the opening of its votes only (never r_X or r_V):
    /// never counted, never in the filter.
    ChallengedV2 {
        /// The ballot.
        ballot: crate::ballot_v2::ballot::BallotV2,
        /// Its v2 tracking code.
        tracking_code: TrackingCode,
        /// The revealed marks and vote nonces.
        opening: BallotOpening,
    },
    /// The cast verifier secret y of a v2 campaign, published once, right after `closed`
    /// (13-revoting.md §3.4): from then on anyone can make a cast opening for any ballot and
    /// credential, so no opening is evidence of how anyone voted. y·G is the package's
    /// `parameters.ballot_v2.cast_verifier_key`.
    CastVerifierRevealed {
        /// y, the canonical 32-byte encoding of a non-zero scalar.
        #[serde(with = "bytes_hex")]
        secret: [u8; 32],
    },
    /// A ballot superseded by a later one of the same credential (`last_counts`, v1 only).
    Superseded {
        /// The earlier ballot's tracking code.
        tracking_code: TrackingCode,
        /// The later ballot's tracking code.
        by: TrackingCode,
    },
    /// Hashes of the web app's assets as served (SHA-384, base64 as in Subresource Integrity).
    WebAssets {
        /// `(path, integrity)` pairs.
        assets: Vec<(String, String)>,
    },
    /// Voting closed.
    Closed {
        /// Milliseconds since the Unix epoch.
        timestamp_ms: u64,
    },
    /// One style's filter transcript, accepted (13-revoting.md §4.2, §6.8): the record file
    /// `filter/<style index>.json` (record-format.md §Filter transcript) bound by its SHA-256 and
    /// length. Only after `cast_verifier_revealed`, on a v2 board.
    Filtered {
        /// The style id.
        style: String,
        /// The transcript file.
        transcript: FileRef,
    },
}

/// A record file bound by a board entry: the SHA-256 of its exact bytes and their number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// SHA-256 of the file's bytes.
    #[serde(with = "bytes_hex")]
    pub sha256: [u8; 32],
    /// The file's length in bytes.
    pub bytes: u64,
}

impl FileRef {
    /// The reference of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        Self { sha256: Sha256::digest(bytes).into(), bytes: bytes.len() as u64 }
    }
}

/// The digest commission members sign for the frozen credential list:
/// `SHA-256("dobush/v1/credential-list" ‖ u64be(len(campaign_id)) ‖ campaign_id ‖ entry)`, where
/// `entry` is the exact bytes of the `credential_list` board entry (its Merkle leaf data).
/// (`docs/protocol/10-board.md` §Credential list signatures.)
pub fn credential_list_digest(campaign_id: &str, entry: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(crate::labels::CREDENTIAL_LIST_DIGEST);
    h.update((campaign_id.len() as u64).to_be_bytes());
    h.update(campaign_id.as_bytes());
    h.update(entry);
    h.finalize().into()
}

/// The digest commission members sign for the frozen v2 credential list (13-revoting.md §4.2,
/// 10-board.md §Credential list signatures):
/// `SHA-256("dobush/v2/credential-list" ‖ u64be(len(campaign_id)) ‖ campaign_id ‖ entry)`, where
/// `entry` is the exact bytes of the `credential_list_v2` board entry.
pub fn credential_list_digest_v2(campaign_id: &str, entry: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(crate::labels::CREDENTIAL_LIST_DIGEST_V2);
    h.update((campaign_id.len() as u64).to_be_bytes());
    h.update(campaign_id.as_bytes());
    h.update(entry);
    h.finalize().into()
}

/// The digest of a list entry (`entry`, whose exact bytes are `bytes`): [`credential_list_digest_v2`]
/// for a `credential_list_v2`, [`credential_list_digest`] otherwise.
pub fn list_digest_of(campaign_id: &str, entry: &BoardEntry, bytes: &[u8]) -> [u8; 32] {
    match entry {
        BoardEntry::CredentialListV2 { .. } => credential_list_digest_v2(campaign_id, bytes),
        _ => credential_list_digest(campaign_id, bytes),
    }
}

/// The digest commission members sign for a credential replacement:
/// `SHA-256("dobush/v1/credential-replacement" ‖ u64be(len(id)) ‖ id ‖ old ‖ new ‖
/// u64be(len(style)) ‖ style ‖ u64be(len(decision)) ‖ decision)`
/// (`docs/protocol/10-board.md` §Credential replacement signatures).
pub fn credential_replacement_digest(
    campaign_id: &str,
    old: &VerifyingKey,
    new: &VerifyingKey,
    style: &str,
    decision: &str,
) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(crate::labels::CREDENTIAL_REPLACEMENT_DIGEST);
    h.update((campaign_id.len() as u64).to_be_bytes());
    h.update(campaign_id.as_bytes());
    h.update(old.0.as_bytes());
    h.update(new.0.as_bytes());
    h.update((style.len() as u64).to_be_bytes());
    h.update(style.as_bytes());
    h.update((decision.len() as u64).to_be_bytes());
    h.update(decision.as_bytes());
    h.finalize().into()
}

/// Why a `credential_list` entry is not in its one canonical form.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CredentialListError {
    /// `count` is not the number of listed credentials.
    #[error("the credential list says count {count} but holds {held}")]
    Miscounted {
        /// The entry's `count`.
        count: u64,
        /// The number of items.
        held: u64,
    },
    /// The credentials are not strictly increasing by encoding (unsorted or repeated).
    #[error("the credential list is not strictly sorted by encoding (item {0})")]
    Unsorted(usize),
    /// The revoked credentials are not strictly increasing by encoding.
    #[error("the revoked credentials are not strictly sorted by encoding (item {0})")]
    RevokedUnsorted(usize),
    /// A revoked credential is also on the list.
    #[error("revoked credential {0} is also on the list")]
    RevokedListed(String),
    /// Two items of a v2 list share a PIN commitment.
    #[error("item {0} of the v2 credential list repeats an earlier PIN commitment")]
    PinCommitmentRepeated(usize),
    /// An item's stations are not strictly increasing.
    #[error("the stations of item {0} of the v2 credential list are not strictly sorted")]
    StationsUnsorted(usize),
}

/// Checks a `credential_list` entry's canonical form (`docs/protocol/09-credentials.md` step 3):
/// `count` equals the number of items, the credentials and the revoked credentials are each
/// strictly increasing by their 32-byte encoding, and no revoked credential is listed.
pub fn check_credential_list(
    credentials: &[ListedCredential],
    count: u64,
    revoked: &[VerifyingKey],
) -> Result<(), CredentialListError> {
    let held = credentials.len() as u64;
    if count != held {
        return Err(CredentialListError::Miscounted { count, held });
    }
    if let Some(i) = credentials.windows(2).position(|w| w[0].credential.0.as_bytes() >= w[1].credential.0.as_bytes()) {
        return Err(CredentialListError::Unsorted(i + 1));
    }
    if let Some(i) = revoked.windows(2).position(|w| w[0].0.as_bytes() >= w[1].0.as_bytes()) {
        return Err(CredentialListError::RevokedUnsorted(i + 1));
    }
    let listed: std::collections::HashSet<&[u8; 32]> = credentials.iter().map(|c| c.credential.0.as_bytes()).collect();
    if let Some(r) = revoked.iter().find(|r| listed.contains(r.0.as_bytes())) {
        return Err(CredentialListError::RevokedListed(crate::signature::fingerprint("credential", &r.0)));
    }
    Ok(())
}

/// Checks a `credential_list_v2` entry's canonical form (13-revoting.md §4.2): `count` equals
/// the number of items, the credentials are strictly increasing by their 32-byte encoding, no
/// two items share a PIN commitment, and each item's stations are strictly increasing.
pub fn check_credential_list_v2(credentials: &[ListedCredentialV2], count: u64) -> Result<(), CredentialListError> {
    let held = credentials.len() as u64;
    if count != held {
        return Err(CredentialListError::Miscounted { count, held });
    }
    if let Some(i) = credentials.windows(2).position(|w| w[0].credential.0.as_bytes() >= w[1].credential.0.as_bytes()) {
        return Err(CredentialListError::Unsorted(i + 1));
    }
    let mut pcs = std::collections::HashSet::new();
    if let Some(i) = credentials.iter().position(|c| !pcs.insert(c.pin_commitment)) {
        return Err(CredentialListError::PinCommitmentRepeated(i));
    }
    if let Some(i) = credentials.iter().position(|c| c.stations.windows(2).any(|w| w[0] >= w[1])) {
        return Err(CredentialListError::StationsUnsorted(i));
    }
    Ok(())
}

/// Checks the signatures of a `credential_list_signed` entry over the list entry's exact bytes
/// against the pinned commission: distinct pinned members, each valid, at least the
/// credential list's quorum (14-commission.md §Acceptance).
pub fn check_credential_list_signatures(
    commission: &crate::commission::Commission,
    campaign_id: &str,
    list_entry: &[u8],
    signatures: &[crate::election_protocol::MemberSignature],
) -> Result<(), crate::commission::CommissionError> {
    let digest = credential_list_digest(campaign_id, list_entry);
    commission.check_act(crate::commission::Act::CredentialList, &digest, signatures)
}

/// Checks the signatures of a `credential_replaced` entry over [`credential_replacement_digest`]
/// of the entry's fields against the pinned commission: distinct pinned members, each valid, at
/// least the replacement quorum (14-commission.md §Acceptance).
pub fn check_replacement_signatures(
    commission: &crate::commission::Commission,
    campaign_id: &str,
    (old, new, style, decision): (&VerifyingKey, &VerifyingKey, &str, &str),
    signatures: &[crate::election_protocol::MemberSignature],
) -> Result<(), crate::commission::CommissionError> {
    let digest = credential_replacement_digest(campaign_id, old, new, style, decision);
    commission.check_act(crate::commission::Act::Replacement, &digest, signatures)
}

/// The `credential_replaced` entry with the signatures of `members` (tests and tools where the
/// members' keys are at hand; in production each member signs [`credential_replacement_digest`]
/// on their own computer).
pub fn sign_credential_replacement(
    campaign_id: &str,
    (old, new, style, decision): (VerifyingKey, VerifyingKey, &str, &str),
    members: &[(&str, &ed25519_dalek::SigningKey)],
) -> BoardEntry {
    let digest = credential_replacement_digest(campaign_id, &old, &new, style, decision);
    BoardEntry::CredentialReplaced {
        old,
        new,
        style: style.into(),
        decision: decision.into(),
        signatures: members
            .iter()
            .map(|(name, key)| crate::election_protocol::MemberSignature::sign_digest(&digest, name, key))
            .collect(),
    }
}

/// The `credential_list_signed` entry with the signatures of `members` over `list_entry` (the
/// exact bytes of the `credential_list` entry). For tests and the demo, where the members' keys are
/// at hand; in production each member signs [`credential_list_digest`] on their own computer.
pub fn sign_credential_list(
    campaign_id: &str,
    list_entry: &[u8],
    members: &[(&str, &ed25519_dalek::SigningKey)],
) -> BoardEntry {
    let digest = credential_list_digest(campaign_id, list_entry);
    BoardEntry::CredentialListSigned {
        signatures: members
            .iter()
            .map(|(name, key)| crate::election_protocol::MemberSignature::sign_digest(&digest, name, key))
            .collect(),
    }
}

impl BoardEntry {
    /// The exact bytes that become the Merkle leaf.
    pub fn to_bytes(&self) -> Result<Vec<u8>, DecodeError> {
        serde_json::to_vec(self).map_err(|e| DecodeError::Structure(e.to_string()))
    }
}

/// A key-holder's public keys as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedKeyHolder {
    /// Number `1..=n`.
    pub index: u32,
    /// Signing key.
    pub signing_key: GroupElement,
    /// Communication key.
    pub comm_key: GroupElement,
}

/// What a voter's device loads to vote. The device recomputes both context hashes and refuses
/// a package whose published hashes differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionPackage {
    /// [`RECORD_VERSION`].
    pub version: String,
    /// The frozen manifest.
    pub manifest: Manifest,
    /// Threshold `t`.
    pub threshold: u32,
    /// Key-holders in index order.
    pub key_holders: Vec<PublishedKeyHolder>,
    /// The joint election key.
    pub joint_key: PublicKey,
    /// The published base hash.
    #[serde(with = "bytes_hex")]
    pub base_hash: [u8; 32],
    /// The published extended hash.
    #[serde(with = "bytes_hex")]
    pub extended_hash: [u8; 32],
    /// The board's Ed25519 public key.
    #[serde(with = "bytes_hex")]
    pub board_key: [u8; 32],
    /// The pinned commission (14-commission.md), bound into the extended hash.
    pub commission: crate::commission::Commission,
    /// The campaign's rules, bound into the extended hash with the board key
    /// (02-transcripts.md §Parameters hash).
    pub parameters: Parameters,
}

/// Why a package or receipt was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Unknown format version.
    #[error("unknown record version {0:?} (this software reads {RECORD_VERSION})")]
    Version(String),
    /// A recomputed hash differs from the published one.
    #[error("{0} does not match its recomputation")]
    HashMismatch(&'static str),
    /// Malformed content.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A board proof or signature failed.
    #[error(transparent)]
    Board(#[from] BoardError),
    /// The receipt's entry is not the expected ballot.
    #[error("receipt: {0}")]
    Receipt(String),
}

impl ElectionPackage {
    /// Recomputes the base and extended hashes and returns the election context.
    pub fn context(&self) -> Result<ElectionContext, RecordError> {
        if self.version != RECORD_VERSION {
            return Err(RecordError::Version(self.version.clone()));
        }
        if self.threshold < 1 || self.threshold as usize >= self.key_holders.len() {
            return Err(DecodeError::Structure(format!(
                "threshold {} must satisfy 1 ≤ t < n = {}",
                self.threshold,
                self.key_holders.len()
            ))
            .into());
        }
        if self.key_holders.iter().enumerate().any(|(i, k)| k.index as usize != i + 1) {
            return Err(DecodeError::Structure("key-holders must be numbered 1..=n in order".into()).into());
        }
        let keys: Vec<KeyHolderIdentity> = self
            .key_holders
            .iter()
            .map(|k| KeyHolderIdentity { signing_key: k.signing_key, comm_key: k.comm_key })
            .collect();
        if base_hash(&self.manifest.campaign_id, self.threshold, &keys) != self.base_hash {
            return Err(RecordError::HashMismatch("base hash"));
        }
        self.commission.validate().map_err(|e| DecodeError::Structure(e.to_string()))?;
        let ctx = ElectionContext::new(
            self.base_hash,
            self.joint_key,
            self.manifest.clone(),
            self.commission.hash(),
            parameters_hash(&self.board_key, &self.parameters),
        )?;
        if *ctx.extended_hash() != self.extended_hash {
            return Err(RecordError::HashMismatch("extended hash"));
        }
        Ok(ctx)
    }

    /// The package's fingerprint, for voters to compare with the one the commission publishes
    /// on paper (09-credentials.md §Fingerprint, kind [`crate::labels::FP_ELECTION_PACKAGE`] over the
    /// extended hash). Recomputes both context hashes first ([`Self::context`]): a package whose
    /// published hashes are not its own has no fingerprint.
    pub fn fingerprint(&self) -> Result<String, RecordError> {
        let ctx = self.context()?;
        Ok(crate::signature::fingerprint_of_bytes(crate::labels::FP_ELECTION_PACKAGE, ctx.extended_hash()))
    }
}

/// What the voter keeps after casting: the board entry, its position, a signed tree head and
/// the inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The ballot's tracking code.
    pub tracking_code: TrackingCode,
    /// Position of the entry on the board (0-based leaf index).
    pub index: u64,
    /// The exact board entry bytes (a JSON line).
    pub entry: String,
    /// A tree head that includes the entry.
    pub tree_head: SignedTreeHead,
    /// RFC 9162 inclusion proof, leaf side first.
    pub inclusion_proof: Vec<HexHash>,
}

/// A 32-byte hash as hex in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HexHash(#[serde(with = "bytes_hex")] pub Hash);

impl Receipt {
    /// Checks the receipt: the entry is a ballot with this tracking code, the inclusion proof
    /// leads to the tree head's root, and the board key signed the head for this election.
    pub fn verify(&self, package: &ElectionPackage) -> Result<(), RecordError> {
        let entry: BoardEntry = serde_json::from_str(&self.entry).map_err(|e| RecordError::Receipt(e.to_string()))?;
        // the entry's format must be the campaign's: a `ballot_v2` entry only on a v2 package
        // (`parameters.ballot_v2` present), a `ballot` entry only on a v1 one
        let v2 = package.parameters.ballot_v2.is_some();
        match entry {
            BoardEntry::Ballot { tracking_code, .. } if !v2 && tracking_code == self.tracking_code => {}
            BoardEntry::BallotV2 { tracking_code, .. } if v2 && tracking_code == self.tracking_code => {}
            BoardEntry::Ballot { .. } if v2 => {
                return Err(RecordError::Receipt("a v1 ballot entry on a v2 campaign's board".into()));
            }
            BoardEntry::BallotV2 { .. } if !v2 => {
                return Err(RecordError::Receipt("a v2 ballot entry on a v1 campaign's board".into()));
            }
            _ => return Err(RecordError::Receipt("the entry is not this ballot".into())),
        }
        if self.tree_head.head.context != package.base_hash {
            return Err(RecordError::Receipt("the tree head belongs to another election".into()));
        }
        self.tree_head.verify(&package.board_key)?;
        let proof: Vec<Hash> = self.inclusion_proof.iter().map(|h| h.0).collect();
        verify_inclusion(
            &leaf_hash(self.entry.as_bytes()),
            self.index,
            self.tree_head.head.size,
            &proof,
            &self.tree_head.head.root,
        )?;
        Ok(())
    }
}

/// Indexes of the counted ballots, and the `(superseded, by)` tracking-code pairs.
pub type CountedBallots = (Vec<usize>, Vec<(TrackingCode, TrackingCode)>);

/// Which ballots count under a re-vote rule (`docs/protocol/08-ballot.md` §Tally; a replacement
/// chain is one voter: `09-credentials.md` §How credentials bind ballots).
///
/// `ballots` are `(credential, tracking code)` in board order; `replacements` are the
/// `(old, new)` credential pairs recorded on the board. A replacement credential belongs to the
/// same voter as the one it replaces, so ballots are grouped by the voter's *first* credential:
/// under `Forbidden` a second ballot of a voter (with either credential) is an error, under
/// `LastCounts` the voter's last ballot counts and every earlier one is superseded by the next.
/// Returns the indexes of the counted ballots and the `(superseded, by)` pairs in board order.
pub fn counted_ballots(
    policy: ReVotePolicy,
    ballots: &[(VerifyingKey, TrackingCode)],
    replacements: &[(VerifyingKey, VerifyingKey)],
) -> Result<CountedBallots, DecodeError> {
    let mut root: std::collections::HashMap<VerifyingKey, VerifyingKey> = std::collections::HashMap::new();
    for (old, new) in replacements {
        let r = root.get(old).copied().unwrap_or(*old);
        root.insert(*new, r);
    }
    let voter = |k: &VerifyingKey| root.get(k).copied().unwrap_or(*k);
    let mut last: std::collections::HashMap<VerifyingKey, usize> = std::collections::HashMap::new();
    let mut superseded = Vec::new();
    for (i, (cred, code)) in ballots.iter().enumerate() {
        if let Some(prev) = last.insert(voter(cred), i) {
            match policy {
                ReVotePolicy::Forbidden => {
                    return Err(DecodeError::Structure(format!(
                        "credential {} cast a second ballot of its voter under the forbidden re-vote rule",
                        cred.0.to_hex()
                    )));
                }
                ReVotePolicy::LastCounts => {
                    if let Some((_, old)) = ballots.get(prev) {
                        superseded.push((*old, *code));
                    }
                }
            }
        }
    }
    let mut counted: Vec<usize> = last.into_values().collect();
    counted.sort_unstable();
    Ok((counted, superseded))
}

/// The board's content in memory: the exact entry lines and their Merkle log. The server keeps
/// the lines in its database and rebuilds this at start-up; tests and the demo use it directly.
#[derive(Clone, Debug, Default)]
pub struct Board {
    log: crate::board::MerkleLog,
    lines: Vec<String>,
}

impl Board {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the board from stored lines (in order).
    pub fn from_lines(lines: Vec<String>) -> Self {
        let mut log = crate::board::MerkleLog::new();
        for l in &lines {
            log.push(l.as_bytes());
        }
        Self { log, lines }
    }

    /// Appends an entry; returns its index and the exact line stored.
    pub fn append(&mut self, entry: &BoardEntry) -> Result<(u64, &str), DecodeError> {
        let line = String::from_utf8(entry.to_bytes()?).map_err(|e| DecodeError::Structure(e.to_string()))?;
        Ok(self.append_line(line))
    }

    /// Appends an entry already serialised (by [`BoardEntry::to_bytes`], as [`Board::append`]
    /// does); returns its index and the line.
    pub fn append_line(&mut self, line: String) -> (u64, &str) {
        let index = self.log.push(line.as_bytes());
        self.lines.push(line);
        (index, self.lines.last().map(String::as_str).unwrap_or_default())
    }

    /// Drops every entry from index `size` on (see `MerkleLog::truncate`): for a writer whose
    /// appends were rolled back.
    pub fn truncate(&mut self, size: u64) {
        self.log.truncate(size);
        self.lines.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.log.size()
    }

    /// The entry lines.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The Merkle log.
    pub fn log(&self) -> &crate::board::MerkleLog {
        &self.log
    }

    /// Signs the current head, chained to `previous` (the head signed before it; `None` for the
    /// board's first head, which carries the election's genesis link: 10-board.md §Tree heads).
    pub fn sign_head(
        &self,
        key: &crate::board::BoardKey,
        context: [u8; 32],
        timestamp_ms: u64,
        previous: Option<&crate::board::TreeHead>,
    ) -> SignedTreeHead {
        let previous = previous.map_or_else(|| crate::board::TreeHead::genesis(&context), crate::board::TreeHead::link);
        key.sign(crate::board::TreeHead { context, size: self.size(), root: self.log.root(), timestamp_ms, previous })
    }

    /// A receipt for the ballot at `index` under `head` (which must include it).
    pub fn receipt(
        &self,
        index: u64,
        tracking_code: TrackingCode,
        head: SignedTreeHead,
    ) -> Result<Receipt, RecordError> {
        let entry =
            self.lines.get(index as usize).cloned().ok_or(RecordError::Board(BoardError::Range("no such entry")))?;
        let proof = self.log.inclusion_proof(index, head.head.size)?;
        Ok(Receipt {
            tracking_code,
            index,
            entry,
            tree_head: head,
            inclusion_proof: proof.into_iter().map(HexHash).collect(),
        })
    }

    /// The `board.jsonl` file: every line followed by `\n`.
    pub fn to_jsonl(&self) -> String {
        let mut s = String::with_capacity(self.lines.iter().map(|l| l.len() + 1).sum());
        for l in &self.lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    }
}

/// The public election record (`record.json`; the board is `board.jsonl` beside it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionRecord {
    /// [`RECORD_VERSION`].
    pub version: String,
    /// The election package (manifest, key-holders, keys, hashes, board key).
    pub package: ElectionPackage,
    /// Every tree head the board issued, in order; the last is the final head.
    pub tree_heads: Vec<SignedTreeHead>,
    /// Encrypted totals of the counted ballots, per contest in manifest order.
    pub encrypted_totals: Vec<crate::tally::ContestTotals>,
    /// The key ceremony: every signed message (`docs/protocol/06-dkg.md` §Transcript).
    pub ceremony: crate::threshold::dkg::CeremonyTranscript,
    /// Every partial decryption submitted, valid or not (`07-threshold.md`); the verifier
    /// re-checks each and combines any `t` valid ones per total.
    pub decryption_shares: Vec<crate::threshold::decrypt::DecryptionShare>,
    /// Decrypted results, per contest in manifest order.
    pub results: Vec<ContestResult>,
    /// The signed electronic protocol of the precinct.
    pub protocol: Option<crate::election_protocol::ElectionProtocol>,
}
