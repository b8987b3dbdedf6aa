//! Every label used in a Merlin transcript or a hash, in one place.
//! `docs/protocol/02-transcripts.md` lists them with their meaning; keep the two in step.

/// The protocol version string, appended first to every context hash.
pub const PROTOCOL_VERSION: &[u8] = b"dobush/1";
/// The name of the group, bound into the base context.
pub const GROUP_NAME: &[u8] = b"ristretto255";

/// The label with which every Merlin transcript of the protocol is created.
pub const TRANSCRIPT: &[u8] = b"dobush/v1";
/// The label of a domain-separator message.
pub const DOM_SEP: &[u8] = b"dom-sep";

/// Published label of the Pedersen generator `H` (hash-to-group input).
pub const GENERATOR_H: &[u8] = b"dobush/v1/generator/H";

// Domain separators (the value appended under DOM_SEP).
/// Manifest hash.
pub const DS_MANIFEST: &[u8] = b"manifest";
/// Base context hash.
pub const DS_BASE_CONTEXT: &[u8] = b"base-context";
/// Extended context hash.
pub const DS_EXTENDED_CONTEXT: &[u8] = b"extended-context";
/// Ballot proofs prefix.
pub const DS_BALLOT: &[u8] = b"ballot";
/// Per-selection 0/1 proof.
pub const DS_SELECTION: &[u8] = b"selection-proof";
/// Per-contest count proof (disjunctive over the weighted sum).
pub const DS_COUNT: &[u8] = b"count-proof";
/// Per-contest count proof with a bulletproofs range proof.
pub const DS_COUNT_RANGE: &[u8] = b"count-range-proof";
/// Body hash of a ballot.
pub const DS_BALLOT_BODY: &[u8] = b"ballot-body";
/// Signature of a ballot by its credential.
pub const DS_BALLOT_SIGNATURE: &[u8] = b"ballot-signature";
/// Tracking code.
pub const DS_TRACKING_CODE: &[u8] = b"tracking-code";
/// Schnorr signature (inside the signed transcript).
pub const DS_SIGNATURE: &[u8] = b"schnorr-signature";
/// Schnorr proof of knowledge of a DKG coefficient.
pub const DS_DKG_COEFFICIENT: &[u8] = b"dkg-coefficient";
/// Commitment hash of a key-holder's DKG commitments (commit-then-reveal).
pub const DS_DKG_COMMIT: &[u8] = b"dkg-commitment-hash";
/// Key derivation for an encrypted DKG share.
pub const DS_DKG_SHARE_KEY: &[u8] = b"dkg-share-key";
/// Proof that a complaint reveals the right Diffie–Hellman secret.
pub const DS_DKG_COMPLAINT: &[u8] = b"dkg-complaint";
/// Signed DKG message.
pub const DS_DKG_MESSAGE: &[u8] = b"dkg-message";
/// Partial decryption proof.
pub const DS_DECRYPTION_SHARE: &[u8] = b"decryption-share";
/// Credential secret derivation from the recovery seed.
pub const CREDENTIAL_SEED: &[u8] = b"dobush/v1/credential-seed";
/// Fingerprints of public keys shown to people.
pub const FINGERPRINT: &[u8] = b"dobush/v1/fingerprint";

// Threshold keys (`docs/protocol/06-dkg.md`, `docs/protocol/07-threshold.md`).
/// Kind of a signed DKG message (appended under `kind`): round-1 commitment hash.
pub const DKG_KIND_COMMITMENT_HASH: &str = "commitment-hash";
/// Kind of a signed DKG message: round-2 reveal of the Feldman commitments and their proofs.
pub const DKG_KIND_REVEAL: &str = "reveal";
/// Kind of a signed DKG message: a share encrypted to its recipient.
pub const DKG_KIND_ENCRYPTED_SHARE: &str = "encrypted-share";
/// Kind of a signed DKG message: a complaint against a dealer.
pub const DKG_KIND_COMPLAINT: &str = "complaint";
/// Fingerprint kind of a key-holder's signing key.
pub const FP_KEY_HOLDER_SIGNING: &str = "key-holder-signing";
/// Fingerprint kind of a key-holder's communication key.
pub const FP_KEY_HOLDER_COMM: &str = "key-holder-communication";
/// Fingerprint kind of the joint election key.
pub const FP_JOINT_KEY: &str = "joint-key";
/// Proof of knowledge of an encrypted DKG share's ephemeral secret `e` (signed ElGamal).
pub const DS_DKG_SHARE_EPHEMERAL: &[u8] = b"dkg-share-ephemeral";
