//! The real `dobush-key-holders` binary, run in temporary directories: a 3-of-5 ceremony with one
//! key-holder per process, rehearsal, refusals (wrong passphrase, tampered keystore, a record
//! that does not add up), a dealer disqualified for a bad share, tally and protocol signing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dobush_crypto::ballot::{encrypt_ballot, verify_ballot};
use dobush_crypto::board::{BoardKey, SignedTreeHead};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::credential::Credential;
use dobush_crypto::dlog::DlogTable;
use dobush_crypto::election_protocol::{ElectionProtocol, MemberSignature};
use dobush_crypto::parameters::{Parameters, ReVotePolicy, parameters_hash};
use dobush_crypto::record::{
    Board, BoardEntry, ElectionPackage, ElectionRecord, ListedCredential, PublishedKeyHolder, RECORD_VERSION,
    counted_ballots,
};
use dobush_crypto::tally::EncryptedTally;
use dobush_crypto::threshold::decrypt::{DecryptionShare, ShareKeys, TotalId, verify_and_combine};
use dobush_crypto::threshold::dkg::{self, Polynomial, Signed};
use dobush_key_holders::ceremony::{ceremony_context, collect_transcript};
use dobush_key_holders::keystore::Keystore;
use dobush_key_holders::transport::{CeremonyDir, Relay};
use dobush_tests::election::{SimElection, write_record};
use dobush_tests::fixtures::{bishkek_2030, campaign_2030, pilot_manifest, pilot_vote as ballot};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const BIN: &str = env!("CARGO_BIN_EXE_dobush-key-holders");
const PASS: &str = "correct horse battery staple";
const T: &str = "3";

fn run_with(pass: &str, args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("DOBUSH_PASSPHRASE", pass).output().expect("binary runs")
}

fn ok(args: &[&str]) -> String {
    succeeded(args, run_with(PASS, args))
}

/// The stdout of a run that must have succeeded.
fn succeeded(args: &[&str], out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Runs a command that must fail; returns (exit code, stderr).
fn fails(pass: &str, args: &[&str]) -> (i32, String) {
    let out = run_with(pass, args);
    assert!(!out.status.success(), "{args:?} should have failed:\n{}", String::from_utf8_lossy(&out.stdout));
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn value_of(stdout: &str, prefix: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{stdout}"))
        .trim()
        .to_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Ceremony {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    dir: PathBuf,
    campaign: String,
    stores: Vec<PathBuf>,
}

impl Ceremony {
    fn init(campaign: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let dir = root.join("ceremony");
        let mut stores = Vec::new();
        for l in 1..=5 {
            let store = root.join(format!("keystore-{l}"));
            let out = ok(&["init", "--dir", s(&store), "--index", &l.to_string(), "--ceremony", s(&dir)]);
            assert_eq!(value_of(&out, "signing key fingerprint:").len(), 24);
            assert_eq!(value_of(&out, "communication key fingerprint:").len(), 24);
            // the member's fingerprint, the one the commission's decision lists and the server shows
            let (keys, _) = Keystore::open(&store, PASS).unwrap();
            let mut member_key = [0u8; 32];
            hex::decode_to_slice(&keys.meta().member_key, &mut member_key).unwrap();
            let member = dobush_crypto::commission::SigningIdentity::Ed25519 { key: member_key };
            assert!(value_of(&out, "commission member fingerprint:").starts_with(&member.fingerprint()), "{out}");
            assert!(store.join(format!("key-holder-{l}.public.json")).exists());
            stores.push(store);
        }
        Self { _tmp: tmp, root, dir, campaign: campaign.into(), stores }
    }

    fn round_args<'a>(&'a self, round: &'a str, l: usize) -> Vec<&'a str> {
        vec![
            "ceremony",
            round,
            "--dir",
            s(&self.stores[l - 1]),
            "--ceremony",
            s(&self.dir),
            "--campaign",
            &self.campaign,
            "--threshold",
            T,
        ]
    }

    fn round(&self, round: &str) -> Vec<String> {
        (1..=5).map(|l| ok(&self.round_args(round, l))).collect()
    }

    fn context(
        &self,
    ) -> (dobush_crypto::threshold::Parameters, Vec<dobush_crypto::threshold::KeyHolderPublic>, [u8; 32]) {
        ceremony_context(&Relay::Dir(CeremonyDir::new(&self.dir)), &self.campaign, 3).unwrap()
    }

    fn store(&self, l: usize) -> &str {
        s(&self.stores[l - 1])
    }
}

/// The joint key fingerprint every key-holder printed (asserted equal).
fn common_fingerprint(outputs: &[String]) -> String {
    let fps: Vec<String> = outputs.iter().map(|o| value_of(o, "joint key fingerprint:")).collect();
    assert!(fps.iter().all(|f| *f == fps[0]), "different joint keys: {fps:?}");
    fps[0].clone()
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(all_files(&p)) } else { out.push(p) }
    }
    out
}

/// What a dishonest server adds to the board of [`write_election`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rogue {
    /// Nothing.
    Honest,
    /// A ballot by a credential that is not on the list.
    Outsider,
    /// A credential replacement signed by a key that did not sign the list (the server's own).
    SelfSignedReplacement,
}

/// Writes a closed election record encrypted to the CLI ceremony's joint key: 6 voters, one
/// re-vote under `last_counts`, and what `rogue` adds (on a board the server re-signed, with
/// totals that include any rogue ballot). Returns the expected counts of the honest ballots.
fn write_election(c: &Ceremony, out: &Path, rogue: Rogue) -> Vec<Vec<u64>> {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let manifest = pilot_manifest();
    let (params, publics, base) = c.context();
    let transcript = collect_transcript(&Relay::Dir(CeremonyDir::new(&c.dir)), &params, &base, &publics).unwrap();
    let outcome = dkg::evaluate(&params, &base, &publics, &transcript).unwrap();
    let members: Vec<ed25519_dalek::SigningKey> =
        (0..3).map(|_| ed25519_dalek::SigningKey::generate(&mut rng)).collect();
    let commission = dobush_crypto::commission::commission_of(&[
        ("member 1", &members[0]),
        ("member 2", &members[1]),
        ("member 3", &members[2]),
    ]);
    let board_key = BoardKey::generate(&mut rng);
    let parameters = Parameters::with_policy(ReVotePolicy::LastCounts);
    let ctx = ElectionContext::new(
        base,
        outcome.joint_key,
        manifest.clone(),
        commission.hash(),
        parameters_hash(&board_key.public(), &parameters),
    )
    .unwrap();
    let package = ElectionPackage {
        version: RECORD_VERSION.into(),
        manifest,
        threshold: 3,
        key_holders: publics
            .iter()
            .map(|p| PublishedKeyHolder { index: p.index, signing_key: p.signing_key.0, comm_key: p.comm_key })
            .collect(),
        joint_key: outcome.joint_key,
        base_hash: base,
        extended_hash: *ctx.extended_hash(),
        board_key: board_key.public(),
        commission,
        parameters,
    };
    let voters: Vec<Credential> = (0..6).map(|_| Credential::generate(&mut rng).unwrap()).collect();
    let mut listed: Vec<ListedCredential> =
        voters.iter().map(|v| ListedCredential { credential: v.public(), style: "samarkandek".into() }).collect();
    listed.sort_by_key(|l| *l.credential.0.as_bytes());
    let mut board = Board::new();
    let mut heads = Vec::new();
    board
        .append(&BoardEntry::CredentialList { count: listed.len() as u64, credentials: listed, revoked: vec![] })
        .unwrap();
    let list = board.lines()[0].clone();
    board
        .append(&dobush_crypto::record::sign_credential_list(
            &package.manifest.campaign_id,
            list.as_bytes(),
            &[("member 1", &members[0]), ("member 2", &members[1])],
        ))
        .unwrap();
    heads.push(board.sign_head(&board_key, base, 1, None)); // the zero report
    board.append(&BoardEntry::Opened { timestamp_ms: 1 }).unwrap();
    let votes =
        [(0usize, 0usize, true), (1, 3, false), (2, 3, true), (3, 7, true), (4, 8, false), (5, 1, true), (0, 2, false)];
    let mut cast = Vec::new();
    let mut plain = Vec::new();
    for (k, &(voter, council, yes)) in votes.iter().enumerate() {
        let p = ballot(council, yes);
        let (b, _) = encrypt_ballot(&ctx, voters[voter].signing_key(), &p, &mut rng).unwrap();
        let v = verify_ballot(&ctx, b, &mut rng).unwrap();
        let mut pairs: Vec<_> = cast
            .iter()
            .map(|x: &dobush_crypto::ballot::VerifiedBallot| (x.ballot().credential, *x.tracking_code()))
            .collect();
        pairs.push((v.ballot().credential, *v.tracking_code()));
        let (_, superseded) = counted_ballots(ReVotePolicy::LastCounts, &pairs, &[]).unwrap();
        if let Some((old, by)) = superseded.last().copied().filter(|(_, by)| by == v.tracking_code()) {
            board.append(&BoardEntry::Superseded { tracking_code: old, by }).unwrap();
        }
        board.append(&BoardEntry::Ballot { ballot: v.ballot().clone(), tracking_code: *v.tracking_code() }).unwrap();
        let previous = heads.last().map(|h: &SignedTreeHead| h.head);
        heads.push(board.sign_head(&board_key, base, 10 + k as u64, previous.as_ref()));
        cast.push(v);
        plain.push(p);
    }
    if rogue == Rogue::SelfSignedReplacement {
        let new = Credential::generate(&mut rng).unwrap();
        let server_key = ed25519_dalek::SigningKey::generate(&mut rng);
        let fields = (voters[5].public(), new.public(), "samarkandek", "no decision");
        board
            .append(&dobush_crypto::record::sign_credential_replacement(
                &package.manifest.campaign_id,
                fields,
                &[("the server", &server_key)],
            ))
            .unwrap();
    }
    if rogue == Rogue::Outsider {
        let outsider = Credential::generate(&mut rng).unwrap();
        let p = ballot(4, true);
        let (b, _) = encrypt_ballot(&ctx, outsider.signing_key(), &p, &mut rng).unwrap();
        let v = verify_ballot(&ctx, b, &mut rng).unwrap();
        board.append(&BoardEntry::Ballot { ballot: v.ballot().clone(), tracking_code: *v.tracking_code() }).unwrap();
        cast.push(v);
        plain.push(p);
    }
    board.append(&BoardEntry::Closed { timestamp_ms: 100 }).unwrap();
    let previous = heads.last().map(|h: &SignedTreeHead| h.head);
    heads.push(board.sign_head(&board_key, base, 100, previous.as_ref()));
    let pairs: Vec<_> = cast.iter().map(|v| (v.ballot().credential, *v.tracking_code())).collect();
    let (counted, _) = counted_ballots(ReVotePolicy::LastCounts, &pairs, &[]).unwrap();
    let mut tally = EncryptedTally::new(&ctx);
    let mut expected = vec![vec![0u64; 9], vec![0u64; 2]];
    for &i in &counted {
        tally.add(&cast[i]).unwrap();
        for (e, pc) in expected.iter_mut().zip(&plain[i].contests) {
            for (x, m) in e.iter_mut().zip(&pc.selections) {
                *x += u64::from(*m);
            }
        }
    }
    let record = ElectionRecord {
        version: RECORD_VERSION.into(),
        package,
        tree_heads: heads,
        encrypted_totals: tally.totals().unwrap(),
        ceremony: transcript,
        decryption_shares: Vec::new(),
        results: Vec::new(),
        protocol: None,
    };
    write_record(out, &record, &board).unwrap();
    expected
}

fn read_record(dir: &Path) -> ElectionRecord {
    serde_json::from_str(&fs::read_to_string(dir.join("record.json")).unwrap()).unwrap()
}

/// `tally` by key-holder 2 on `record` must be refused (exit 3) with `needle` in the message,
/// and write nothing.
fn assert_tally_refused(c: &Ceremony, record: &Path, needle: &str) {
    let out_file = c.root.join("never.json");
    let (code, err) = fails(PASS, &["tally", "--dir", c.store(2), "--record", s(record), "--out", s(&out_file)]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("REFUSED") && err.contains(needle), "{err}");
    assert!(!out_file.exists(), "no decryption share may be written");
}

#[test]
fn ceremony_rehearsal_tally_and_signing() {
    let campaign = pilot_manifest().campaign_id;
    let c = Ceremony::init(&campaign);

    // Round 2 waits for every round-1 message.
    for l in 1..=4 {
        ok(&c.round_args("commit", l));
    }
    let (_, err) = fails(PASS, &c.round_args("reveal", 1));
    assert!(err.contains("round 1 is not complete") && err.contains('5'), "{err}");
    ok(&c.round_args("commit", 5));
    let (_, err) = fails(PASS, &c.round_args("commit", 5));
    assert!(err.contains("already done"), "{err}");
    let bases: Vec<String> = c.round("reveal").iter().map(|o| value_of(o, "base context hash:")).collect();
    assert!(bases.iter().all(|b| *b == bases[0] && b.len() == 64));
    let (_, err) = fails(PASS, &c.round_args("finish", 1));
    assert!(err.contains("round 3 is not complete"), "{err}");
    for out in c.round("check") {
        assert!(out.contains("4 share(s) valid, 0 complaint(s)"), "{out}");
    }
    let finished = c.round("finish");
    let fingerprint = common_fingerprint(&finished);
    assert_eq!(fingerprint.len(), 24);
    assert!(finished.iter().all(|o| value_of(o, "qualified dealers:") == "1, 2, 3, 4, 5"));
    // The polynomial is deleted once the share is stored; `finish` again gives the same result.
    assert!(!c.stores[1].join("campaigns").join(&campaign).join("polynomial.enc").exists());
    assert_eq!(common_fingerprint(&[ok(&c.round_args("finish", 2)), finished[0].clone()]), fingerprint);

    // Every key-holder rehearses a decryption of a value it encrypted itself.
    for l in 1..=5 {
        let out = ok(&["rehearse", "--dir", c.store(l), "--campaign", &campaign]);
        assert!(out.contains("rehearsal passed"), "{out}");
    }

    // No secret is written unencrypted: the key share's bytes appear in no file of the keystore.
    let (store, secrets) = Keystore::open(&c.stores[0], PASS).unwrap();
    let (share, _) = store.load_share(&campaign).unwrap();
    let secret_hex = hex::encode(share.secret_bytes().as_ref());
    let keys_hex = hex::encode(secrets.keys.to_bytes().as_ref());
    for f in all_files(&c.stores[0]) {
        let bytes = fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&secret_hex) && !text.contains(&keys_hex[..64]) && !text.contains(&keys_hex[64..]),
            "{f:?}"
        );
        assert!(!bytes.windows(32).any(|w| w == share.secret_bytes().as_ref()), "{f:?}");
    }

    // A wrong passphrase is refused.
    let (code, err) = fails("wrong passphrase here", &["rehearse", "--dir", c.store(1), "--campaign", &campaign]);
    assert_eq!(code, 1);
    assert!(err.contains("wrong passphrase, or the keystore was altered"), "{err}");

    // A tampered keystore is refused: keys, key share, or the public ceremony state.
    for (file, pointer) in
        [("keys.enc", "/ciphertext"), ("key-share.enc", "/ciphertext"), ("ceremony.json", "/base_hash")]
    {
        let copy = c.root.join(format!("tampered-{file}"));
        fs::create_dir_all(copy.join("campaigns").join(&campaign)).unwrap();
        for f in all_files(&c.stores[0]) {
            let rel = f.strip_prefix(&c.stores[0]).unwrap();
            fs::copy(&f, copy.join(rel)).unwrap();
        }
        let target = all_files(&copy).into_iter().find(|p| p.file_name().unwrap() == file).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&target).unwrap()).unwrap();
        let field = v.pointer_mut(pointer).unwrap();
        let mut text = field.as_str().unwrap().to_owned();
        let flipped = if text.starts_with('0') { "1" } else { "0" };
        text.replace_range(0..1, flipped);
        *field = serde_json::Value::String(text);
        fs::write(&target, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        let (code, err) = fails(PASS, &["rehearse", "--dir", s(&copy), "--campaign", &campaign]);
        assert_ne!(code, 0);
        assert!(err.contains("wrong passphrase, or the keystore was altered"), "{file}: {err}");
    }

    // Tally: three key-holders check the record and decrypt their share of each total; the
    // shares combine to the known counts.
    let rec = c.root.join("record");
    let expected = write_election(&c, &rec, Rogue::Honest);
    let mut all_shares: Vec<DecryptionShare> = Vec::new();
    for l in [1usize, 3, 5] {
        let out_file = c.root.join(format!("shares-{l}.json"));
        let out = ok(&["tally", "--dir", c.store(l), "--record", s(&rec), "--out", s(&out_file)]);
        assert!(out.contains("7 ballots verified, 6 counted, 1 superseded"), "{out}");
        assert!(out.contains("re-vote rule (the election package's, bound by its hash): last_counts"), "{out}");
        let shares: Vec<DecryptionShare> = serde_json::from_str(&fs::read_to_string(&out_file).unwrap()).unwrap();
        assert_eq!(shares.len(), 11);
        all_shares.extend(shares);
    }
    let record = read_record(&rec);
    let (params, publics, base) = c.context();
    let outcome = dkg::evaluate(&params, &base, &publics, &record.ceremony).unwrap();
    let table = DlogTable::new(10);
    for (ci, contest) in record.encrypted_totals.iter().enumerate() {
        for (j, ct) in contest.totals.iter().enumerate() {
            let id = TotalId { contest: ci as u32, option: j as u32 };
            let shares: Vec<_> = all_shares.iter().filter(|s| s.total() == id).cloned().collect();
            let got = verify_and_combine(
                &params,
                &record.package.extended_hash,
                &ShareKeys::new(&outcome.verification_keys, &publics).unwrap(),
                id,
                ct,
                &shares,
                &table,
            )
            .unwrap();
            assert_eq!(got.count, expected[ci][j], "contest {ci} selection {j}");
        }
    }

    // Tally refuses published totals that differ from the board's.
    let bad = c.root.join("record-bad-totals");
    write_election(&c, &bad, Rogue::Honest);
    let mut r = read_record(&bad);
    r.encrypted_totals[0].totals.swap(0, 3);
    fs::write(bad.join("record.json"), serde_json::to_string(&r).unwrap()).unwrap();
    assert_tally_refused(&c, &bad, "selection 0: the published encrypted total differs");

    // … a board altered after the final head …
    let altered = c.root.join("record-altered-board");
    write_election(&c, &altered, Rogue::Honest);
    let board = fs::read_to_string(altered.join("board.jsonl")).unwrap();
    let mut lines: Vec<&str> = board.lines().collect();
    lines.remove(3);
    fs::write(altered.join("board.jsonl"), lines.join("\n") + "\n").unwrap();
    assert_tally_refused(&c, &altered, "tree head");

    // … a ballot by a credential that is not on the list, even on a re-signed board …
    let rogue = c.root.join("record-rogue");
    write_election(&c, &rogue, Rogue::Outsider);
    assert_tally_refused(&c, &rogue, "is not on the list");

    // … a credential replaced by the server alone (signed by a key that did not sign the list) …
    let replaced = c.root.join("record-self-replaced");
    write_election(&c, &replaced, Rogue::SelfSignedReplacement);
    assert_tally_refused(&c, &replaced, "is not a pinned commission member's");

    // … and a record of another ceremony (SimElection runs its own, same campaign id).
    let mut sim = SimElection::new(pilot_manifest(), ReVotePolicy::LastCounts, 3, ChaCha20Rng::seed_from_u64(3));
    sim.cast(0, &ballot(2, true));
    let (sim_record, sim_board, _) = sim.close();
    let other = c.root.join("record-other");
    write_record(&other, &sim_record, &sim_board).unwrap();
    assert_tally_refused(&c, &other, "not the one of this key-holder's ceremony");

    // Protocol signing: the signatures verify, under the keys published at init.
    let body = sim_record.protocol.as_ref().unwrap().body.clone();
    let body_file = c.root.join("protocol-body.json");
    fs::write(&body_file, serde_json::to_string_pretty(&body).unwrap()).unwrap();
    let mut signatures = Vec::new();
    for (l, member) in [(1usize, "Chair A. Asanova"), (4, "Secretary B. Bakirov")] {
        let out = ok(&["sign", "--dir", c.store(l), "--protocol", s(&body_file), "--member", member]);
        let sig: MemberSignature = serde_json::from_str(&out).unwrap();
        assert_eq!(sig.member, member);
        let (store, _) = Keystore::open(&c.stores[l - 1], PASS).unwrap();
        assert_eq!(hex::encode(sig.public_key), store.meta().member_key);
        signatures.push(sig);
    }
    let signed = ElectionProtocol { body: body.clone(), signatures: signatures.clone() };
    signed.verify_signatures().unwrap();
    let mut changed = body;
    changed.drawn_up_ms += 1;
    assert!(ElectionProtocol { body: changed, signatures }.verify_signatures().is_err());
    // Credential-list signing: the digest is recomputed from the entry, never trusted.
    let board_text = fs::read_to_string(other.join("board.jsonl")).unwrap();
    let entry = board_text.lines().next().unwrap();
    let campaign = &sim_record.package.manifest.campaign_id;
    let digest = dobush_crypto::record::credential_list_digest(campaign, entry.as_bytes());
    let list_file = c.root.join("credential-list.json");
    let list = serde_json::json!({ "campaign_id": campaign, "entry": entry, "digest": hex::encode(digest) });
    fs::write(&list_file, list.to_string()).unwrap();
    let out = ok(&["sign-list", "--dir", c.store(2), "--list", s(&list_file), "--member", "Member C. Cholponova"]);
    let sig: MemberSignature = serde_json::from_str(&out).unwrap();
    sig.verify_digest(&digest).unwrap();
    let mut lying = list.clone();
    lying["digest"] = hex::encode([7u8; 32]).into();
    fs::write(&list_file, lying.to_string()).unwrap();
    let (code, err) = fails(PASS, &["sign-list", "--dir", c.store(2), "--list", s(&list_file), "--member", "M"]);
    assert!(code != 0 && err.contains("not the list's digest"), "{err}");
    // A v2 list (13-revoting.md §4.2): signed under the v2 digest; one whose PIN commitments
    // repeat is refused before any signature.
    let vector: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/board-v2.json")).unwrap(),
    )
    .unwrap();
    let (v2_campaign, v2_entry) =
        (vector["campaign_id"].as_str().unwrap(), vector["list_v2"]["entry"].as_str().unwrap());
    let v2_list = serde_json::json!({ "campaign_id": v2_campaign, "entry": v2_entry });
    fs::write(&list_file, v2_list.to_string()).unwrap();
    let out = ok(&["sign-list", "--dir", c.store(2), "--list", s(&list_file), "--member", "Member C. Cholponova"]);
    let sig: MemberSignature = serde_json::from_str(&out).unwrap();
    let v2_digest = dobush_crypto::record::credential_list_digest_v2(v2_campaign, v2_entry.as_bytes());
    assert_eq!(hex::encode(v2_digest), vector["list_v2"]["digest"].as_str().unwrap());
    sig.verify_digest(&v2_digest).unwrap();
    assert!(
        sig.verify_digest(&dobush_crypto::record::credential_list_digest(v2_campaign, v2_entry.as_bytes())).is_err()
    );
    let mut repeated: serde_json::Value = serde_json::from_str(v2_entry).unwrap();
    repeated["credentials"][1]["pin_commitment"] = repeated["credentials"][0]["pin_commitment"].clone();
    let bad = serde_json::json!({ "campaign_id": v2_campaign, "entry": repeated.to_string() });
    fs::write(&list_file, bad.to_string()).unwrap();
    let (code, err) = fails(PASS, &["sign-list", "--dir", c.store(2), "--list", s(&list_file), "--member", "M"]);
    assert!(code != 0 && err.contains("repeats an earlier PIN commitment"), "{err}");
    // Replacement signing: the digest recomputed from the decision's values, the server's compared.
    let mut rng = ChaCha20Rng::seed_from_u64(41);
    let (old, new) =
        (Credential::generate(&mut rng).unwrap().public(), Credential::generate(&mut rng).unwrap().public());
    let (old_hex, new_hex) = (old.0.to_hex(), new.0.to_hex());
    let digest =
        dobush_crypto::record::credential_replacement_digest(campaign, &old, &new, "samarkandek", "TEC No. 4/1");
    let replacement = |digest: &str| {
        vec![
            "sign-replacement",
            "--dir",
            c.store(2),
            "--campaign",
            campaign,
            "--old",
            &old_hex,
            "--new",
            &new_hex,
            "--style",
            "samarkandek",
            "--decision",
            "TEC No. 4/1",
            "--digest",
            digest,
            "--member",
            "Member C. Cholponova",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<String>>()
    };
    let out = ok(&args(&replacement(&hex::encode(digest))));
    let rsig: MemberSignature = serde_json::from_str(&out).unwrap();
    rsig.verify_digest(&digest).unwrap();
    let (code, err) = fails(PASS, &args(&replacement(&hex::encode([7u8; 32]))));
    assert!(code != 0 && err.contains("not this replacement's digest"), "{err}");
    let mut not_a_key = replacement(&hex::encode(digest));
    not_a_key[8] = "00".repeat(31) + "zz";
    let (code, err) = fails(PASS, &args(&not_a_key));
    assert!(code != 0 && err.contains("--new is not a credential"), "{err}");
    // A v2 replacement (13-revoting.md §4.3): the draft checked against the package and the PIN
    // of the person in front of the member, then signed; a wrong PIN, another nonce or a lying
    // digest is refused.
    {
        use dobush_crypto::ballot_v2::registration::{BindingStatement, Pin, draw_salt, sign_binding};
        use dobush_crypto::ballot_v2::replacement::{ReplacementStatement, encrypt_old_tag_base, prove_entry_nonce};
        let package = &sim_record.package;
        let ctx = package.context().unwrap();
        let pin = Pin::parse("21504199000012").unwrap();
        let (old_key, new_key) = (Credential::generate(&mut rng).unwrap(), Credential::generate(&mut rng).unwrap());
        let bind = |key: &Credential, decision: &str| {
            let salt = draw_salt(&mut rand_core::OsRng);
            let x = key.public();
            let st = BindingStatement {
                base_hash: &package.base_hash,
                campaign,
                pin: &pin,
                salt: &salt,
                style: "samarkandek",
                decision,
                credential: &x,
            };
            let b = sign_binding(&st, key.signing_key(), &mut rand_core::OsRng).unwrap();
            (st.pin_commitment(), salt, b)
        };
        let (old_pc, old_salt, old_binding) = bind(&old_key, "");
        let (new_pc, new_salt, new_binding) = bind(&new_key, "TEC No. 4/2");
        let (old_tbase, nonce) = encrypt_old_tag_base(&ctx, &old_key.public(), &mut rng).unwrap();
        let (_, other_nonce) = encrypt_old_tag_base(&ctx, &old_key.public(), &mut rng).unwrap();
        let digest = ReplacementStatement {
            campaign,
            style: "samarkandek",
            new: &new_key.public(),
            new_pin_commitment: &new_pc,
            old_tbase: &old_tbase,
            decision: "TEC No. 4/2",
        }
        .digest();
        let proof = prove_entry_nonce(&ctx, &digest, &old_tbase, &nonce, &mut rng).unwrap();
        let draft = serde_json::json!({
            "entry": {
                "type": "credential_replaced_v2", "style": "samarkandek", "new": new_key.public(),
                "new_pin_commitment": hex::encode(new_pc), "old_tbase": old_tbase, "proof": proof,
                "decision": "TEC No. 4/2",
            },
            "digest": hex::encode(digest),
            "check": {
                "old": { "credential": old_key.public(), "pin_commitment": hex::encode(old_pc), "salt": hex::encode(old_salt), "binding": old_binding },
                "new": { "salt": hex::encode(new_salt), "binding": new_binding },
                "nonce": hex::encode(*nonce.to_bytes()),
            },
        });
        let (draft_file, package_file) = (c.root.join("draft.json"), c.root.join("package.json"));
        fs::write(&package_file, serde_json::to_string(package).unwrap()).unwrap();
        let v2_args = |pin: &str| {
            vec!["sign-replacement-v2", "--dir", c.store(2), "--draft", s(&draft_file), "--package", s(&package_file)]
                .into_iter()
                .map(str::to_owned)
                .chain(["--pin".to_owned(), pin.to_owned(), "--member".to_owned(), "Member C. Cholponova".to_owned()])
                .collect::<Vec<String>>()
        };
        fs::write(&draft_file, draft.to_string()).unwrap();
        let out = ok(&args(&v2_args("21504199000012")));
        let vsig: MemberSignature = serde_json::from_str(&out).unwrap();
        vsig.verify_digest(&digest).unwrap();
        let (code, err) = fails(PASS, &args(&v2_args("11203198500034")));
        assert!(code != 0 && err.contains("binding is not for this PIN"), "{err}");
        let mut other = draft.clone();
        other["check"]["nonce"] = hex::encode(*other_nonce.to_bytes()).into();
        fs::write(&draft_file, other.to_string()).unwrap();
        let (code, err) = fails(PASS, &args(&v2_args("21504199000012")));
        assert!(code != 0 && err.contains("old_tbase is not"), "{err}");
        let mut lying = draft.clone();
        lying["digest"] = hex::encode([7u8; 32]).into();
        fs::write(&draft_file, lying.to_string()).unwrap();
        let (code, err) = fails(PASS, &args(&v2_args("21504199000012")));
        assert!(code != 0 && err.contains("not this replacement's digest"), "{err}");
        let mut swapped = draft.clone();
        swapped["entry"]["decision"] = "TEC No. 4/3".into();
        fs::write(&draft_file, swapped.to_string()).unwrap();
        let (code, err) = fails(PASS, &args(&v2_args("21504199000012")));
        assert!(code != 0 && err.contains("binding"), "{err}");
    }
    let help = String::from_utf8(Command::new(BIN).args(["sign", "--help"]).output().unwrap().stdout).unwrap();
    assert!(help.contains("qualified cloud e-signature"), "{help}");
}

#[test]
fn a_bad_share_gets_its_dealer_disqualified() {
    let c = Ceremony::init("kg-2026-bad-share");
    c.round("commit");
    c.round("reveal");

    // Dealer 2 sends key-holder 4 a share of another polynomial, properly encrypted and signed.
    let (params, publics, ctx) = c.context();
    let (_, dealer) = Keystore::open(&c.stores[1], PASS).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let bad = Polynomial::random(&params, &mut rng).encrypt_share(&ctx, 2, &publics[3], &mut rng).unwrap();
    let signed = Signed::sign(bad, &ctx, &dealer.keys, &mut rng);
    fs::write(c.dir.join("round2").join("share-2-to-4.json"), serde_json::to_vec_pretty(&signed).unwrap()).unwrap();

    let checks = c.round("check");
    assert!(checks[3].contains("dealer 2: BAD SHARE") && checks[3].contains("1 complaint(s)"), "{}", checks[3]);
    for (k, out) in checks.iter().enumerate() {
        if k != 3 {
            assert!(out.contains("0 complaint(s)"), "{out}");
        }
    }
    let finished = c.round("finish");
    common_fingerprint(&finished);
    for out in &finished {
        assert_eq!(value_of(out, "qualified dealers:"), "1, 3, 4, 5");
        assert!(out.contains("disqualified dealer 2: share for key-holder 4 does not match the commitments"), "{out}");
    }
    // The disqualified dealer still holds a working share of the key of the others.
    for l in [2usize, 4] {
        ok(&["rehearse", "--dir", c.store(l), "--campaign", "kg-2026-bad-share"]);
    }
}

// ---- the ceremony over the server's HTTP API ------------------------------------------------

/// A running `dobush-server` (SQLite in a temporary directory) for the CLI to talk to.
struct Server {
    _rt: tokio::runtime::Runtime,
    _tmp: tempfile::TempDir,
    url: String,
    /// The server's shared state (its session keys mint the staff's bearer tokens).
    state: std::sync::Arc<dobush_server::state::AppState>,
    /// The server's clock (campaign of 9 April 2030: applications in March, polls 08:00–20:00).
    clock: std::sync::Arc<dobush_server::clock::ManualClock>,
    http: reqwest::blocking::Client,
}

/// The e-voters of the server's campaign.
const VOTER_PINS: [&str; 4] = ["21504199000012", "11203198500034", "20101197000056", "20101197000078"];

const ADMIN_PIN: &str = "10101197000001";
/// The second CEC administrator of dual control (14-commission.md §Dual control).
const SECOND_ADMIN_PIN: &str = "10101197000003";
const KEY_HOLDER_PINS: [&str; 5] =
    ["40101198000001", "40101198000002", "40101198000003", "40101198000004", "40101198000005"];

impl Server {
    fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let mut settings = dobush_server::configuration::Settings::default();
        settings.server.port = 0;
        settings.server.workers = 2;
        settings.database.url = format!("sqlite://{}", tmp.path().join("db.sqlite3").display());
        settings.bootstrap.cec_admin_pins = vec![ADMIN_PIN.into(), SECOND_ADMIN_PIN.into()];
        settings.board.key_path = tmp.path().join("board.key").display().to_string();
        // the server never generates its board key while serving: it is made beforehand
        dobush_server::board_log::generate_key_file(&tmp.path().join("board.key")).unwrap();
        settings.rate_limit.per_address_per_minute = 100_000;
        let clock = std::sync::Arc::new(dobush_server::clock::ManualClock::new(bishkek_2030(3, 1, 12)));
        let app = rt.block_on(dobush_server::startup::Application::build(settings, clock.clone())).unwrap();
        let url = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().into_inner();
        rt.spawn(app.run_until_stopped());
        Self { _rt: rt, _tmp: tmp, url, state, clock, http: reqwest::blocking::Client::new() }
    }

    /// A session token of `pin`, as a login would give it.
    fn token(&self, pin: &str) -> String {
        use dobush_server::clock::Clock;
        let now = self.clock.now().timestamp();
        self.state.sessions.issue(pin, now).unwrap().0
    }

    fn call(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        self.call_as(&self.token(ADMIN_PIN), method, path, body)
    }

    /// A request with `token`'s session that must succeed; its JSON answer.
    fn call_as(&self, token: &str, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = self.http.request(m, format!("{}{path}", self.url)).bearer_auth(token);
        // A GET takes no body (the server refuses one: review 18-hardening H1).
        let request = if body.is_null() { request } else { request.json(&body) };
        let r = request.send().unwrap();
        let status = r.status();
        let v: serde_json::Value = r.json().unwrap_or_default();
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    fn get(&self, path: &str) -> serde_json::Value {
        self.http.get(format!("{}{path}", self.url)).send().unwrap().json().unwrap()
    }

    /// A campaign in state key_ceremony with a 3-of-5 ceremony configured, re-votes under
    /// `last_counts`, and the e-voters [`VOTER_PINS`] registered with the returned credentials.
    fn campaign(&self) -> (String, Vec<Credential>) {
        let c = self.call("POST", "/api/campaigns", campaign_2030());
        let id = c["id"].as_str().unwrap().to_string();
        for a in ["start_test", "erase_test_data_and_open_registration"] {
            self.transition(&id, a);
        }
        let mut csv = String::from("pin,full_name,birth_date,precinct\n");
        for (k, pin) in VOTER_PINS.iter().enumerate() {
            csv.push_str(&format!("{pin},Voter {k},1980-01-0{},P1\n", k + 1));
        }
        let r = self
            .http
            .post(format!("{}/api/campaigns/{id}/voters/import", self.url))
            .bearer_auth(self.token(ADMIN_PIN))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().unwrap());
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let creds: Vec<Credential> = VOTER_PINS
            .iter()
            .map(|pin| {
                let cred = Credential::generate(&mut rng).unwrap();
                self.call_as(
                    &self.token(pin),
                    "PUT",
                    &format!("/api/campaigns/{id}/cabinet/application"),
                    serde_json::json!({ "credential": cred.public().0.to_hex() }),
                );
                cred
            })
            .collect();
        self.transition(&id, "start_key_ceremony");
        for pin in KEY_HOLDER_PINS {
            self.call("POST", "/api/staff", serde_json::json!({ "pin": pin, "role": "key_holder" }));
        }
        self.call(
            "PUT",
            &format!("/api/campaigns/{id}/ceremony"),
            serde_json::json!({ "threshold": 3, "key_holders": KEY_HOLDER_PINS }),
        );
        (id, creds)
    }

    fn transition(&self, id: &str, action: &str) {
        self.call("POST", &format!("/api/campaigns/{id}/transitions"), serde_json::json!({ "action": action }));
    }
}

/// Runs the binary as key-holder `l` with its session token.
fn run_as(server: &Server, l: usize, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DOBUSH_PASSPHRASE", PASS)
        .env("DOBUSH_TOKEN", server.token(KEY_HOLDER_PINS[l - 1]))
        .output()
        .expect("binary runs")
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn ok_as(server: &Server, l: usize, args: &[&str]) -> String {
    succeeded(args, run_as(server, l, args))
}

#[test]
fn ceremony_tally_and_signing_over_the_server_3_of_5() {
    let server = Server::start();
    let (id, creds) = server.campaign();
    let tmp = tempfile::tempdir().unwrap();
    let stores: Vec<PathBuf> = (1..=5).map(|l| tmp.path().join(format!("keystore-{l}"))).collect();
    let round = |name: &str, l: usize, t: &str| -> Vec<String> {
        ["ceremony", name, "--dir", s(&stores[l - 1]), "--server", &server.url, "--campaign", &id, "--threshold", t]
            .iter()
            .map(|x| x.to_string())
            .collect()
    };
    for l in 1..=5 {
        let out = ok_as(
            &server,
            l,
            &[
                "init",
                "--dir",
                s(&stores[l - 1]),
                "--index",
                &l.to_string(),
                "--server",
                &server.url,
                "--campaign",
                &id,
            ],
        );
        assert!(out.contains("registered with the server"), "{out}");
        if l == 2 {
            // a round before every key-holder has registered
            let out = run_as(&server, 1, &args(&round("commit", 1, T)));
            assert!(!out.status.success());
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("missing 3, 4, 5"),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // the server's base context is the one every key-holder computes; the server runs 3 of 5
    let out = run_as(&server, 1, &args(&round("commit", 1, "2")));
    assert_eq!(out.status.code(), Some(3), "another t is refused");
    let status = server.get(&format!("/api/campaigns/{id}/ceremony"));
    let out = ok_as(&server, 1, &args(&round("commit", 1, T)));
    assert_eq!(value_of(&out, "base context hash:"), status["base_hash"].as_str().unwrap());
    // round 2 before round 1 is complete: the tool refuses, naming who is missing
    let out = run_as(&server, 1, &args(&round("reveal", 1, T)));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("round 1 is not complete"));
    for l in 2..=5 {
        ok_as(&server, l, &args(&round("commit", l, T)));
    }
    for l in 1..=5 {
        ok_as(&server, l, &args(&round("reveal", l, T)));
    }
    assert_eq!(server.get(&format!("/api/campaigns/{id}/ceremony"))["phase"], "round3");
    for l in 1..=5 {
        let out = ok_as(&server, l, &args(&round("check", l, T)));
        assert!(out.contains("4 share(s) valid, 0 complaint(s)"), "{out}");
    }
    let done = server.get(&format!("/api/campaigns/{id}/ceremony"));
    assert_eq!(done["phase"], "complete");
    let published = done["joint_key_fingerprint"].as_str().unwrap().to_string();
    // a server that publishes another outcome than the transcript gives is refused
    let db = server.state.db.clone();
    let (cid, original) = (id.clone(), done["outcome"].to_string());
    let set_outcome = move |text: String| {
        use diesel::prelude::*;
        use dobush_server::schema::key_ceremonies as k;
        let mut c = db.get().unwrap();
        diesel::update(k::table.filter(k::campaign_id.eq(&cid)))
            .set(k::outcome.eq(Some(text)))
            .execute(&mut *c)
            .unwrap();
    };
    let mut forged = done["outcome"].clone();
    forged["joint_key"] = forged["verification_keys"][0].clone();
    set_outcome(forged.to_string());
    let out = run_as(&server, 5, &args(&round("finish", 5, T)));
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another outcome"));
    set_outcome(original);
    // every key-holder evaluates the transcript itself and prints the same fingerprint
    for l in 1..=5 {
        let out = ok_as(&server, l, &args(&round("finish", l, T)));
        assert!(out.contains("equals this key-holder's own evaluation"), "{out}");
        assert_eq!(value_of(&out, "joint key fingerprint:"), published);
        ok_as(&server, l, &["rehearse", "--dir", s(&stores[l - 1]), "--campaign", &id]);
    }
    // messages are write-once on the server too: a second round 1 is refused by the tool
    let out = run_as(&server, 1, &args(&round("commit", 1, T)));
    assert!(!out.status.success());

    let expected = vote_and_close(&server, &id, &creds, &stores);
    tally_over_the_server(&server, &id, &stores, &expected);
    sign_over_the_server(&server, &id, &stores);
}

/// The commission under dual control (key-holders 1, 2 and 4's member keys registered, a second
/// CEC administrator confirming), the package from the ceremony, the credential list signed by
/// key-holders 1 and 2 as commission members (`sign-list`, the quorum), the polls opened; every voter casts, voter 0 re-votes; closed. Returns
/// the expected counts.
fn vote_and_close(server: &Server, id: &str, creds: &[Credential], stores: &[PathBuf]) -> Vec<Vec<u64>> {
    for (l, role) in [(1usize, "chair"), (2, "secretary"), (4, "member")] {
        let (store, _) = Keystore::open(&stores[l - 1], PASS).unwrap();
        server.call(
            "POST",
            &format!("/api/v1/campaigns/{id}/commission-members"),
            serde_json::json!({ "name": format!("Member {l}"), "role": role, "precinct": "E1",
                "public_key": store.meta().member_key }),
        );
    }
    // Each member checks their own line before the confirmation (14-commission.md §Member
    // fingerprints): the fingerprints the tool recomputes are the server's, and a key listed
    // under another role, or not listed, is refused.
    let url = server.url.clone();
    let check = |l: usize, name: &str, role: &str, extra: &[&str]| {
        let mut a = vec!["check-commission", "--dir", s(&stores[l - 1]), "--server", &url, "--campaign", id];
        a.extend(["--name", name, "--role", role, "--members", "3"]);
        a.extend(extra);
        run_as(server, l, &a)
    };
    let out = check(1, "Member 1", "chair", &[]);
    let stdout = succeeded(&["check-commission"], out);
    let shown = server.get(&format!("/api/v1/campaigns/{id}/commission"));
    assert!(stdout.contains("commission (proposed), 3 members:"), "{stdout}");
    for (i, fp) in shown["fingerprints"].as_array().unwrap().iter().enumerate() {
        assert!(stdout.contains(&format!("fingerprint {}", fp.as_str().unwrap())), "member {i}: {stdout}");
    }
    assert!(stdout.contains(&format!("commission hash: {}", shown["commission_hash"].as_str().unwrap())), "{stdout}");
    assert!(stdout.contains(": Member 1 (chair). Compare every line"), "{stdout}");
    for (l, name, role, needle) in [
        (2, "Member 2", "chair", "\"Member 2\" (secretary), not \"Member 2\" (chair)"),
        (2, "Member 1", "secretary", "not \"Member 1\" (secretary)"),
        (3, "Member 3", "member", "is not in the commission section"),
    ] {
        let out = check(l, name, role, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains(needle), "{err}");
    }
    // a published package fingerprint cannot be compared before there is a package
    let out = check(4, "Member 4", "member", &["--package-fingerprint", "0000-0000-0000-0000-0000"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no election package is installed yet"));
    // a section with more members than the written decision (an impostor beside the real ones)
    let mut a = vec!["check-commission", "--dir", s(&stores[0]), "--server", &url, "--campaign", id];
    a.extend(["--name", "Member 1", "--role", "chair", "--members", "2"]);
    let out = run_as(server, 1, &a);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the section has 3 members, the commission's decision 2"));
    // appointed at startup, independently of the administrator who registered the members
    let second = SECOND_ADMIN_PIN;
    server.call_as(
        &server.token(second),
        "POST",
        &format!("/api/v1/campaigns/{id}/commission/confirm"),
        serde_json::json!({ "commission_hash": shown["commission_hash"], "re_vote_policy": shown["re_vote_policy"] }),
    );
    let mut manifest = pilot_manifest();
    manifest.campaign_id = id.to_string();
    let package: ElectionPackage = serde_json::from_value(server.call(
        "PUT",
        &format!("/api/campaigns/{id}/election-package"),
        serde_json::json!({ "manifest": manifest }),
    ))
    .unwrap();
    // …and again on the installed package, against the fingerprint the commission published
    let fp = package.fingerprint().unwrap();
    let stdout = succeeded(&["check-commission"], check(4, "Member 4", "member", &["--package-fingerprint", &fp]));
    assert!(stdout.contains("commission (pinned in the election package), 3 members:"), "{stdout}");
    assert!(stdout.contains(&format!("election package fingerprint: {fp}")), "{stdout}");
    let out = check(4, "Member 4", "member", &["--package-fingerprint", "0000-0000-0000-0000-0000"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the package the commission approved"));
    // once pinned, the published fingerprint is required
    let out = check(4, "Member 4", "member", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --package-fingerprint"));
    server.transition(id, "freeze_manifest");
    server.clock.set(bishkek_2030(4, 9, 12));
    let list = server.get(&format!("/api/v1/campaigns/{id}/credential-list"));
    let list_file = stores[0].join("credential-list.json");
    fs::write(&list_file, list.to_string()).unwrap();
    for l in [1usize, 2] {
        let out = ok(&["sign-list", "--dir", s(&stores[l - 1]), "--list", s(&list_file), "--member", "Member"]);
        server.call(
            "POST",
            &format!("/api/campaigns/{id}/credential-list/signatures"),
            serde_json::from_str(&out).unwrap(),
        );
    }
    server.transition(id, "open_voting");
    let ctx = package.context().unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    // (voter, council choice, yes): voter 0 votes again, and only the last one counts
    let votes = [(0usize, 1usize, true), (1, 3, false), (2, 3, true), (3, 8, true), (0, 5, false)];
    for &(v, council, yes) in &votes {
        let (b, _) = encrypt_ballot(&ctx, creds[v].signing_key(), &ballot(council, yes), &mut rng).unwrap();
        server.call_as(
            &server.token(VOTER_PINS[v]),
            "POST",
            &format!("/api/campaigns/{id}/ballots"),
            serde_json::to_value(&b).unwrap(),
        );
    }
    server.clock.set(bishkek_2030(4, 9, 20));
    server.transition(id, "close_voting");
    let mut expected = vec![vec![0u64; 9], vec![0u64; 2]];
    for &(_, council, yes) in &votes[1..] {
        expected[0][council] += 1;
        expected[1][usize::from(!yes)] += 1;
    }
    expected
}

/// Replaces the totals the server publishes (as a server that lies would).
fn set_published_totals(server: &Server, id: &str, text: &str) {
    use diesel::prelude::*;
    use dobush_server::schema::tallies;
    let mut c = server.state.db.get().unwrap();
    diesel::update(tallies::table.filter(tallies::campaign_id.eq(id)))
        .set(tallies::board_totals.eq(text))
        .execute(&mut *c)
        .unwrap();
}

/// `tally --server`: refused while the server publishes totals that are not the board's;
/// key-holders 1, 2 and 4 post their shares (3 and 5 never come), the results are combined and
/// are the votes cast.
fn tally_over_the_server(server: &Server, id: &str, stores: &[PathBuf], expected: &[Vec<u64>]) {
    let tally = |l: usize| {
        vec![
            "tally".to_string(),
            "--dir".into(),
            s(&stores[l - 1]).into(),
            "--server".into(),
            server.url.clone(),
            "--campaign".into(),
            id.into(),
        ]
    };
    let published = server.get(&format!("/api/v1/campaigns/{id}/totals"))["encrypted_totals"].clone();
    let mut lying = published.clone();
    let first = lying[0]["totals"][0].clone();
    lying[0]["totals"][0] = lying[0]["totals"][1].clone();
    lying[0]["totals"][1] = first;
    set_published_totals(server, id, &lying.to_string());
    let out = run_as(server, 1, &args(&tally(1)));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("selection 0: the published encrypted total differs from the one recomputed"), "{err}");
    let shares = server.get(&format!("/api/v1/campaigns/{id}/decryption-shares"));
    assert_eq!(shares["decryption_shares"], serde_json::json!([]), "nothing was posted");
    set_published_totals(server, id, &published.to_string());

    // without a session the tool refuses before downloading anything
    let out = Command::new(BIN)
        .args(args(&tally(1)))
        .env("DOBUSH_PASSPHRASE", PASS)
        .env_remove("DOBUSH_TOKEN")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("DOBUSH_TOKEN"));

    for (l, combined) in [(1usize, false), (2, false), (4, true)] {
        let out = ok_as(server, l, &args(&tally(l)));
        assert!(out.contains("encrypted totals recomputed and equal"), "{out}");
        assert!(out.contains("5 ballots verified, 4 counted, 1 superseded"), "{out}");
        assert!(out.contains("server: accepted 11, rejected 0"), "{out}");
        assert_eq!(out.contains("server: results combined"), combined, "{out}");
    }
    let results = server.get(&format!("/api/v1/campaigns/{id}/results"));
    let counts: Vec<Vec<u64>> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_value(r["counts"].clone()).unwrap())
        .collect();
    assert_eq!(counts, expected);
}

/// Serves one canned HTTP answer (200, JSON) to the first request, as a lying server would.
fn one_answer_server(body: String) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// `sign --server`: the saved protocol's lines shown and its digest recomputed; refused when the
/// digest is not the commission's copy's or not the protocol's; members 2 and 1 (the chair) sign,
/// which is the quorum of the three pinned members.
fn sign_over_the_server(server: &Server, id: &str, stores: &[PathBuf]) {
    let draft = server.call("GET", &format!("/api/v1/campaigns/{id}/protocol/draft"), serde_json::Value::Null);
    let digest = server.call("PUT", &format!("/api/v1/campaigns/{id}/protocol"), serde_json::json!({ "body": draft }))
        ["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let sign = |l: usize, url: &str, extra: &[&str]| {
        let mut a = vec!["sign", "--dir", s(&stores[l - 1]), "--server", url, "--campaign", id, "--member"];
        a.push(if l == 1 { "Chair A. Asanova" } else { "Member" });
        a.extend_from_slice(extra);
        a.iter().map(|x| x.to_string()).collect::<Vec<_>>()
    };
    // the commission's printed copy has another digest
    let wrong = hex::encode([7u8; 32]);
    let out = run_as(server, 2, &args(&sign(2, &server.url, &["--digest", &wrong])));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("not the one on the commission's copy"), "{err}");
    // a server that sends a changed line under the saved protocol's digest
    let mut saved = server.get(&format!("/api/v1/campaigns/{id}/protocol"));
    assert_eq!(saved["digest"], digest.as_str());
    let v = saved["protocol"]["body"]["contests"][0]["lines"][3]["value"].as_u64().unwrap();
    saved["protocol"]["body"]["contests"][0]["lines"][3]["value"] = (v + 1).into();
    let liar = one_answer_server(saved.to_string());
    let out = run_as(server, 2, &args(&sign(2, &liar, &[])));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("is not the digest of the protocol it sent"), "{err}");

    // a server that publishes another list of decryption shares than the protocol names (the
    // first replaced by the second after the protocol was saved): the member's tool refuses
    {
        use diesel::prelude::*;
        use dobush_server::schema::decryption_shares as ds;
        let mut c = server.state.db.get().unwrap();
        let rows: Vec<(i64, String)> = ds::table
            .filter(ds::campaign_id.eq(id))
            .order(ds::seq.asc())
            .select((ds::seq, ds::payload))
            .load(&mut *c)
            .unwrap();
        let set = |payload: &str, c: &mut dobush_server::db::AnyConnection| {
            diesel::update(ds::table.filter(ds::campaign_id.eq(id)).filter(ds::seq.eq(rows[0].0)))
                .set(ds::payload.eq(payload))
                .execute(c)
                .unwrap()
        };
        set(&rows[1].1, &mut c);
        let out = run_as(server, 2, &args(&sign(2, &server.url, &[])));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains("names another list of decryption shares"), "{err}");
        set(&rows[0].1, &mut c);
    }

    // --heads (review 18-stop27 M6): the board the protocol names must follow a head the member
    // kept during voting. A head of a second chain signed with the board key (same size, another
    // root), and a head whose signature is not the board's, are refused; the first head of the
    // board (kept at the opening) is followed to the final head.
    let first = server.get(&format!("/api/v1/campaigns/{id}/board/heads"))[0].clone();
    let kept_file = server._tmp.path().join("kept-heads.json");
    std::fs::write(&kept_file, serde_json::json!([first]).to_string()).unwrap();
    let key = dobush_server::board_log::load_key(&server._tmp.path().join("board.key")).unwrap();
    let mut head: dobush_crypto::board::SignedTreeHead = serde_json::from_value(first.clone()).unwrap();
    head.head.root = [9u8; 32];
    let fork = key.sign(head.head);
    let mut unsigned = fork;
    unsigned.signature[0] ^= 1;
    for (kept, refusal) in [
        (fork, "does not follow the chain from the head you kept"),
        (unsigned, "not a head of this election signed by its board key"),
    ] {
        let file = server._tmp.path().join("other-heads.json");
        std::fs::write(&file, serde_json::to_string(&kept).unwrap()).unwrap();
        let out = run_as(server, 2, &args(&sign(2, &server.url, &["--heads", s(&file)])));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains(refusal), "{err}");
    }

    let published_shares =
        server.get(&format!("/api/v1/campaigns/{id}/decryption-shares"))["decryption_shares"].as_array().unwrap().len();
    let out = ok_as(server, 2, &args(&sign(2, &server.url, &["--digest", &digest, "--heads", s(&kept_file)])));
    assert!(
        out.contains("it follows the head you kept (") && out.contains(&format!("({} entries)", first["size"])),
        "{out}"
    );
    assert!(out.contains("computed from the board whose final head's link is"), "{out}");
    assert_eq!(value_of(&out, "protocol digest:"), digest);
    assert_eq!(
        value_of(&out, "decryption shares named by the protocol:"),
        format!("{}, of key-holders 1, 2, 4", published_shares),
        "{out}"
    );
    for l in draft["general"].as_array().unwrap() {
        let shown = format!("{} / {}: {}", l["ky"].as_str().unwrap(), l["ru"].as_str().unwrap(), l["value"]);
        assert!(out.contains(&shown), "line {shown:?} is not shown: {out}");
    }
    assert!(out.contains("protocol signed by the quorum: not yet"), "{out}");
    let out = ok_as(server, 1, &args(&sign(1, &server.url, &[])));
    assert!(out.contains("protocol signed by the quorum: yes"), "{out}");
    let saved = server.get(&format!("/api/v1/campaigns/{id}/protocol"));
    let p: ElectionProtocol = serde_json::from_value(saved["protocol"].clone()).unwrap();
    assert_eq!(p.signatures.len(), 2);
    p.verify_signatures().unwrap();
    let c = server.call("GET", &format!("/api/campaigns/{id}"), serde_json::Value::Null);
    assert_eq!(c["state"], "protocol_signed");
}
