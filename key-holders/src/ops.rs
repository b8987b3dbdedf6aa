//! `init`, `rehearse`, `sign` (of a protocol file, or of the protocol saved on the server) and
//! `sign-list`.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use dobush_crypto::commission::{Act, Commission};
use dobush_crypto::election_protocol::{ElectionProtocol, MemberSignature, PROTOCOL_VERSION, ProtocolBody};
use dobush_crypto::elgamal::encrypt;
use dobush_crypto::record::ElectionPackage;
use dobush_crypto::threshold::decrypt::{ShareKeys, TotalId};
use rand_core::{OsRng, RngCore};

use crate::Refused;
use crate::keystore::{Keystore, Secrets, write_private};
use crate::transport::{Api, Relay};

/// Creates the keystore, writes the public keys beside it (and registers them with a relay, a
/// ceremony directory or the server, if given), prints the fingerprints for the in-person check.
pub fn init(dir: &Path, index: u32, passphrase: &str, relay: Option<&Relay>) -> Result<()> {
    let store = Keystore::create(dir, index, passphrase)?;
    let public = store.meta().key_holder;
    let public_path = dir.join(format!("key-holder-{index}.public.json"));
    write_private(&public_path, &serde_json::to_vec_pretty(&public)?)?;
    if let Some(r) = relay {
        r.register(&public)?;
        match r {
            Relay::Dir(_) => println!("registered in the ceremony directory"),
            Relay::Server(_) => println!("registered with the server"),
        }
    }
    println!("keystore created in {} (secrets encrypted: Argon2id + ChaCha20-Poly1305)", dir.display());
    println!("public keys for the commission: {}", public_path.display());
    println!("key-holder index: {index}");
    println!("signing key fingerprint: {}", public.signing_fingerprint());
    println!("communication key fingerprint: {}", public.comm_fingerprint());
    println!("protocol-signing key (Ed25519, demo): {}", store.meta().member_key);
    let mut member_key = [0u8; 32];
    hex::decode_to_slice(&store.meta().member_key, &mut member_key)?;
    println!(
        "commission member fingerprint: {} (for the commission's written decision)",
        dobush_crypto::commission::SigningIdentity::Ed25519 { key: member_key }.fingerprint()
    );
    Ok(())
}

/// Encrypts a random value to the joint key, partially decrypts it with the stored share, signs
/// it as `tally` does, and checks the signature against this key-holder's signing key, the proof
/// against its verification key, and that `D = r·VK`. Decrypts nothing it did not encrypt
/// itself.
pub fn rehearse(store: &Keystore, secrets: &Secrets, campaign: &str) -> Result<u64> {
    let (share, state) = store.load_share(campaign)?;
    let value = u64::from(OsRng.next_u32() % 1_000_000) + 1;
    let (ct, nonce) = encrypt(&state.outcome.joint_key, value, &mut OsRng)?;
    // A fresh context: this proof can never pass for a decryption of an election's total.
    let mut context = [0u8; 32];
    OsRng.fill_bytes(&mut context);
    let total = TotalId { contest: 0, option: 0 };
    let ds = share.partial_decrypt(&context, total, &ct, secrets.keys.signing_key(), &mut OsRng)?;
    let keys = ShareKeys::own(&state.outcome.verification_keys, &store.meta().key_holder)?;
    ds.verify(&context, &keys, total, &ct)
        .map_err(|e| anyhow!("REHEARSAL FAILED: the partial decryption does not verify: {e}"))?;
    let vk = state
        .outcome
        .verification_key(store.index())
        .ok_or_else(|| anyhow!("no verification key for key-holder {}", store.index()))?;
    if *ds.share.point() != vk.point() * nonce.scalar() {
        bail!("REHEARSAL FAILED: the partial decryption is not x·α for this key-holder's verification key");
    }
    Ok(value)
}

/// Signs a protocol body (a file with the `ProtocolBody` JSON) with the member's key from the
/// keystore.
pub fn sign(store_dir: &Path, passphrase: &str, body_path: &Path, member: &str) -> Result<MemberSignature> {
    let text = fs::read_to_string(body_path).with_context(|| format!("cannot read {}", body_path.display()))?;
    let body: ProtocolBody =
        serde_json::from_str(&text).with_context(|| format!("{} is not a protocol body", body_path.display()))?;
    sign_body(store_dir, passphrase, &body, member)
}

/// Signs a protocol body with the member's key from the keystore (the digest is computed here).
pub fn sign_body(store_dir: &Path, passphrase: &str, body: &ProtocolBody, member: &str) -> Result<MemberSignature> {
    if body.version != PROTOCOL_VERSION {
        bail!("protocol version {:?} is not {PROTOCOL_VERSION}", body.version);
    }
    if member.trim().is_empty() {
        bail!("--member must name the commission member");
    }
    let (_, secrets) = Keystore::open(store_dir, passphrase)?;
    Ok(ElectionProtocol::sign(body, member, &secrets.member))
}

/// The protocol saved on the server, as `sign --server` checked it.
#[derive(Debug)]
pub struct ServerProtocol {
    /// The saved body.
    pub body: ProtocolBody,
    /// Its digest, recomputed here (equal to the server's).
    pub digest: [u8; 32],
    /// The commission pinned in the campaign's election package (docs/protocol/14-commission.md).
    pub commission: Commission,
    /// The signatures the protocol already carries (each checked against `commission`).
    pub signatures: Vec<MemberSignature>,
    /// The decryption shares the protocol names (their digest is its `decryption_shares`).
    pub shares: Vec<dobush_crypto::threshold::decrypt::DecryptionShare>,
    /// The election package the protocol was checked against.
    pub package: ElectionPackage,
}

impl ServerProtocol {
    /// For the member to read: how many decryption shares the protocol names, and whose.
    pub fn shares_line(&self) -> String {
        let mut holders: Vec<u32> = self.shares.iter().map(|s| s.key_holder).collect();
        holders.sort_unstable();
        holders.dedup();
        format!(
            "decryption shares named by the protocol: {}, of key-holders {}",
            self.shares.len(),
            crate::ceremony::list(&holders)
        )
    }
}

/// `sign --server`, first half: downloads the saved protocol of `campaign`
/// (`GET /api/v1/campaigns/{id}/protocol`), recomputes its digest and refuses if it is not the
/// server's, not of this campaign, or not `expected` (the digest on the commission's printed
/// copy, if the member gives it); then downloads the election package
/// (`GET /api/v1/campaigns/{id}/package`), recomputes its context hashes (which bind the pinned
/// commission, 14-commission.md) and refuses a protocol drawn up for another context or carrying
/// a signature that is not a pinned member's valid one.
pub fn fetch_protocol(api: &Api, campaign: &str, expected: Option<&str>) -> Result<ServerProtocol> {
    let text =
        api.get_text(&format!("/api/v1/campaigns/{campaign}/protocol")).context("cannot download the protocol")?;
    #[derive(serde::Deserialize)]
    struct Saved {
        protocol: ElectionProtocol,
        digest: String,
    }
    let saved: Saved = serde_json::from_str(&text).context("the server's answer is not a saved protocol")?;
    let body = saved.protocol.body;
    let digest = body.digest();
    if saved.digest != hex::encode(digest) {
        return Err(Refused(format!(
            "the server's digest {} is not the digest of the protocol it sent ({}): not signing",
            saved.digest,
            hex::encode(digest)
        ))
        .into());
    }
    if body.campaign_id != campaign {
        return Err(Refused(format!("the protocol is of campaign {:?}, not {campaign:?}", body.campaign_id)).into());
    }
    if let Some(e) = expected.filter(|e| !e.eq_ignore_ascii_case(&hex::encode(digest))) {
        return Err(Refused(format!(
            "the protocol's digest {} is not the one on the commission's copy ({e}): not signing",
            hex::encode(digest)
        ))
        .into());
    }
    let package: ElectionPackage = serde_json::from_str(
        &api.get_text(&format!("/api/v1/campaigns/{campaign}/package"))
            .context("cannot download the election package")?,
    )
    .context("the server's answer is not an election package")?;
    let ctx = package.context().map_err(|e| Refused(format!("the election package: {e}")))?;
    if body.extended_hash != *ctx.extended_hash() || package.manifest.campaign_id != campaign {
        return Err(Refused("the protocol was drawn up for another election context than the package's".into()).into());
    }
    // the list of decryption shares the protocol names is the one the server publishes
    // (07-threshold.md §Share list digest): a key-holder whose shares are missing sees it here
    #[derive(serde::Deserialize)]
    struct Shares {
        decryption_shares: Vec<dobush_crypto::threshold::decrypt::DecryptionShare>,
    }
    let shares: Shares = serde_json::from_str(
        &api.get_text(&format!("/api/v1/campaigns/{campaign}/decryption-shares"))
            .context("cannot download the decryption shares")?,
    )
    .context("the server's answer is not a list of decryption shares")?;
    if dobush_crypto::threshold::decrypt::shares_digest(&shares.decryption_shares) != body.decryption_shares {
        return Err(Refused(
            "the protocol names another list of decryption shares than the server publishes: not signing".into(),
        )
        .into());
    }
    for s in &saved.protocol.signatures {
        package.commission.check_signature(&digest, s).map_err(|e| {
            Refused(format!("the protocol carries a signature the pinned commission does not account for: {e}"))
        })?;
    }
    Ok(ServerProtocol {
        body,
        digest,
        commission: package.commission.clone(),
        signatures: saved.protocol.signatures,
        shares: shares.decryption_shares,
        package,
    })
}

/// `sign --server`, second half: refuses if this keystore's member key is not pinned in the
/// package's commission (the server would refuse the signature too: a member who is not pinned
/// learns it here), signs the checked protocol under the pinned name and posts the signature
/// (`POST /api/v1/campaigns/{id}/protocol/signatures`). Returns the signature and whether the
/// protocol is now signed: the server's answer, which must agree with the quorum recomputed here
/// from the pinned commission and the signatures (a server claiming a quorum that is not there is
/// refused).
pub fn post_signature(
    store_dir: &Path,
    passphrase: &str,
    api: &Api,
    saved: &ServerProtocol,
    member: &str,
) -> Result<(MemberSignature, bool)> {
    // the name is a label outside the signed digest: the pinned one replaces the one given
    let mut sig = sign_body(store_dir, passphrase, &saved.body, member)?;
    let Some(pinned) = saved.commission.member_by_key(&sig.public_key) else {
        return Err(Refused(format!(
            "this keystore's member key {} is not a member of the commission pinned in the election package: not signing",
            hex::encode(sig.public_key)
        ))
        .into());
    };
    sig.member.clone_from(&pinned.name);
    let answer = api.post(
        &format!("/api/v1/campaigns/{}/protocol/signatures", saved.body.campaign_id),
        &serde_json::json!({
            "public_key": hex::encode(sig.public_key),
            "signature": hex::encode(sig.signature),
        }),
    )?;
    let signed = answer["protocol_signed"]
        .as_bool()
        .ok_or_else(|| anyhow!("the server's answer has no protocol_signed: {answer}"))?;
    let mut all: Vec<MemberSignature> =
        saved.signatures.iter().filter(|s| s.public_key != sig.public_key).cloned().collect();
    all.push(sig.clone());
    let reached = saved.commission.check_act(Act::Protocol, &saved.digest, &all).is_ok();
    if signed && !reached {
        return Err(Refused(
            "the server says the protocol is signed, but the pinned commission's quorum is not reached".into(),
        )
        .into());
    }
    Ok((sig, signed))
}

/// The protocol's lines as the member reads them before signing: number, Kyrgyz and Russian
/// text, value.
pub fn protocol_lines(body: &ProtocolBody) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "protocol of campaign {}, precinct {}", body.campaign_id, body.precinct);
    let _ = writeln!(out, "  computed from the board whose final head's link is {}", hex::encode(body.final_head));
    let line = |out: &mut String, l: &dobush_crypto::election_protocol::Line| {
        let _ = writeln!(out, "  {:>5}  {} / {}: {}", l.number, l.ky, l.ru, l.value);
    };
    for l in &body.general {
        line(&mut out, l);
    }
    for c in &body.contests {
        let _ = writeln!(out, "  contest {}", c.contest_id);
        for l in &c.lines {
            line(&mut out, l);
        }
    }
    out
}

/// Signs the frozen credential list (docs/protocol/10-board.md §Credential list signatures) with
/// the member's key from the keystore. `list_path` holds the server's
/// `GET /api/v1/campaigns/{id}/credential-list` answer; the digest is recomputed here from the
/// campaign id and the exact entry text (never taken from the server), and the entry must be a
/// well-formed list: sorted, counted. Returns the signature and the list's size, which the member
/// compares with the commission's count of e-voters before signing.
pub fn sign_list(store_dir: &Path, passphrase: &str, list_path: &Path, member: &str) -> Result<(MemberSignature, u64)> {
    use dobush_crypto::record::{BoardEntry, list_digest_of};
    let text = fs::read_to_string(list_path).with_context(|| format!("cannot read {}", list_path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", list_path.display()))?;
    let (Some(campaign), Some(entry)) =
        (v.get("campaign_id").and_then(serde_json::Value::as_str), v.get("entry").and_then(serde_json::Value::as_str))
    else {
        bail!("{} has no campaign_id and entry", list_path.display());
    };
    let parsed = serde_json::from_str::<BoardEntry>(entry);
    let count = match &parsed {
        Ok(BoardEntry::CredentialList { credentials, count, revoked }) => {
            dobush_crypto::record::check_credential_list(credentials, *count, revoked)?;
            *count
        }
        // v2 (13-revoting.md §4.2): pin commitments distinct, signed under the v2 label
        Ok(BoardEntry::CredentialListV2 { credentials, count, .. }) => {
            dobush_crypto::record::check_credential_list_v2(credentials, *count)?;
            *count
        }
        _ => bail!("the entry is not a credential list"),
    };
    let Ok(parsed) = parsed else { bail!("the entry is not a credential list") };
    let digest = list_digest_of(campaign, &parsed, entry.as_bytes());
    if let Some(claimed) = v.get("digest").and_then(serde_json::Value::as_str)
        && claimed != hex::encode(digest)
    {
        bail!("the server's digest {claimed} is not the list's digest {}", hex::encode(digest));
    }
    if member.trim().is_empty() {
        bail!("--member must name the commission member");
    }
    let (_, secrets) = Keystore::open(store_dir, passphrase)?;
    Ok((MemberSignature::sign_digest(&digest, member, &secrets.member), count))
}

/// What a member signs for a credential replacement while voting is open, as the commission's
/// decision states it (docs/protocol/10-board.md §Credential replacement signatures).
pub struct ReplacementToSign<'a> {
    /// The campaign id.
    pub campaign: &'a str,
    /// The revoked credential (64 hex digits; its fingerprint is in the decision).
    pub old: &'a str,
    /// The new credential.
    pub new: &'a str,
    /// The voter's ballot style.
    pub style: &'a str,
    /// Reference of the commission's decision, exactly as the server will post it.
    pub decision: &'a str,
}

/// Signs a credential replacement with the member's key from the keystore. The digest is
/// recomputed here from the decision's values (never taken from the server); `expected`, the
/// digest the server named, must equal it. Returns the signature and the digest.
pub fn sign_replacement(
    store_dir: &Path,
    passphrase: &str,
    r: &ReplacementToSign<'_>,
    expected: Option<&str>,
    member: &str,
) -> Result<(MemberSignature, [u8; 32])> {
    use dobush_crypto::signature::VerifyingKey;
    let key = |name: &str, hex: &str| -> Result<VerifyingKey> {
        dobush_crypto::group::GroupElement::from_hex(hex)
            .map(VerifyingKey)
            .map_err(|e| anyhow!("--{name} is not a credential (64 hex digits of a valid key): {e}"))
    };
    let (old, new) = (key("old", r.old)?, key("new", r.new)?);
    if old == new {
        bail!("--old and --new are the same credential");
    }
    if r.campaign.is_empty() || r.style.is_empty() || r.decision.trim().is_empty() || member.trim().is_empty() {
        bail!("--campaign, --style, --decision and --member must not be empty");
    }
    let digest = dobush_crypto::record::credential_replacement_digest(r.campaign, &old, &new, r.style, r.decision);
    if let Some(claimed) = expected
        && !claimed.eq_ignore_ascii_case(&hex::encode(digest))
    {
        bail!(
            "the server's digest {claimed} is not this replacement's digest {}: check every value",
            hex::encode(digest)
        );
    }
    let (_, secrets) = Keystore::open(store_dir, passphrase)?;
    Ok((MemberSignature::sign_digest(&digest, member, &secrets.member), digest))
}

/// What a member checks of a drafted v2 replacement before signing it (13-revoting.md §4.3), from
/// the server's draft answer (`POST …/credentials/replacements/draft`) and the election package
/// the member verified: the entry's replacement digest recomputed (the server's compared); the
/// old binding by X_old for `pin` and X_old's PIN commitment; the new binding by `new` for the
/// same PIN and style, with the decision, matching `new_pin_commitment`; old_tbase
/// = Enc_K(TB(X_old); nonce); the proof of the nonce. The member compares `pin` and the decision
/// with the person and the paper in front of them. The nonce is zeroized. Returns the signature
/// and the digest.
pub fn sign_replacement_v2(
    store_dir: &Path,
    passphrase: &str,
    (draft_path, package_path): (&Path, &Path),
    pin: &str,
    member: &str,
) -> Result<(MemberSignature, [u8; 32])> {
    use dobush_crypto::ballot_v2::registration::{BindingStatement, Pin, verify_binding};
    use dobush_crypto::ballot_v2::replacement::{
        EntryNonce, EntryNonceProof, ReplacementStatement, opens_old_tag_base, verify_entry_nonce,
    };
    use dobush_crypto::elgamal::Ciphertext;
    use dobush_crypto::signature::{Signature, VerifyingKey};
    use zeroize::Zeroizing;
    let read = |p: &Path| -> Result<serde_json::Value> {
        serde_json::from_str(&fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?)
            .with_context(|| format!("{} is not JSON", p.display()))
    };
    let draft = read(draft_path)?;
    let package: ElectionPackage = serde_json::from_value(read(package_path)?).context("not an election package")?;
    let ctx = package.context().map_err(|e| anyhow!("the election package does not check: {e}"))?;
    let campaign = package.manifest.campaign_id.as_str();
    let field = |v: &serde_json::Value, name: &str| -> Result<serde_json::Value> {
        v.get(name).cloned().ok_or_else(|| anyhow!("the draft has no {name}"))
    };
    let hex32 = |v: serde_json::Value, name: &str| -> Result<Zeroizing<[u8; 32]>> {
        let mut out = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(v.as_str().unwrap_or_default(), out.as_mut_slice())
            .map_err(|_| anyhow!("{name} is not 64 hex digits"))?;
        Ok(out)
    };
    let (entry, check) = (field(&draft, "entry")?, field(&draft, "check")?);
    let (old_check, new_check) = (field(&check, "old")?, field(&check, "new")?);
    let text = |v: &serde_json::Value, name: &str| -> Result<String> {
        Ok(field(v, name)?.as_str().ok_or_else(|| anyhow!("{name} is not a string"))?.to_owned())
    };
    let (style, decision) = (text(&entry, "style")?, text(&entry, "decision")?);
    if decision.trim().is_empty() || member.trim().is_empty() {
        bail!("the decision and --member must not be empty");
    }
    let new: VerifyingKey = serde_json::from_value(field(&entry, "new")?).context("new")?;
    let old: VerifyingKey = serde_json::from_value(field(&old_check, "credential")?).context("old credential")?;
    let new_pc = *hex32(field(&entry, "new_pin_commitment")?, "new_pin_commitment")?;
    let old_pc = *hex32(field(&old_check, "pin_commitment")?, "old pin_commitment")?;
    let old_tbase: Ciphertext = serde_json::from_value(field(&entry, "old_tbase")?).context("old_tbase")?;
    let proof: EntryNonceProof = serde_json::from_value(field(&entry, "proof")?).context("proof")?;
    let pin = Pin::parse(pin).map_err(|e| anyhow!("--pin: {e}"))?;
    // the old binding: X_old was this PIN's credential (decision "" at application; a
    // credential that came by an earlier replacement was bound with that decision)
    let old_salt = hex32(field(&old_check, "salt")?, "old salt")?;
    let old_binding: Signature = serde_json::from_value(field(&old_check, "binding")?).context("old binding")?;
    let old_ok = |d: &str| {
        let st = BindingStatement {
            base_hash: &package.base_hash,
            campaign,
            pin: &pin,
            salt: &old_salt,
            style: &style,
            decision: d,
            credential: &old,
        };
        verify_binding(&st, &old_binding, &old_pc).is_ok()
    };
    // the decision the old binding names: "" at application, an earlier replacement's decision
    let old_decision = old_check.get("decision").and_then(serde_json::Value::as_str).unwrap_or_default();
    if !old_ok(old_decision) {
        bail!("the old credential's binding is not for this PIN and style (or not its PIN commitment)");
    }
    let new_salt = hex32(field(&new_check, "salt")?, "new salt")?;
    let new_binding: Signature = serde_json::from_value(field(&new_check, "binding")?).context("new binding")?;
    let st = BindingStatement {
        base_hash: &package.base_hash,
        campaign,
        pin: &pin,
        salt: &new_salt,
        style: &style,
        decision: &decision,
        credential: &new,
    };
    verify_binding(&st, &new_binding, &new_pc)
        .map_err(|e| anyhow!("the new credential's binding is not for this PIN, style and decision: {e}"))?;
    if old == new {
        bail!("the new credential is the old one");
    }
    let nonce =
        EntryNonce::from_bytes(&*hex32(field(&check, "nonce")?, "nonce")?).map_err(|e| anyhow!("the nonce: {e}"))?;
    if !opens_old_tag_base(&ctx, &old, &old_tbase, &nonce) {
        bail!("old_tbase is not the old credential's encrypted tag base under this nonce");
    }
    drop(nonce);
    let digest = ReplacementStatement {
        campaign,
        style: &style,
        new: &new,
        new_pin_commitment: &new_pc,
        old_tbase: &old_tbase,
        decision: &decision,
    }
    .digest();
    verify_entry_nonce(&ctx, &digest, &old_tbase, &proof).map_err(|e| anyhow!("the proof of the nonce: {e}"))?;
    if let Some(claimed) = draft.get("digest").and_then(serde_json::Value::as_str)
        && !claimed.eq_ignore_ascii_case(&hex::encode(digest))
    {
        bail!("the server's digest {claimed} is not this replacement's digest {}", hex::encode(digest));
    }
    let (_, secrets) = Keystore::open(store_dir, passphrase)?;
    Ok((MemberSignature::sign_digest(&digest, member, &secrets.member), digest))
}
