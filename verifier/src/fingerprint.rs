//! Fingerprints for people to compare (`docs/protocol/09-credentials.md` §Fingerprint):
//! `SHA-512("dobush/v1/fingerprint" ‖ LE64(len(kind)) ‖ kind ‖ bytes)`, the first 10 bytes as
//! five groups of four lowercase hex digits joined by `-`.

use sha2::{Digest, Sha512};

/// The fingerprint of `bytes` under `kind`.
pub fn fingerprint(kind: &str, bytes: &[u8]) -> String {
    let d = Sha512::new()
        .chain_update(b"dobush/v1/fingerprint")
        .chain_update((kind.len() as u64).to_le_bytes())
        .chain_update(kind.as_bytes())
        .chain_update(bytes)
        .finalize();
    let h = hex::encode(&d[..10]);
    [&h[0..4], &h[4..8], &h[8..12], &h[12..16], &h[16..20]].join("-")
}

/// A pinned member's fingerprint (`14-commission.md` §Member fingerprints): kind
/// `commission-member` over `LE64(len(identity kind)) ‖ identity kind ‖ identity bytes`.
pub fn commission_member(identity_kind: &str, identity: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(8 + identity_kind.len() + identity.len());
    bytes.extend_from_slice(&(identity_kind.len() as u64).to_le_bytes());
    bytes.extend_from_slice(identity_kind.as_bytes());
    bytes.extend_from_slice(identity);
    fingerprint("commission-member", &bytes)
}

/// The election package's fingerprint: kind `election-package` over the extended hash.
pub fn election_package(extended_hash: &[u8; 32]) -> String {
    fingerprint("election-package", extended_hash)
}
