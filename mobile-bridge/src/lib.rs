//! Voter-side protocol for the Dobush mobile apps, exposed through UniFFI: the voter's part of
//! `docs/protocol/08-ballot.md` (ballots, tracking codes, challenges), `09-credentials.md` and
//! `10-board.md` §Receipt.
//!
//! A thin layer over `dobush-crypto`: every cryptographic step happens there; this crate only
//! converts between the crypto types and what crosses the FFI boundary (JSON strings in the
//! record format of `docs/record-format.md`, hex strings, small records) and maps every error to
//! one flat, typed [`BridgeError`]. Bindings: `mobile-bridge/README.md`.
//!
//! The flow on a voter's device:
//! 1. [`Election::load`] the election package (both context hashes are recomputed);
//! 2. [`new_credential`] at application (shown as its recovery code), or
//!    [`restore_credential`] on another device;
//! 3. [`Election::encrypt`] the voter's choices, show the tracking code, then either
//!    [`EncryptedBallotHandle::challenge`] (Benaloh check: the opening is revealed, the ballot can
//!    never be cast, encrypt again) or [`EncryptedBallotHandle::cast_json`] (the secrets are dropped);
//! 4. a second device checks a challenged ballot with [`Election::verify_challenged`];
//! 5. [`Election::verify_receipt`] checks the receipt and its inclusion proof against the
//!    board's signed tree head.

use std::sync::{Arc, Mutex};

use dobush_crypto::ballot::{
    BallotOpening, BallotSecrets, EncryptedBallot, PlaintextBallot, TrackingCode, encrypt_ballot, verify_ballot,
    verify_challenged_ballot,
};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::credential::Credential as CryptoCredential;
use dobush_crypto::record::{ElectionPackage, RECORD_VERSION, Receipt};
use rand_core::OsRng;

uniffi::setup_scaffolding!();

/// Every error the bridge returns. Flat: each variant carries one human-readable message
/// (English, for logs; the apps choose their own localized text by variant).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum BridgeError {
    /// An argument is not valid JSON of the expected shape (or not valid hex).
    #[error("invalid {0}")]
    InvalidInput(String),
    /// The election package was refused: unknown version, a context hash that does not match
    /// its recomputation, a bad manifest, or not the expected election.
    #[error("election package rejected: {0}")]
    PackageRejected(String),
    /// The recovery code is malformed or its checksum does not match (a typo).
    #[error("recovery code rejected: {0}")]
    InvalidRecoveryCode(String),
    /// The plaintext ballot is not a valid vote for this election (unknown style or contest,
    /// too many marks, …).
    #[error("invalid ballot: {0}")]
    InvalidBallot(String),
    /// A ballot's proofs or signature do not verify against this election.
    #[error("ballot does not verify: {0}")]
    BallotRejected(String),
    /// The opening of a challenged ballot does not match the ballot.
    #[error("opening does not match the ballot: {0}")]
    OpeningMismatch(String),
    /// The ballot was checked (challenged): it can never be cast.
    #[error("this ballot was checked and can never be cast; encrypt again")]
    BallotChallenged,
    /// The ballot was cast: its secrets are gone and it can no longer be checked.
    #[error("this ballot was cast; it can no longer be checked")]
    BallotCast,
    /// The receipt does not verify (wrong entry, bad inclusion proof or tree-head signature,
    /// another election).
    #[error("receipt rejected: {0}")]
    ReceiptRejected(String),
    /// A failure inside the bridge that the caller cannot fix (serialization, a poisoned lock).
    #[error("internal error: {0}")]
    Internal(String),
}

fn invalid_json(what: &str) -> impl FnOnce(serde_json::Error) -> BridgeError + '_ {
    move |e| BridgeError::InvalidInput(format!("{what} JSON: {e}"))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, BridgeError> {
    serde_json::to_string(value).map_err(|e| BridgeError::Internal(format!("serialization: {e}")))
}

/// The version of this bridge (the crate version).
#[uniffi::export]
pub fn bridge_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The record format this bridge reads and writes (`dobush-record/2`).
#[uniffi::export]
pub fn record_version() -> String {
    RECORD_VERSION.to_owned()
}

/// A ballot style: the contests one group of voters receives, in ballot order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BallotStyle {
    /// Style id (the `style` of a plaintext ballot).
    pub id: String,
    /// Contest ids in ballot order.
    pub contest_ids: Vec<String>,
}

/// A tracking code in both forms.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Tracking {
    /// All 32 bytes, lowercase hex.
    pub hex: String,
    /// The short form shown to voters (`XXXX-XXXX-XXXX-XXXX`).
    pub short: String,
}

impl From<&TrackingCode> for Tracking {
    fn from(t: &TrackingCode) -> Self {
        Self { hex: t.to_hex(), short: t.short() }
    }
}

/// What a second device learns from a challenged ballot.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CheckedBallot {
    /// The ballot's tracking code: the voter compares it with the one the first device showed.
    pub tracking_code: Tracking,
    /// The opened choices as `PlaintextBallot` JSON: the voter compares them with what they chose.
    pub plaintext_json: String,
}

/// What a verified receipt says.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedReceipt {
    /// The ballot's tracking code: the voter compares it with the one shown when casting.
    pub tracking_code: Tracking,
    /// Position of the ballot on the board (0-based).
    pub index: u64,
    /// Size of the board under the signed tree head.
    pub tree_size: u64,
    /// Time of the tree head, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
}

/// A voter credential held on the device. Its secret never leaves the bridge except as the
/// recovery code, which the app shows to the voter once.
#[derive(Debug, uniffi::Object)]
pub struct CredentialHandle {
    inner: CryptoCredential,
}

/// A new credential from the operating system's random generator.
#[uniffi::export]
pub fn new_credential() -> Result<Arc<CredentialHandle>, BridgeError> {
    CryptoCredential::generate(&mut OsRng)
        .map(|inner| Arc::new(CredentialHandle { inner }))
        .map_err(|e| BridgeError::Internal(format!("credential generation: {e}")))
}

/// Restores a credential from its recovery code (case-insensitive; `-` and spaces ignored).
#[uniffi::export]
pub fn restore_credential(recovery_code: String) -> Result<Arc<CredentialHandle>, BridgeError> {
    CryptoCredential::from_recovery_code(&recovery_code)
        .map(|inner| Arc::new(CredentialHandle { inner }))
        .map_err(|e| BridgeError::InvalidRecoveryCode(e.to_string()))
}

#[uniffi::export]
impl CredentialHandle {
    /// The public credential (registered with the application), lowercase hex.
    pub fn public_hex(&self) -> String {
        self.inner.public().0.to_hex()
    }

    /// The short fingerprint shown to the voter.
    pub fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }

    /// The recovery code: 29 Crockford base32 symbols in groups of four. A secret: show it to
    /// the voter, never log or send it.
    pub fn recovery_code(&self) -> String {
        self.inner.recovery_code().as_str().to_owned()
    }
}

/// A loaded and checked election: the package and the context recomputed from it.
#[derive(Debug, uniffi::Object)]
pub struct Election {
    package: ElectionPackage,
    ctx: ElectionContext,
}

impl Election {
    fn from_json(package_json: &str) -> Result<Self, BridgeError> {
        let package: ElectionPackage = serde_json::from_str(package_json).map_err(invalid_json("election package"))?;
        let ctx = package.context().map_err(|e| BridgeError::PackageRejected(e.to_string()))?;
        Ok(Self { package, ctx })
    }
}

#[uniffi::export]
impl Election {
    /// Parses an election package and recomputes its base and extended hashes; refuses a
    /// package whose published hashes differ.
    #[uniffi::constructor]
    pub fn load(package_json: String) -> Result<Arc<Self>, BridgeError> {
        Self::from_json(&package_json).map(Arc::new)
    }

    /// [`Election::load`], and the extended hash must equal `extended_hash_hex` obtained
    /// independently (e.g. from the commission's published election context).
    #[uniffi::constructor]
    pub fn load_pinned(package_json: String, extended_hash_hex: String) -> Result<Arc<Self>, BridgeError> {
        let expected: [u8; 32] = hex::decode(extended_hash_hex.trim())
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| BridgeError::InvalidInput("extended hash: expected 64 hex digits".into()))?;
        let election = Self::from_json(&package_json)?;
        if *election.ctx.extended_hash() != expected {
            return Err(BridgeError::PackageRejected(
                "the extended hash is not the published election context's".into(),
            ));
        }
        Ok(Arc::new(election))
    }

    /// The extended hash (every ballot is bound to it), lowercase hex.
    pub fn extended_hash_hex(&self) -> String {
        hex::encode(self.ctx.extended_hash())
    }

    /// The base hash (the board's tree heads are bound to it), lowercase hex.
    pub fn base_hash_hex(&self) -> String {
        hex::encode(self.ctx.base_hash())
    }

    /// The campaign id.
    pub fn campaign_id(&self) -> String {
        self.ctx.manifest().campaign_id.clone()
    }

    /// The manifest (contests, options in every language, ballot styles) as JSON.
    pub fn manifest_json(&self) -> Result<String, BridgeError> {
        to_json(self.ctx.manifest())
    }

    /// The ballot styles.
    pub fn ballot_styles(&self) -> Vec<BallotStyle> {
        self.ctx
            .manifest()
            .ballot_styles
            .iter()
            .map(|s| BallotStyle { id: s.id.clone(), contest_ids: s.contests.clone() })
            .collect()
    }

    /// Encrypts and signs a ballot. `plaintext_json` is a `PlaintextBallot`:
    /// `{"style": …, "contests": [{"contest_id": …, "selections": [0/1 per selection]}]}`.
    /// The device verifies its own ballot before returning it (which also yields the tracking
    /// code).
    pub fn encrypt(
        &self,
        credential: Arc<CredentialHandle>,
        plaintext_json: String,
    ) -> Result<Arc<EncryptedBallotHandle>, BridgeError> {
        let plaintext: PlaintextBallot =
            serde_json::from_str(&plaintext_json).map_err(invalid_json("plaintext ballot"))?;
        let (ballot, secrets) = encrypt_ballot(&self.ctx, credential.inner.signing_key(), &plaintext, &mut OsRng)
            .map_err(|e| BridgeError::InvalidBallot(e.to_string()))?;
        let verified = verify_ballot(&self.ctx, ballot, &mut OsRng)
            .map_err(|e| BridgeError::Internal(format!("own ballot does not verify: {e}")))?;
        let tracking_code = *verified.tracking_code();
        let ballot_json = to_json(verified.ballot())?;
        Ok(Arc::new(EncryptedBallotHandle {
            ballot_json,
            tracking_code,
            state: Mutex::new(BallotState::Fresh(secrets)),
        }))
    }

    /// Checks a challenged ballot on a second device: the ballot verifies against this
    /// election and the opening re-encrypts to it. Returns its tracking code and the opened
    /// choices.
    pub fn verify_challenged(&self, ballot_json: String, opening_json: String) -> Result<CheckedBallot, BridgeError> {
        let ballot: EncryptedBallot = serde_json::from_str(&ballot_json).map_err(invalid_json("ballot"))?;
        let opening: BallotOpening = serde_json::from_str(&opening_json).map_err(invalid_json("opening"))?;
        let verified =
            verify_ballot(&self.ctx, ballot, &mut OsRng).map_err(|e| BridgeError::BallotRejected(e.to_string()))?;
        let plaintext = verify_challenged_ballot(&self.ctx, &verified, &opening)
            .map_err(|e| BridgeError::OpeningMismatch(e.to_string()))?;
        Ok(CheckedBallot { tracking_code: verified.tracking_code().into(), plaintext_json: to_json(&plaintext)? })
    }

    /// Checks a receipt: its entry is a ballot with its tracking code, the inclusion proof leads
    /// to the tree head's root, and the board's key (from the package) signed the head for this
    /// election.
    pub fn verify_receipt(&self, receipt_json: String) -> Result<VerifiedReceipt, BridgeError> {
        let receipt: Receipt = serde_json::from_str(&receipt_json).map_err(invalid_json("receipt"))?;
        receipt.verify(&self.package).map_err(|e| BridgeError::ReceiptRejected(e.to_string()))?;
        Ok(VerifiedReceipt {
            tracking_code: (&receipt.tracking_code).into(),
            index: receipt.index,
            tree_size: receipt.tree_head.head.size,
            timestamp_ms: receipt.tree_head.head.timestamp_ms,
        })
    }
}

/// Where an encrypted ballot is in the cast-or-check decision.
#[derive(Debug)]
enum BallotState {
    /// Neither cast nor checked: the secrets are kept for a possible check.
    Fresh(BallotSecrets),
    /// Checked: the opening (public from now on) is kept to show again.
    Challenged(Option<String>),
    /// Cast: the secrets are gone.
    Cast,
}

/// A freshly encrypted ballot: cast it or check it (Benaloh), exactly one of the two.
#[derive(Debug, uniffi::Object)]
pub struct EncryptedBallotHandle {
    ballot_json: String,
    tracking_code: TrackingCode,
    state: Mutex<BallotState>,
}

impl EncryptedBallotHandle {
    fn with_state<T>(&self, f: impl FnOnce(&mut BallotState) -> Result<T, BridgeError>) -> Result<T, BridgeError> {
        let mut state = self.state.lock().map_err(|_| BridgeError::Internal("ballot state lock poisoned".into()))?;
        f(&mut state)
    }
}

#[uniffi::export]
impl EncryptedBallotHandle {
    /// The encrypted ballot as JSON (the record format's `EncryptedBallot`).
    pub fn ballot_json(&self) -> String {
        self.ballot_json.clone()
    }

    /// The tracking code (shown to the voter before they choose to cast or check), lowercase
    /// hex of all 32 bytes.
    pub fn tracking_code_hex(&self) -> String {
        self.tracking_code.to_hex()
    }

    /// The tracking code's short form shown to voters.
    pub fn tracking_code_short(&self) -> String {
        self.tracking_code.short()
    }

    /// Checks the ballot (Benaloh challenge): returns its opening (`BallotOpening` JSON: the
    /// marks and nonces) to post with the ballot and to check on a second device. From now on
    /// the ballot can never be cast: encrypt again. Calling it again returns the same opening;
    /// after [`EncryptedBallotHandle::cast_json`] it fails with [`BridgeError::BallotCast`].
    pub fn challenge(&self) -> Result<String, BridgeError> {
        self.with_state(|state| match state {
            BallotState::Cast => Err(BridgeError::BallotCast),
            BallotState::Challenged(opening) => {
                opening.clone().ok_or_else(|| BridgeError::Internal("the opening could not be serialized".into()))
            }
            BallotState::Fresh(_) => {
                let BallotState::Fresh(secrets) = std::mem::replace(state, BallotState::Challenged(None)) else {
                    return Err(BridgeError::Internal("ballot state changed under its lock".into()));
                };
                // From here the ballot counts as checked whatever happens: its secrets are out.
                let opening = to_json(&secrets.open())?;
                *state = BallotState::Challenged(Some(opening.clone()));
                Ok(opening)
            }
        })
    }

    /// Casts the ballot: drops (and zeroizes) its secrets and returns the ballot JSON to send.
    /// Calling it again returns the same ballot (for a retried send); after
    /// [`EncryptedBallotHandle::challenge`] it fails with [`BridgeError::BallotChallenged`].
    pub fn cast_json(&self) -> Result<String, BridgeError> {
        self.with_state(|state| match state {
            BallotState::Challenged(_) => Err(BridgeError::BallotChallenged),
            BallotState::Fresh(_) | BallotState::Cast => {
                *state = BallotState::Cast; // drops the secrets
                Ok(self.ballot_json.clone())
            }
        })
    }

    /// Whether the ballot was checked (and so can never be cast).
    pub fn is_challenged(&self) -> Result<bool, BridgeError> {
        self.with_state(|state| Ok(matches!(state, BallotState::Challenged(_))))
    }

    /// Whether the ballot was cast.
    pub fn is_cast(&self) -> Result<bool, BridgeError> {
        self.with_state(|state| Ok(matches!(state, BallotState::Cast)))
    }
}

#[cfg(test)]
mod tests;
