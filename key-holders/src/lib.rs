//! The key-holders' tool of Dobush (`dobush-key-holders`): the library behind the binary, so
//! that the transport can be swapped and tests can reach the keystore.
//!
//! It runs on a key-holder's own computer. Secrets (ceremony keys, the DKG polynomial, the key
//! share, the member's protocol-signing key) live only in the keystore, encrypted under the
//! key-holder's passphrase ([`keystore`]); ceremony messages go through [`transport`].

pub mod ceremony;
pub mod commission_check;
pub mod final_head;
pub mod keystore;
pub mod ops;
pub mod tally;
pub mod tally_v2;
pub mod transport;

/// A check failed and the tool refuses to go on (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("REFUSED: {0}")]
pub struct Refused(pub String);

/// Reads and parses a JSON file; returns the value and the exact bytes read.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> anyhow::Result<(T, Vec<u8>)> {
    use anyhow::Context;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value = serde_json::from_slice(&bytes).with_context(|| format!("{} is malformed", path.display()))?;
    Ok((value, bytes))
}
