//! The key ceremony, one key-holder per process (`docs/protocol/06-dkg.md`): the same rounds as
//! `dobush_crypto::testing::InProcessCeremony`, with this key-holder's secrets from its keystore
//! and everyone's messages through the [`transport`](crate::transport).

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use dobush_crypto::context::base_hash;
use dobush_crypto::threshold::dkg::{
    self, CeremonyMessage, CeremonyTranscript, CommitmentHash, Complaint, DealerCommitments, EncryptedShare,
    Polynomial, Signed,
};
use dobush_crypto::threshold::{DealerFault, DkgError, KeyHolderPublic, Parameters, check_key_holders};
use rand_core::OsRng;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Refused;
use crate::keystore::{CeremonyState, Keystore, Secrets, check_campaign_id};
use crate::transport::{Relay, Slot};

/// Everything a ceremony round needs.
pub struct Session {
    /// The keystore.
    pub store: Keystore,
    /// Its secrets.
    pub secrets: Secrets,
    /// The relay: the ceremony directory or the server.
    pub dir: Relay,
    /// Campaign id.
    pub campaign: String,
    /// `n` (from the registered key-holders) and `t`.
    pub params: Parameters,
    /// Every key-holder's public keys, in index order.
    pub publics: Vec<KeyHolderPublic>,
    /// The base context hash.
    pub context: [u8; 32],
}

/// The base context of a ceremony from the registered key-holders, checked. A relay that was
/// configured with another `t` than the one given (the commission's) is refused.
pub fn ceremony_context(dir: &Relay, campaign: &str, t: u32) -> Result<(Parameters, Vec<KeyHolderPublic>, [u8; 32])> {
    check_campaign_id(campaign)?;
    if let Some(relay_t) = dir.threshold()?
        && relay_t != t
    {
        return Err(Refused(format!(
            "the server runs this ceremony with t = {relay_t}, not the t = {t} the commission fixed"
        ))
        .into());
    }
    let publics = dir.key_holders()?;
    let n = u32::try_from(publics.len()).map_err(|_| anyhow!("too many key-holders"))?;
    let params = Parameters::new(n, t).map_err(|e| anyhow!("{e} (n = number of registered key-holders)"))?;
    check_key_holders(&params, &publics).map_err(|e| anyhow!("registered key-holders: {e}"))?;
    let ids: Vec<_> = publics.iter().map(KeyHolderPublic::context_keys).collect();
    Ok((params, publics, base_hash(campaign, t, &ids)))
}

impl Session {
    /// Opens the keystore and the relay, computes the base context and checks that this
    /// keystore is the key-holder registered under its index.
    pub fn open(keystore: &Path, passphrase: &str, dir: Relay, campaign: &str, t: u32) -> Result<Self> {
        let (store, secrets) = Keystore::open(keystore, passphrase)?;
        let (params, publics, context) = ceremony_context(&dir, campaign, t)?;
        let me = store.index();
        if me.checked_sub(1).and_then(|i| publics.get(i as usize)) != Some(&store.meta().key_holder) {
            bail!("the relay (ceremony directory or server) does not register this keystore's keys as key-holder {me}");
        }
        if let Some(state) = store.load_state(campaign)?
            && state.base_hash != hex::encode(context)
        {
            bail!(
                "this keystore finished campaign {campaign:?} under another base context: the key-holders or t changed"
            );
        }
        println!("campaign: {campaign}; key-holder {me} of n = {}, t = {}", params.n(), params.t());
        println!("base context hash: {}", hex::encode(context));
        for p in &publics {
            println!(
                "key-holder {}: signing key {}, communication key {}",
                p.index,
                p.signing_fingerprint(),
                p.comm_fingerprint()
            );
        }
        Ok(Self { store, secrets, dir, campaign: campaign.into(), params, publics, context })
    }

    fn me(&self) -> u32 {
        self.store.index()
    }

    fn others(&self) -> impl Iterator<Item = u32> + '_ {
        let me = self.me();
        self.params.indices().filter(move |&l| l != me)
    }

    /// The key-holders whose message `slot(l)` is not relayed yet.
    fn missing(&self, slot: impl Fn(u32) -> Slot) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        for l in self.params.indices() {
            if !self.dir.has(slot(l))? {
                out.push(l);
            }
        }
        Ok(out)
    }

    fn sign<M: CeremonyMessage>(&self, message: M) -> Signed<M> {
        Signed::sign(message, &self.context, &self.secrets.keys, &mut OsRng)
    }

    /// Round 1: draws the polynomial, stores it encrypted with its commitments, publishes the
    /// signed commitment hash.
    pub fn commit(&self) -> Result<()> {
        let me = self.me();
        if self.store.has_polynomial(&self.campaign)? {
            bail!("round 1 is already done for campaign {:?} (the polynomial is stored)", self.campaign);
        }
        let poly = Polynomial::random(&self.params, &mut OsRng);
        let commitments = poly.commit(&self.params, &self.context, me, &mut OsRng)?;
        self.store.store_polynomial(&self.campaign, &poly, &commitments)?;
        let hash = commitments.commitment_hash(&self.context);
        self.dir.publish(Slot::CommitmentHash(me), &self.sign(hash))?;
        println!("round 1: published the commitment hash of key-holder {me}: {}", hex::encode(hash.hash));
        Ok(())
    }

    /// Round 2: checks every round-1 message is in, publishes the reveal and the shares.
    pub fn reveal(&self, with_reveal: bool) -> Result<()> {
        let me = self.me();
        let missing = self.missing(Slot::CommitmentHash)?;
        if !missing.is_empty() {
            bail!("round 1 is not complete: no commitment hash yet from key-holder(s) {}", list(&missing));
        }
        for i in self.params.indices() {
            if fetch_valid::<CommitmentHash>(self, Slot::CommitmentHash(i), i)?.is_none() {
                bail!("round 1: the commitment hash of key-holder {i} is invalid; the commission must resolve this");
            }
        }
        let (poly, commitments) = self.store.load_polynomial(&self.campaign, &self.params)?;
        let mine = fetch_valid::<CommitmentHash>(self, Slot::CommitmentHash(me), me)?
            .ok_or_else(|| anyhow!("own commitment hash missing"))?;
        commitments.check_hash(&self.context, &mine).map_err(|_| {
            anyhow!("the published commitment hash is not of the stored polynomial: the key-holders or t changed since round 1")
        })?;
        if with_reveal {
            let existing = fetch_valid::<DealerCommitments>(self, Slot::Reveal(me), me)?;
            if existing.as_ref() != Some(&commitments) {
                self.dir.publish(Slot::Reveal(me), &self.sign(commitments.clone()))?;
            }
            println!("round 2: published the commitments of key-holder {me}");
        }
        let mut sent = 0;
        for p in self.publics.iter().filter(|p| p.index != me) {
            if self.dir.has(Slot::Share(me, p.index))? {
                continue;
            }
            let share = poly.encrypt_share(&self.context, me, p, &mut OsRng)?;
            self.dir.publish(Slot::Share(me, p.index), &self.sign(share))?;
            sent += 1;
        }
        println!("round 2: published {sent} encrypted share(s) of key-holder {me}");
        Ok(())
    }

    /// Round 3: checks every share addressed to this key-holder and publishes signed complaints
    /// against the dealers of bad ones (an empty list when all are good).
    pub fn check(&self) -> Result<()> {
        let me = self.me();
        let mut not_yet: Vec<u32> = Vec::new();
        for i in self.others() {
            if !self.dir.has(Slot::Reveal(i))? || !self.dir.has(Slot::Share(i, me))? {
                not_yet.push(i);
            }
        }
        if !not_yet.is_empty() {
            bail!(
                "round 2 is not complete: no reveal or no share for key-holder {me} yet from dealer(s) {}",
                list(&not_yet)
            );
        }
        let mut complaints: Vec<Signed<Complaint>> = Vec::new();
        let mut good = 0;
        for i in self.others() {
            let Some(reveal) = fetch_valid::<DealerCommitments>(self, Slot::Reveal(i), i)? else {
                println!("dealer {i}: reveal invalid (public fault, no complaint needed)");
                continue;
            };
            let hash = fetch_valid::<CommitmentHash>(self, Slot::CommitmentHash(i), i)?;
            if hash.is_none_or(|h| reveal.check_hash(&self.context, &h).is_err())
                || reveal.verify(&self.params, &self.context).is_err()
            {
                println!("dealer {i}: commitments do not match its hash or their proofs fail (public fault)");
                continue;
            }
            let Some(share) = fetch_valid::<EncryptedShare>(self, Slot::Share(i, me), i)? else {
                println!("dealer {i}: share invalid (public fault, no complaint needed)");
                continue;
            };
            match self.secrets.keys.check_share(&self.context, &share, &reveal) {
                Ok(()) => good += 1,
                Err(DkgError::BadShare { fault: DealerFault::InvalidShareProof { .. }, .. }) => {
                    println!(
                        "dealer {i}: share's ephemeral-key proof fails (public fault; a complaint would be unsafe)"
                    );
                }
                Err(DkgError::BadShare { fault, .. }) => {
                    println!("dealer {i}: BAD SHARE ({fault}); publishing a complaint");
                    let complaint = self.secrets.keys.complain(&self.context, &share, &mut OsRng)?;
                    complaints.push(self.sign(complaint));
                }
                Err(e) => return Err(e).context(format!("checking the share of dealer {i}")),
            }
        }
        if let Some(existing) = fetch_list::<Complaint>(self, Slot::Complaints(me), me)? {
            let against = |v: &[Signed<Complaint>]| v.iter().map(|c| c.message.dealer).collect::<Vec<_>>();
            if against(&existing) != against(&complaints) {
                bail!("round 3 was already done with other complaints (against {})", list(&against(&existing)));
            }
        } else {
            self.dir.publish(Slot::Complaints(me), &complaints)?;
        }
        println!("round 3: {good} share(s) valid, {} complaint(s) published", complaints.len());
        Ok(())
    }

    /// Every message of the ceremony directory whose signature verifies, as a transcript. A
    /// message that fails is left out with a warning (a relaying server would have refused it).
    pub fn transcript(&self) -> Result<CeremonyTranscript> {
        collect_transcript(&self.dir, &self.params, &self.context, &self.publics)
    }

    /// The result: evaluates the transcript, derives and stores this key-holder's share, prints
    /// the joint key's fingerprint.
    pub fn finish(&self) -> Result<()> {
        let me = self.me();
        let missing = self.missing(Slot::Complaints)?;
        if !missing.is_empty() {
            bail!("round 3 is not complete: key-holder(s) {} have not checked their shares yet", list(&missing));
        }
        if !self.store.has_polynomial(&self.campaign)? && self.store.load_state(&self.campaign)?.is_some() {
            let (share, state) = self.store.load_share(&self.campaign)?;
            println!("this key-holder finished the ceremony before (the polynomial was deleted then)");
            print_outcome(&state, &share);
            return Ok(());
        }
        let transcript = self.transcript()?;
        let (poly, _) = self.store.load_polynomial(&self.campaign, &self.params)?;
        let (outcome, share) = dkg::derive_key_share(
            &self.params,
            &self.context,
            &self.publics,
            &transcript,
            &self.secrets.keys,
            me,
            &poly,
        )
        .context("the ceremony cannot be finished")?;
        if let Relay::Server(_) = &self.dir {
            let published = self
                .dir
                .published_outcome()?
                .ok_or_else(|| Refused("the server has not published the ceremony's outcome".into()))?;
            if published != outcome {
                return Err(Refused(format!(
                    "the server published another outcome (joint key {}) than this key-holder's own evaluation of the transcript (joint key {}); the key share is not stored",
                    published.joint_key.0.to_hex(),
                    outcome.joint_key.0.to_hex()
                ))
                .into());
            }
            println!("the server's published outcome equals this key-holder's own evaluation");
        }
        let state = CeremonyState {
            campaign: self.campaign.clone(),
            params: self.params,
            base_hash: hex::encode(self.context),
            outcome,
        };
        if let Some(old) = self.store.load_state(&self.campaign)?
            && old != state
        {
            bail!("this keystore already holds a different result for campaign {:?}", self.campaign);
        }
        self.store.store_share(&state, &share)?;
        self.store.remove_polynomial(&self.campaign)?;
        println!("key share stored encrypted in the keystore; the polynomial deleted");
        print_outcome(&state, &share);
        Ok(())
    }
}

fn print_outcome(state: &CeremonyState, share: &dobush_crypto::threshold::KeyShare) {
    let o = &state.outcome;
    println!("qualified dealers: {}", list(&o.qualified));
    for d in &o.disqualified {
        println!("disqualified dealer {}: {}", d.dealer, d.fault);
    }
    for u in &o.unfounded_complaints {
        println!("unfounded complaint of key-holder {} against dealer {}: {}", u.complainer, u.dealer, u.reason);
    }
    println!("joint key: {}", o.joint_key.0.to_hex());
    println!("verification key of key-holder {}: {}", share.index(), share.verification_key().to_hex());
    println!("joint key fingerprint: {}", o.joint_key_fingerprint());
}

/// Assembles the transcript from a relay (every message whose signature verifies and whose
/// sender matches its slot).
pub fn collect_transcript(
    dir: &Relay,
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
) -> Result<CeremonyTranscript> {
    let v = Verifier { dir, context, publics };
    let mut t = CeremonyTranscript::default();
    for i in params.indices() {
        t.commitment_hashes.extend(v.signed(Slot::CommitmentHash(i), i)?);
        t.reveals.extend(v.signed(Slot::Reveal(i), i)?);
        for l in params.indices().filter(|&l| l != i) {
            t.shares.extend(v.signed::<EncryptedShare>(Slot::Share(i, l), i)?.filter(|s| s.message.recipient == l));
        }
    }
    for l in params.indices() {
        t.complaints.extend(v.list(Slot::Complaints(l), l)?.unwrap_or_default());
    }
    Ok(t)
}

struct Verifier<'a> {
    dir: &'a Relay,
    context: &'a [u8; 32],
    publics: &'a [KeyHolderPublic],
}

impl Verifier<'_> {
    fn valid<M: CeremonyMessage>(&self, slot: Slot, sender: u32, m: &Signed<M>) -> bool {
        if m.message.sender() != sender {
            eprintln!("warning: {slot:?} names sender {}; left out", m.message.sender());
            return false;
        }
        if let Err(e) = m.verify(self.context, self.publics) {
            eprintln!("warning: {slot:?}: {e}; left out");
            return false;
        }
        true
    }

    fn signed<M: CeremonyMessage + DeserializeOwned + Serialize>(
        &self,
        slot: Slot,
        sender: u32,
    ) -> Result<Option<Signed<M>>> {
        Ok(self.dir.fetch::<Signed<M>>(slot)?.filter(|m| self.valid(slot, sender, m)))
    }

    fn list<M: CeremonyMessage + DeserializeOwned + Serialize>(
        &self,
        slot: Slot,
        sender: u32,
    ) -> Result<Option<Vec<Signed<M>>>> {
        Ok(self
            .dir
            .fetch::<Vec<Signed<M>>>(slot)?
            .map(|v| v.into_iter().filter(|m| self.valid(slot, sender, m)).collect()))
    }
}

fn fetch_valid<M: CeremonyMessage + DeserializeOwned + Serialize + Clone>(
    s: &Session,
    slot: Slot,
    sender: u32,
) -> Result<Option<M>> {
    let v = Verifier { dir: &s.dir, context: &s.context, publics: &s.publics };
    Ok(v.signed::<M>(slot, sender)?.map(|m| m.message))
}

fn fetch_list<M: CeremonyMessage + DeserializeOwned + Serialize>(
    s: &Session,
    slot: Slot,
    sender: u32,
) -> Result<Option<Vec<Signed<M>>>> {
    Verifier { dir: &s.dir, context: &s.context, publics: &s.publics }.list(slot, sender)
}

/// `1, 2, 5`.
pub fn list(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}
