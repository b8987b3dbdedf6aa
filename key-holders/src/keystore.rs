//! The key-holder's keystore: a directory on the key-holder's own computer.
//!
//! - `keystore.json`: public metadata (index, public keys, the member's Ed25519 public key and
//!   the KDF parameters with their salt). Nothing secret.
//! - `keys.enc`: the ceremony keys (`KeyHolderKeys`, 64 bytes) and the member's Ed25519 seed
//!   (32 bytes), encrypted.
//! - `campaigns/<id>/polynomial.enc`: the DKG polynomial and its round-1 commitments, encrypted.
//! - `campaigns/<id>/key-share.enc`: the key share, encrypted.
//! - `campaigns/<id>/ceremony.json`: the public outcome of the ceremony as this key-holder
//!   computed it (base context hash, parameters, joint key, verification keys).
//!
//! Every secret file is ChaCha20-Poly1305 under a key derived from the passphrase with
//! Argon2id; its associated data binds the file's purpose, the campaign and the exact bytes of
//! `keystore.json`, so a file moved to another purpose or keystore, or any edit of the
//! metadata, makes decryption fail. Secrets are held in `Zeroizing` buffers and never written
//! unencrypted.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use dobush_crypto::threshold::dkg::{DealerCommitments, Polynomial};
use dobush_crypto::threshold::{KeyHolderKeys, KeyHolderPublic, KeyShare, Parameters};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::read_json;

/// Format version of the keystore and its files.
pub const KEYSTORE_VERSION: &str = "dobush-keystore/1";
/// Environment variable that supplies the passphrase (scripts and tests); otherwise prompted.
pub const PASSPHRASE_ENV: &str = "DOBUSH_PASSPHRASE";
/// Shortest passphrase `init` accepts.
pub const MIN_PASSPHRASE_CHARS: usize = 10;

const META_FILE: &str = "keystore.json";
const KEYS_FILE: &str = "keys.enc";

/// Argon2id parameters (RFC 9106 §4 second recommended option: 64 MiB, 3 passes, 1 lane).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// 16 random bytes, hex.
    pub salt: String,
}

/// `keystore.json`: the public part of the keystore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoreMeta {
    /// [`KEYSTORE_VERSION`].
    pub version: String,
    /// The key-holder's public keys (index and all), as handed to the commission.
    pub key_holder: KeyHolderPublic,
    /// The member's Ed25519 public key for signing the protocol, hex.
    pub member_key: String,
    /// How the file key is derived from the passphrase.
    pub kdf: KdfParams,
}

/// Secrets of the keystore, decrypted for the duration of one command.
pub struct Secrets {
    /// The ceremony keys.
    pub keys: KeyHolderKeys,
    /// The member's Ed25519 key for the protocol (zeroized on drop by ed25519-dalek).
    pub member: ed25519_dalek::SigningKey,
}

/// An encrypted file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedFile {
    version: String,
    purpose: String,
    campaign: Option<String>,
    nonce: String,
    ciphertext: String,
}

/// The public state of a finished ceremony, as this key-holder computed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyState {
    /// Campaign id.
    pub campaign: String,
    /// `n` and `t`.
    pub params: Parameters,
    /// The base context hash, hex.
    pub base_hash: String,
    /// The ceremony's public outcome.
    pub outcome: dobush_crypto::threshold::dkg::CeremonyOutcome,
}

/// An opened keystore: its directory, metadata and the file key.
pub struct Keystore {
    dir: PathBuf,
    meta: KeystoreMeta,
    meta_bytes: Vec<u8>,
    key: Zeroizing<[u8; 32]>,
}

/// Reads the passphrase from [`PASSPHRASE_ENV`] or prompts for it (twice when `confirm`).
pub fn read_passphrase(confirm: bool) -> Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(Zeroizing::new(p));
    }
    let p = Zeroizing::new(
        rpassword::prompt_password("Keystore passphrase: ").context("cannot read the passphrase from the terminal")?,
    );
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("Repeat the passphrase: ").context("cannot read the passphrase")?,
        );
        if *again != *p {
            bail!("the two passphrases differ");
        }
    }
    Ok(p)
}

fn derive_key(passphrase: &str, kdf: &KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    if kdf.algorithm != "argon2id" {
        bail!("keystore: unknown KDF {:?}", kdf.algorithm);
    }
    let salt = hex::decode(&kdf.salt).context("keystore: malformed salt")?;
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| anyhow!("keystore: invalid KDF parameters: {e}"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, key.as_mut())
        .map_err(|e| anyhow!("keystore: key derivation failed: {e}"))?;
    Ok(key)
}

/// Writes `bytes` to `path` atomically (temporary file, then rename), readable by the owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// Checks a campaign id before it becomes a directory name.
pub fn check_campaign_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!("campaign id {id:?} must be 1–64 characters of A–Z, a–z, 0–9, '-', '_', '.' and not start with '.'");
    }
    Ok(())
}

impl Keystore {
    /// Creates a keystore for key-holder `index` in `dir` (which must not hold one already),
    /// with fresh ceremony keys and member key. Returns the opened keystore.
    pub fn create(dir: &Path, index: u32, passphrase: &str) -> Result<Self> {
        if index == 0 || index > dobush_crypto::threshold::MAX_KEY_HOLDERS {
            bail!("key-holder index must be between 1 and {}", dobush_crypto::threshold::MAX_KEY_HOLDERS);
        }
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            bail!("the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters");
        }
        if dir.join(META_FILE).exists() {
            bail!("{} already holds a keystore; refusing to overwrite keys", dir.display());
        }
        create_private_dir(dir)?;
        let keys = KeyHolderKeys::generate(&mut OsRng);
        let member = ed25519_dalek::SigningKey::generate(&mut OsRng);
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let meta = KeystoreMeta {
            version: KEYSTORE_VERSION.into(),
            key_holder: keys.public(index),
            member_key: hex::encode(member.verifying_key().as_bytes()),
            kdf: KdfParams {
                algorithm: "argon2id".into(),
                memory_kib: 64 * 1024,
                iterations: 3,
                parallelism: 1,
                salt: hex::encode(salt),
            },
        };
        let meta_bytes = serde_json::to_vec_pretty(&meta)?;
        let store = Self::unlock(dir, meta, meta_bytes, passphrase)?;
        let mut plain = Zeroizing::new(Vec::with_capacity(96));
        plain.extend_from_slice(keys.to_bytes().as_ref());
        plain.extend_from_slice(Zeroizing::new(member.to_bytes()).as_ref());
        let sealed = store.seal("keys", None, &[], &plain)?;
        write_private(&dir.join(META_FILE), &store.meta_bytes)?;
        write_private(&dir.join(KEYS_FILE), &sealed)?;
        Ok(store)
    }

    fn unlock(dir: &Path, meta: KeystoreMeta, meta_bytes: Vec<u8>, passphrase: &str) -> Result<Self> {
        let key = derive_key(passphrase, &meta.kdf)?;
        Ok(Self { dir: dir.to_path_buf(), meta, meta_bytes, key })
    }

    /// Opens the keystore in `dir` with `passphrase` and checks the passphrase by decrypting
    /// the keys. Returns the keystore and its secrets.
    pub fn open(dir: &Path, passphrase: &str) -> Result<(Self, Secrets)> {
        let meta_path = dir.join(META_FILE);
        if !meta_path.exists() {
            bail!("no keystore at {} (run `init` first)", dir.display());
        }
        let (meta, meta_bytes): (KeystoreMeta, _) = read_json(&meta_path)?;
        if meta.version != KEYSTORE_VERSION {
            bail!("{}: unknown keystore version {:?}", meta_path.display(), meta.version);
        }
        let store = Self::unlock(dir, meta, meta_bytes, passphrase)?;
        let plain = store.unseal_file(&dir.join(KEYS_FILE), "keys", None, &[])?;
        if plain.len() != 96 {
            bail!("keystore: the keys file has the wrong length");
        }
        let keys = KeyHolderKeys::from_bytes(&plain[..64]).map_err(|e| anyhow!("keystore: bad keys: {e}"))?;
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&plain[64..]);
        let member = ed25519_dalek::SigningKey::from_bytes(&seed);
        if keys.public(store.index()) != store.meta.key_holder
            || hex::encode(member.verifying_key().as_bytes()) != store.meta.member_key
        {
            bail!("keystore: the keys do not match keystore.json");
        }
        Ok((store, Secrets { keys, member }))
    }

    /// The key-holder's index.
    pub fn index(&self) -> u32 {
        self.meta.key_holder.index
    }

    /// The public metadata.
    pub fn meta(&self) -> &KeystoreMeta {
        &self.meta
    }

    fn aad(&self, purpose: &str, campaign: Option<&str>, bound: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(self.meta_bytes.len() + 96);
        for part in [KEYSTORE_VERSION.as_bytes(), purpose.as_bytes(), campaign.unwrap_or("").as_bytes(), bound] {
            aad.extend_from_slice(&(part.len() as u64).to_le_bytes());
            aad.extend_from_slice(part);
        }
        aad.extend_from_slice(&self.meta_bytes);
        aad
    }

    fn seal(&self, purpose: &str, campaign: Option<&str>, bound: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        let cipher = ChaCha20Poly1305::new_from_slice(self.key.as_ref()).map_err(|_| anyhow!("bad key length"))?;
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let aad = self.aad(purpose, campaign, bound);
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: &aad })
            .map_err(|_| anyhow!("encryption failed"))?;
        let file = SealedFile {
            version: KEYSTORE_VERSION.into(),
            purpose: purpose.into(),
            campaign: campaign.map(str::to_owned),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ct),
        };
        Ok(serde_json::to_vec_pretty(&file)?)
    }

    fn unseal_file(
        &self,
        path: &Path,
        purpose: &str,
        campaign: Option<&str>,
        bound: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let (file, _): (SealedFile, _) = read_json(path)?;
        if file.version != KEYSTORE_VERSION || file.purpose != purpose || file.campaign.as_deref() != campaign {
            bail!("{} is not the {purpose} file of this keystore", path.display());
        }
        let nonce = hex::decode(&file.nonce).ok().filter(|n| n.len() == 12);
        let ct = hex::decode(&file.ciphertext).ok();
        let (Some(nonce), Some(ct)) = (nonce, ct) else {
            bail!("{} is malformed", path.display());
        };
        let cipher = ChaCha20Poly1305::new_from_slice(self.key.as_ref()).map_err(|_| anyhow!("bad key length"))?;
        let aad = self.aad(purpose, campaign, bound);
        cipher
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| anyhow!("cannot decrypt {}: wrong passphrase, or the keystore was altered", path.display()))
    }

    fn campaign_dir(&self, campaign: &str) -> Result<PathBuf> {
        check_campaign_id(campaign)?;
        Ok(self.dir.join("campaigns").join(campaign))
    }

    fn polynomial_path(&self, campaign: &str) -> Result<PathBuf> {
        Ok(self.campaign_dir(campaign)?.join("polynomial.enc"))
    }

    fn share_path(&self, campaign: &str) -> Result<PathBuf> {
        Ok(self.campaign_dir(campaign)?.join("key-share.enc"))
    }

    fn state_path(&self, campaign: &str) -> Result<PathBuf> {
        Ok(self.campaign_dir(campaign)?.join("ceremony.json"))
    }

    /// Whether round 1 was done for `campaign` (the polynomial is stored).
    pub fn has_polynomial(&self, campaign: &str) -> Result<bool> {
        Ok(self.polynomial_path(campaign)?.exists())
    }

    /// Stores the polynomial and its round-1 commitments (which must stay unpublished until
    /// round 2: the commitment hash binds their proofs, which are randomised).
    pub fn store_polynomial(&self, campaign: &str, poly: &Polynomial, commitments: &DealerCommitments) -> Result<()> {
        let path = self.polynomial_path(campaign)?;
        if path.exists() {
            bail!("round 1 was already done for campaign {campaign:?}: {} exists", path.display());
        }
        create_private_dir(&self.campaign_dir(campaign)?)?;
        let coefficients = poly.to_bytes();
        let public = serde_json::to_vec(commitments)?;
        // Sized up front: a reallocation would leave a copy of the coefficients behind.
        let mut plain = Zeroizing::new(Vec::with_capacity(coefficients.len() + public.len()));
        plain.extend_from_slice(&coefficients);
        plain.extend_from_slice(&public);
        write_private(&path, &self.seal("polynomial", Some(campaign), &[], &plain)?)
    }

    /// Loads the polynomial and commitments stored in round 1.
    pub fn load_polynomial(&self, campaign: &str, params: &Parameters) -> Result<(Polynomial, DealerCommitments)> {
        let path = self.polynomial_path(campaign)?;
        if !path.exists() {
            bail!("no polynomial for campaign {campaign:?}: run `ceremony commit` first");
        }
        let plain = self.unseal_file(&path, "polynomial", Some(campaign), &[])?;
        let split = 32 * params.t() as usize;
        if plain.len() < split {
            bail!("the stored polynomial is not of threshold t = {}", params.t());
        }
        let poly = Polynomial::from_bytes(params, &plain[..split])
            .map_err(|e| anyhow!("the stored polynomial does not fit t = {}: {e}", params.t()))?;
        let commitments: DealerCommitments = serde_json::from_slice(&plain[split..])
            .map_err(|_| anyhow!("the stored polynomial is not of threshold t = {}", params.t()))?;
        Ok((poly, commitments))
    }

    /// Deletes the polynomial once the key share is stored: it is not needed any more.
    pub fn remove_polynomial(&self, campaign: &str) -> Result<()> {
        let path = self.polynomial_path(campaign)?;
        fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))
    }

    /// Stores the key share and the public ceremony state. The share's associated data binds
    /// the exact bytes of `ceremony.json`, so an edited joint key or verification key is found.
    pub fn store_share(&self, state: &CeremonyState, share: &KeyShare) -> Result<()> {
        let state_bytes = serde_json::to_vec_pretty(state)?;
        let sealed = self.seal("key-share", Some(&state.campaign), &state_bytes, share.secret_bytes().as_ref())?;
        write_private(&self.share_path(&state.campaign)?, &sealed)?;
        write_private(&self.state_path(&state.campaign)?, &state_bytes)
    }

    fn read_state(&self, campaign: &str) -> Result<Option<(CeremonyState, Vec<u8>)>> {
        let path = self.state_path(campaign)?;
        if !path.exists() {
            return Ok(None);
        }
        let (state, bytes): (CeremonyState, _) = read_json(&path)?;
        if state.campaign != campaign {
            bail!("{} names campaign {:?}, not {campaign:?}", path.display(), state.campaign);
        }
        Ok(Some((state, bytes)))
    }

    /// The ceremony state stored by `finish`, if any (unauthenticated: for comparisons only).
    pub fn load_state(&self, campaign: &str) -> Result<Option<CeremonyState>> {
        Ok(self.read_state(campaign)?.map(|(s, _)| s))
    }

    /// Loads the key share with the ceremony state it is bound to, and checks the share against
    /// this key-holder's verification key.
    pub fn load_share(&self, campaign: &str) -> Result<(KeyShare, CeremonyState)> {
        let Some((state, bytes)) = self.read_state(campaign)? else {
            bail!("no key share for campaign {campaign:?}: run `ceremony finish` first");
        };
        let plain = self.unseal_file(&self.share_path(campaign)?, "key-share", Some(campaign), &bytes)?;
        let share = KeyShare::from_secret_bytes(self.index(), &plain)
            .map_err(|e| anyhow!("the stored key share is damaged: {e}"))?;
        if state.outcome.verification_key(self.index()) != Some(&share.verification_key()) {
            bail!(
                "the stored key share does not match this key-holder's verification key: the share is lost or corrupted"
            );
        }
        Ok((share, state))
    }
}
