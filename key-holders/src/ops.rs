//! `init`, `rehearse` and `sign`.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use dobush_crypto::election_protocol::{
    ElectionProtocol, MemberSignature, PROTOCOL_VERSION, ProtocolBody,
};
use dobush_crypto::elgamal::encrypt;
use dobush_crypto::threshold::decrypt::TotalId;
use rand_core::{OsRng, RngCore};

use crate::keystore::{Keystore, write_private};
use crate::transport::CeremonyDir;

/// Creates the keystore, writes the public keys beside it (and registers them in a ceremony
/// directory if given), prints the fingerprints for the in-person check.
pub fn init(dir: &Path, index: u32, passphrase: &str, ceremony: Option<&Path>) -> Result<()> {
    let store = Keystore::create(dir, index, passphrase)?;
    let public = store.meta().key_holder;
    let public_path = dir.join(format!("key-holder-{index}.public.json"));
    write_private(&public_path, &serde_json::to_vec_pretty(&public)?)?;
    if let Some(c) = ceremony {
        CeremonyDir::new(c).register(&public)?;
        println!("registered in the ceremony directory {}", c.display());
    }
    println!(
        "keystore created in {} (secrets encrypted: Argon2id + ChaCha20-Poly1305)",
        dir.display()
    );
    println!("public keys for the commission: {}", public_path.display());
    println!("key-holder index: {index}");
    println!("signing key fingerprint: {}", public.signing_fingerprint());
    println!(
        "communication key fingerprint: {}",
        public.comm_fingerprint()
    );
    println!(
        "protocol-signing key (Ed25519, demo): {}",
        store.meta().member_key
    );
    Ok(())
}

/// Encrypts a random value to the joint key, partially decrypts it with the stored share and
/// checks the proof against this key-holder's verification key, and that `D = r·VK`. Decrypts
/// nothing it did not encrypt itself.
pub fn rehearse(store: &Keystore, campaign: &str) -> Result<u64> {
    let (share, state) = store.load_share(campaign)?;
    let value = u64::from(OsRng.next_u32() % 1_000_000) + 1;
    let (ct, nonce) = encrypt(&state.outcome.joint_key, value, &mut OsRng)?;
    // A fresh context: this proof can never pass for a decryption of an election's total.
    let mut context = [0u8; 32];
    OsRng.fill_bytes(&mut context);
    let total = TotalId {
        contest: 0,
        option: 0,
    };
    let ds = share.partial_decrypt(&context, total, &ct, &mut OsRng)?;
    ds.verify(&context, &state.outcome.verification_keys, total, &ct)
        .map_err(|e| anyhow!("REHEARSAL FAILED: the partial decryption does not verify: {e}"))?;
    let vk = state
        .outcome
        .verification_key(store.index())
        .ok_or_else(|| anyhow!("no verification key for key-holder {}", store.index()))?;
    if *ds.share.point() != vk.point() * nonce.scalar() {
        bail!(
            "REHEARSAL FAILED: the partial decryption is not x·α for this key-holder's verification key"
        );
    }
    Ok(value)
}

/// Signs a protocol body with the member's key from the keystore.
pub fn sign(
    store_dir: &Path,
    passphrase: &str,
    body_path: &Path,
    member: &str,
) -> Result<MemberSignature> {
    let text = fs::read_to_string(body_path)
        .with_context(|| format!("cannot read {}", body_path.display()))?;
    let body: ProtocolBody = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a protocol body", body_path.display()))?;
    if body.version != PROTOCOL_VERSION {
        bail!(
            "protocol version {:?} is not {PROTOCOL_VERSION}",
            body.version
        );
    }
    if member.trim().is_empty() {
        bail!("--member must name the commission member");
    }
    let (_, secrets) = Keystore::open(store_dir, passphrase)?;
    Ok(ElectionProtocol::sign(&body, member, &secrets.member))
}
