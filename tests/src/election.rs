//! An in-process election that produces a complete public record, for the end-to-end and
//! verifier tests: credentials frozen on the board, ballots cast with receipts, challenged
//! ballots, re-votes, closing, encrypted totals and decrypted results.

use dobush_crypto::ballot::{PlaintextBallot, VerifiedBallot, encrypt_ballot, verify_ballot};
use dobush_crypto::board::{BoardKey, SignedTreeHead};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::credential::Credential;
use dobush_crypto::dlog::DlogTable;
use dobush_crypto::election_protocol::{ElectionProtocol, ProtocolBody, Turnout};
use dobush_crypto::manifest::Manifest;
use dobush_crypto::parameters::{Parameters, ReVotePolicy, parameters_hash};
use dobush_crypto::record::{
    Board, BoardEntry, ElectionPackage, ElectionRecord, ListedCredential, PublishedKeyHolder, RECORD_VERSION, Receipt,
    counted_ballots,
};
use dobush_crypto::tally::{ContestResult, EncryptedTally};
use dobush_crypto::testing::{Ceremony, run_ceremony_for_campaign};
use dobush_crypto::threshold::decrypt::{ShareKeys, TotalId, verify_and_combine};
use rand_chacha::ChaCha20Rng;

/// One e-voter: a credential made "on the device" and the ballot style.
pub struct Voter {
    /// The credential.
    pub credential: Credential,
    /// The ballot style.
    pub style: String,
}

/// A simulated election: a real 3-of-5 key ceremony among in-process key-holders, and at the
/// end a threshold decryption in which key-holder 3 is absent and key-holder 5 uploads an
/// invalid share.
pub struct SimElection {
    /// Election context.
    pub ctx: ElectionContext,
    /// The package voters load.
    pub package: ElectionPackage,
    /// The board.
    pub board: Board,
    /// Every head issued.
    pub heads: Vec<SignedTreeHead>,
    /// The e-voters.
    pub voters: Vec<Voter>,
    /// Re-vote rule.
    pub policy: ReVotePolicy,
    /// The board key (tests use it to play a malicious server that re-signs a forged board).
    pub board_key: BoardKey,
    ceremony: Ceremony,
    clock_ms: u64,
    /// Every cast ballot, in board order.
    pub cast: Vec<VerifiedBallot>,
    challenged: u64,
    replacements: Vec<(dobush_crypto::signature::VerifyingKey, dobush_crypto::signature::VerifyingKey)>,
    /// The commission members' keys (they sign the credential list and the protocol).
    pub members: Vec<ed25519_dalek::SigningKey>,
    /// Credentials revoked before the freeze (listed as `revoked` in the credential list).
    pub revoked: Vec<Credential>,
    /// The RNG.
    pub rng: ChaCha20Rng,
}

impl SimElection {
    /// Sets up the election, freezes the credential list of `voters` e-voters (styles assigned
    /// round-robin) and opens voting.
    pub fn new(manifest: Manifest, policy: ReVotePolicy, voters: usize, mut rng: ChaCha20Rng) -> Self {
        let ceremony = run_ceremony_for_campaign(&mut rng, &manifest.campaign_id, 5, 3).expect("ceremony");
        let holders: Vec<PublishedKeyHolder> = ceremony
            .publics
            .iter()
            .map(|p| PublishedKeyHolder { index: p.index, signing_key: p.signing_key.0, comm_key: p.comm_key })
            .collect();
        let base = ceremony.base_context;
        let members: Vec<ed25519_dalek::SigningKey> =
            (0..3).map(|_| ed25519_dalek::SigningKey::generate(&mut rng)).collect();
        let commission = dobush_crypto::commission::commission_of(&[
            ("member 1", &members[0]),
            ("member 2", &members[1]),
            ("member 3", &members[2]),
        ]);
        let board_key = BoardKey::generate(&mut rng);
        let parameters = Parameters::with_policy(policy);
        let ctx = ElectionContext::new(
            base,
            ceremony.joint_key,
            manifest.clone(),
            commission.hash(),
            parameters_hash(&board_key.public(), &parameters),
        )
        .expect("valid manifest");
        let package = ElectionPackage {
            version: RECORD_VERSION.into(),
            manifest: manifest.clone(),
            threshold: 3,
            key_holders: holders,
            joint_key: ceremony.joint_key,
            base_hash: base,
            extended_hash: *ctx.extended_hash(),
            board_key: board_key.public(),
            commission,
            parameters,
        };
        let styles: Vec<String> = manifest.ballot_styles.iter().map(|s| s.id.clone()).collect();
        let voters: Vec<Voter> = (0..voters)
            .map(|i| Voter {
                credential: Credential::generate(&mut rng).expect("credential"),
                style: styles[i % styles.len()].clone(),
            })
            .collect();
        let mut listed: Vec<ListedCredential> = voters
            .iter()
            .map(|v| ListedCredential { credential: v.credential.public(), style: v.style.clone() })
            .collect();
        listed.sort_by_key(|l| *l.credential.0.as_bytes());
        let mut sim = Self {
            ctx,
            package,
            board: Board::new(),
            heads: Vec::new(),
            voters,
            policy,
            board_key,
            ceremony,
            clock_ms: 1_680_998_400_000,
            cast: Vec::new(),
            challenged: 0,
            replacements: Vec::new(),
            members,
            revoked: Vec::new(),
            rng,
        };
        let count = listed.len() as u64;
        // two voters re-applied before the deadline: their first credentials are revoked, publicly
        let mut revoked: Vec<_> = (0..2).map(|_| Credential::generate(&mut sim.rng).expect("credential")).collect();
        revoked.sort_by_key(|c| *c.public().0.as_bytes());
        let revoked_keys = revoked.iter().map(Credential::public).collect();
        sim.revoked = revoked;
        sim.append(BoardEntry::CredentialList { credentials: listed, count, revoked: revoked_keys });
        let names: Vec<String> = (1..=sim.members.len()).map(|i| format!("member {i}")).collect();
        let signers: Vec<(&str, &ed25519_dalek::SigningKey)> =
            names.iter().map(String::as_str).zip(&sim.members).collect();
        let list = sim.board.lines().first().cloned().unwrap_or_default();
        let signed =
            dobush_crypto::record::sign_credential_list(&sim.package.manifest.campaign_id, list.as_bytes(), &signers);
        sim.append(signed);
        sim.append(BoardEntry::WebAssets { assets: web_assets() });
        // the zero report: the first head, over the entries before `opened` (10-board.md §Tree heads)
        sim.sign_head();
        sim.append(BoardEntry::Opened { timestamp_ms: sim.clock_ms });
        sim
    }

    fn append(&mut self, e: BoardEntry) -> u64 {
        self.clock_ms += 1000;
        self.board.append(&e).expect("entry serializes").0
    }

    /// Signs and keeps a head of the current board.
    pub fn sign_head(&mut self) -> SignedTreeHead {
        let previous = self.heads.last().map(|h| h.head);
        let h = self.board.sign_head(&self.board_key, self.package.base_hash, self.clock_ms, previous.as_ref());
        self.heads.push(h);
        h
    }

    /// Voter `i` encrypts `plaintext`, the server verifies and appends it; returns the receipt.
    pub fn cast(&mut self, i: usize, plaintext: &PlaintextBallot) -> Receipt {
        let key = self.voters[i].credential.signing_key().clone();
        let (b, _) = encrypt_ballot(&self.ctx, &key, plaintext, &mut self.rng).expect("encrypts");
        let v = verify_ballot(&self.ctx, b, &mut self.rng).expect("verifies");
        let code = *v.tracking_code();
        if self.policy == ReVotePolicy::LastCounts {
            let mut pairs: Vec<_> = self.cast.iter().map(|p| (p.ballot().credential, *p.tracking_code())).collect();
            pairs.push((v.ballot().credential, code));
            let (_, superseded) =
                counted_ballots(self.policy, &pairs, &self.replacements).expect("last counts never refuses");
            if let Some((old, by)) = superseded.last().copied().filter(|(_, by)| *by == code) {
                self.append(BoardEntry::Superseded { tracking_code: old, by });
            }
        }
        let index = self.append(BoardEntry::Ballot { ballot: v.ballot().clone(), tracking_code: code });
        self.cast.push(v);
        let head = self.sign_head();
        self.board.receipt(index, code, head).expect("receipt")
    }

    /// Voter `i` lost their credential: the commission replaces it (recorded on the board,
    /// signed by members 1 and 2, the replacement quorum of the pinned commission).
    pub fn replace_credential(&mut self, i: usize) {
        let new = Credential::generate(&mut self.rng).expect("credential");
        let old = self.voters[i].credential.public();
        let decision = format!("CEC decision №{} (test)", i + 1);
        let signers: Vec<(&str, &ed25519_dalek::SigningKey)> =
            ["member 1", "member 2"].into_iter().zip(&self.members).collect();
        let entry = dobush_crypto::record::sign_credential_replacement(
            &self.package.manifest.campaign_id,
            (old, new.public(), &self.voters[i].style, &decision),
            &signers,
        );
        self.append(entry);
        self.replacements.push((old, new.public()));
        self.voters[i].credential = new;
    }

    /// Voter `i` checks a ballot (Benaloh challenge): posted with its opening, never counted.
    pub fn challenge(&mut self, i: usize, plaintext: &PlaintextBallot) {
        let key = self.voters[i].credential.signing_key().clone();
        let (b, secrets) = encrypt_ballot(&self.ctx, &key, plaintext, &mut self.rng).expect("encrypts");
        let v = verify_ballot(&self.ctx, b, &mut self.rng).expect("verifies");
        self.challenged += 1;
        self.append(BoardEntry::Challenged {
            ballot: v.ballot().clone(),
            tracking_code: *v.tracking_code(),
            opening: secrets.open(),
        });
    }

    /// Closes voting and produces the record and board (and gives the board key back).
    pub fn close(mut self) -> (ElectionRecord, Board, BoardKey) {
        self.append(BoardEntry::Closed { timestamp_ms: self.clock_ms });
        self.sign_head();
        let pairs: Vec<_> = self.cast.iter().map(|v| (v.ballot().credential, *v.tracking_code())).collect();
        let (counted, _) = counted_ballots(self.policy, &pairs, &self.replacements).expect("re-vote rule respected");
        let mut tally = EncryptedTally::new(&self.ctx);
        for i in counted {
            tally.add(&self.cast[i]).expect("same manifest");
        }
        let totals = tally.totals().expect("totals");
        let table = DlogTable::new(self.voters.len() as u64);
        let ext = *self.ctx.extended_hash();
        let mut decryption_shares = Vec::new();
        let mut results: Vec<ContestResult> = Vec::new();
        for (ci, t) in totals.iter().enumerate() {
            let mut counts = Vec::new();
            for (j, ct) in t.totals.iter().enumerate() {
                let id = TotalId { contest: ci as u32, option: j as u32 };
                let mut shares = Vec::new();
                // Key-holder 3 is absent; key-holder 5 uploads a share of another total.
                for l in [1usize, 2, 4, 5] {
                    let share = &self.ceremony.shares[l - 1];
                    let signer = self.ceremony.keys[l - 1].signing_key();
                    let target = if l == 5 { TotalId { contest: id.contest, option: id.option + 1 } } else { id };
                    let mut s = share.partial_decrypt(&ext, target, ct, signer, &mut self.rng).expect("share");
                    if l == 5 {
                        // …and signs it as a share of this total: its own, and wrong.
                        s.option = id.option;
                        s.sign(&ext, ct, signer, &mut self.rng);
                    }
                    shares.push(s);
                }
                let keys = ShareKeys::new(&self.ceremony.outcome.verification_keys, &self.ceremony.publics)
                    .expect("the ceremony's key-holders");
                let c = verify_and_combine(&self.ceremony.params, &ext, &keys, id, ct, &shares, &table)
                    .expect("three valid shares");
                assert_eq!(c.rejected.len(), 1, "key-holder 5's share is set aside");
                counts.push(c.count);
                decryption_shares.extend(shares);
            }
            results.push(ContestResult { contest_id: t.contest_id.clone(), ballots: t.ballots, counts });
        }
        let superseded = self.cast.len() as u64 - pairs_counted(&pairs, self.policy, &self.replacements);
        let turnout = Turnout {
            e_voters: self.voters.len() as u64,
            issued: self.voters.len() as u64,
            counted: pairs_counted(&pairs, self.policy, &self.replacements),
            superseded,
            challenged: self.challenged,
        };
        let final_head = self.heads.last().map(|h| h.head.link()).unwrap_or_default();
        let body = ProtocolBody::draw_up(
            &self.package.manifest,
            "7001",
            self.package.extended_hash,
            final_head,
            dobush_crypto::threshold::decrypt::shares_digest(&decryption_shares),
            turnout,
            &results,
            self.clock_ms,
        );
        let protocol = ElectionProtocol {
            signatures: self
                .members
                .iter()
                .enumerate()
                .map(|(i, k)| ElectionProtocol::sign(&body, &format!("member {}", i + 1), k))
                .collect(),
            body,
        };
        let record = ElectionRecord {
            version: RECORD_VERSION.into(),
            package: self.package,
            tree_heads: self.heads,
            encrypted_totals: totals,
            ceremony: self.ceremony.transcript.clone(),
            decryption_shares,
            results,
            protocol: Some(protocol),
        };
        (record, self.board, self.board_key)
    }
}

fn pairs_counted(
    pairs: &[(dobush_crypto::signature::VerifyingKey, dobush_crypto::ballot::TrackingCode)],
    policy: ReVotePolicy,
    replacements: &[(dobush_crypto::signature::VerifyingKey, dobush_crypto::signature::VerifyingKey)],
) -> u64 {
    counted_ballots(policy, pairs, replacements).map(|(c, _)| c.len() as u64).unwrap_or(0)
}

/// Writes `record.json` and `board.jsonl` into `dir`.
pub fn write_record(dir: &std::path::Path, record: &ElectionRecord, board: &Board) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("record.json"), serde_json::to_string_pretty(record)?)?;
    std::fs::write(dir.join("board.jsonl"), board.to_jsonl())
}

/// The `web_assets` entry a server posts at opening (the SRI hashes of the app it serves; here
/// of three fixed byte strings, as the server's `webapp::integrity` computes them).
pub fn web_assets() -> Vec<(String, String)> {
    use base64::Engine;
    use sha2::Digest;
    let integrity = |bytes: &[u8]| {
        format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes)))
    };
    [("/", "<!doctype html>"), ("/app.js", "export {};"), ("/app.css", "body{}")]
        .iter()
        .map(|(path, body)| ((*path).to_string(), integrity(body.as_bytes())))
        .collect()
}
