//! Ballot-level tests: encryption, verification, binding, tampering, batching, challenges, tally.
//! (One integration test binary for the crate; the proof-level tests live next to each proof.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use curve25519_dalek::scalar::Scalar;
use dobush_crypto::ballot::{
    BallotError, CountProof, EncryptedBallot, PlaintextBallot, PlaintextContest, encrypt_ballot, verify_ballot,
    verify_ballots, verify_challenged_ballot,
};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::credential::Credential;
use dobush_crypto::dlog::DlogTable;
use dobush_crypto::elgamal::SecretKey;
use dobush_crypto::manifest::{BallotStyle, Contest, ContestOption, Localized, Manifest};
use dobush_crypto::tally::EncryptedTally;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn options(prefix: &str, n: usize) -> Vec<ContestOption> {
    (0..n)
        .map(|i| ContestOption {
            id: format!("{prefix}{i}"),
            name: Localized::new([("ky", format!("Талапкер {i}")), ("ru", format!("Кандидат {i}"))]),
            details: Localized::default(),
        })
        .collect()
}

fn contest(id: &str, n: usize, min: u32, max: u32, aa: bool, blank: bool) -> Contest {
    Contest {
        id: id.into(),
        title: Localized::new([("ky", id.to_owned())]),
        options: options(id, n),
        min_marks: min,
        max_marks: max,
        against_all: aa,
        blank_allowed: blank,
    }
}

/// A manifest with every Kyrgyz contest shape: one mark with against-all and blank (president,
/// Jogorku Kenesh districts), two referendum questions, and a wide multi-mark council.
fn manifest() -> Manifest {
    Manifest {
        campaign_id: "test-2026".into(),
        title: Localized::new([("ky", "Сыноо".to_owned())]),
        contests: vec![
            contest("district-1", 7, 1, 1, true, true),
            contest("district-2", 5, 1, 1, true, true),
            contest("question-1", 2, 1, 1, false, true),
            contest("question-2", 3, 1, 1, false, false),
            contest("council", 30, 1, 21, false, false),
        ],
        ballot_styles: vec![
            BallotStyle {
                id: "style-1".into(),
                contests: vec!["district-1".into(), "question-1".into(), "question-2".into()],
            },
            BallotStyle { id: "style-2".into(), contests: vec!["district-2".into(), "council".into()] },
        ],
    }
}

struct Fixture {
    sk: SecretKey,
    ctx: ElectionContext,
}

fn fixture(rng: &mut ChaCha20Rng) -> Fixture {
    let sk = SecretKey::generate(rng);
    let ctx = ElectionContext::new([7u8; 32], sk.public_key(), manifest(), [5u8; 32], [6u8; 32]).unwrap();
    Fixture { sk, ctx }
}

fn marks(n: usize, on: &[usize]) -> Vec<u8> {
    (0..n).map(|i| u8::from(on.contains(&i))).collect()
}

fn style1(candidate: usize) -> PlaintextBallot {
    PlaintextBallot {
        style: "style-1".into(),
        contests: vec![
            PlaintextContest { contest_id: "district-1".into(), selections: marks(9, &[candidate]) },
            PlaintextContest { contest_id: "question-1".into(), selections: marks(3, &[0]) },
            PlaintextContest { contest_id: "question-2".into(), selections: marks(3, &[2]) },
        ],
    }
}

fn style2() -> PlaintextBallot {
    PlaintextBallot {
        style: "style-2".into(),
        contests: vec![
            PlaintextContest { contest_id: "district-2".into(), selections: marks(7, &[5]) },
            PlaintextContest { contest_id: "council".into(), selections: marks(30, &[0, 3, 4, 9, 29]) },
        ],
    }
}

fn rejected(f: &Fixture, b: EncryptedBallot, rng: &mut ChaCha20Rng) -> BallotError {
    verify_ballot(&f.ctx, b, rng).expect_err("tampered ballot must be rejected")
}

#[test]
fn every_contest_shape_encrypts_verifies_and_decrypts() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let f = fixture(&mut rng);
    let cred = Credential::generate(&mut rng).unwrap();
    let table = DlogTable::new(10);
    for p in [style1(3), style1(7), style1(8), style2()] {
        let (b, _) = encrypt_ballot(&f.ctx, cred.signing_key(), &p, &mut rng).unwrap();
        // No two first components of one ballot are equal (fresh randomness per ciphertext).
        let mut alphas: Vec<_> =
            b.contests.iter().flat_map(|c| c.selections.iter().map(|s| s.ciphertext.alpha)).collect();
        let n = alphas.len();
        alphas.sort_by_key(|a| *a.as_bytes());
        alphas.dedup();
        assert_eq!(alphas.len(), n);
        let v = verify_ballot(&f.ctx, b.clone(), &mut rng).unwrap();
        assert_eq!(v.ballot(), &b);
        for (c, pc) in b.contests.iter().zip(&p.contests) {
            for (s, m) in c.selections.iter().zip(&pc.selections) {
                assert_eq!(table.solve(&f.sk.decrypt_to_point(&s.ciphertext)), Some(u64::from(*m)));
            }
        }
    }
    // The wide council contest uses a bulletproofs range proof, the others disjunctive proofs.
    let (b, _) = encrypt_ballot(&f.ctx, cred.signing_key(), &style2(), &mut rng).unwrap();
    assert!(matches!(b.contests[0].count_proof, CountProof::Disjunctive { .. }));
    assert!(matches!(b.contests[1].count_proof, CountProof::Range { .. }));
    // JSON round trip keeps it valid.
    let json = serde_json::to_string(&b).unwrap();
    let back: EncryptedBallot = serde_json::from_str(&json).unwrap();
    verify_ballot(&f.ctx, back, &mut rng).unwrap();
}

#[test]
fn invalid_votes_cannot_be_encrypted() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let f = fixture(&mut rng);
    let cred = Credential::generate(&mut rng).unwrap();
    let mut two = style1(1);
    two.contests[0].selections[2] = 1;
    assert!(encrypt_ballot(&f.ctx, cred.signing_key(), &two, &mut rng).is_err());
    let mut none = style1(1);
    none.contests[0].selections = vec![0; 9];
    assert!(encrypt_ballot(&f.ctx, cred.signing_key(), &none, &mut rng).is_err());
    let mut wrong_style = style1(1);
    wrong_style.style = "style-2".into();
    assert!(encrypt_ballot(&f.ctx, cred.signing_key(), &wrong_style, &mut rng).is_err());
}

#[test]
fn ballot_is_bound_to_election_voter_style_and_contest() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let f = fixture(&mut rng);
    let alice = Credential::generate(&mut rng).unwrap();
    let bob = Credential::generate(&mut rng).unwrap();
    let (b, _) = encrypt_ballot(&f.ctx, alice.signing_key(), &style1(2), &mut rng).unwrap();

    // Another election (other base hash) rejects it.
    let other = ElectionContext::new([8u8; 32], f.sk.public_key(), manifest(), [5u8; 32], [6u8; 32]).unwrap();
    assert!(verify_ballot(&other, b.clone(), &mut rng).is_err());
    // Another manifest (one candidate renamed) rejects it.
    let mut m = manifest();
    m.contests[0].options[0].name = Localized::new([("ky", "Башка".to_owned())]);
    let other = ElectionContext::new([7u8; 32], f.sk.public_key(), m, [5u8; 32], [6u8; 32]).unwrap();
    assert!(verify_ballot(&other, b.clone(), &mut rng).is_err());

    // Copied to Bob: re-signing with Bob's credential does not help, the proofs name Alice.
    let mut copy = b.clone();
    copy.credential = bob.public();
    assert!(matches!(rejected(&f, copy, &mut rng), BallotError::Proof { .. }));

    // Another ballot id.
    let mut copy = b.clone();
    copy.ballot_id[0] ^= 1;
    assert!(matches!(rejected(&f, copy, &mut rng), BallotError::Proof { .. }));

    // Contests swapped into another contest's place: style check fails.
    let mut copy = b.clone();
    copy.contests.swap(1, 2);
    assert!(matches!(rejected(&f, copy, &mut rng), BallotError::Malformed(_)));

    // A selection moved from one ballot to another: the proof's transcript differs.
    let (b2, _) = encrypt_ballot(&f.ctx, alice.signing_key(), &style1(4), &mut rng).unwrap();
    let mut mixed = b.clone();
    mixed.contests[1].selections[0] = b2.contests[1].selections[0].clone();
    assert!(matches!(rejected(&f, mixed, &mut rng), BallotError::Proof { .. }));
}

#[test]
fn each_tampered_part_is_rejected_and_located() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let f = fixture(&mut rng);
    let cred = Credential::generate(&mut rng).unwrap();
    let (b, _) = encrypt_ballot(&f.ctx, cred.signing_key(), &style2(), &mut rng).unwrap();

    let mut t = b.clone();
    t.contests[0].selections[1].ciphertext.beta = t.contests[0].selections[2].ciphertext.beta;
    match rejected(&f, t, &mut rng) {
        // Every proof of the contest binds all its ciphertexts, so the first one already fails.
        BallotError::Proof { contest, selection, proof, .. } => {
            assert_eq!((contest.as_str(), selection, proof), ("district-2", Some(0), "selection"));
        }
        e => panic!("unexpected {e:?}"),
    }
    let mut t = b.clone();
    t.contests[0].selections[3].proof.branches[0].z += Scalar::ONE;
    assert!(matches!(rejected(&f, t, &mut rng), BallotError::Proof { selection: Some(3), .. }));
    let mut t = b.clone();
    t.contests[0].selections[0].proof.branches[1].c += Scalar::ONE;
    assert!(matches!(rejected(&f, t, &mut rng), BallotError::Proof { selection: Some(0), .. }));
    let mut t = b.clone();
    if let CountProof::Disjunctive { proof } = &mut t.contests[0].count_proof {
        proof.branches[0].z += Scalar::ONE;
    }
    assert!(matches!(rejected(&f, t, &mut rng), BallotError::Proof { selection: None, proof: "count", .. }));
    let mut t = b.clone();
    if let CountProof::Range { proof } = &mut t.contests[1].count_proof {
        proof.link.zr += Scalar::ONE;
    }
    assert!(matches!(rejected(&f, t, &mut rng), BallotError::Proof { proof: "count", .. }));
    let mut t = b.clone();
    t.signature.s += Scalar::ONE;
    assert!(matches!(rejected(&f, t, &mut rng), BallotError::Signature(_)));
    // A selection dropped.
    let mut t = b.clone();
    t.contests[0].selections.pop();
    assert!(matches!(rejected(&f, t, &mut rng), BallotError::Malformed(_)));
    // Reused randomness (two equal first components) is refused outright.
    let mut t = b.clone();
    t.contests[0].selections[1].ciphertext.alpha = t.contests[0].selections[0].ciphertext.alpha;
    assert!(matches!(rejected(&f, t, &mut rng), BallotError::Malformed(_)));
    // The wrong kind of count proof for the contest.
    let mut t = b.clone();
    t.contests[1].count_proof = b.contests[0].count_proof.clone();
    assert!(matches!(rejected(&f, t, &mut rng), BallotError::Proof { proof: "count", .. }));
}

#[test]
fn batch_verification_finds_the_bad_ballots() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let f = fixture(&mut rng);
    let mut ballots = Vec::new();
    for i in 0..12 {
        let cred = Credential::generate(&mut rng).unwrap();
        let (b, _) = encrypt_ballot(&f.ctx, cred.signing_key(), &style1(i % 9), &mut rng).unwrap();
        ballots.push(b);
    }
    ballots[3].contests[2].selections[1].proof.branches[0].z += Scalar::ONE; // equation only
    ballots[8].signature.s += Scalar::ONE; // equation only
    ballots[10].style = "nope".into(); // structural
    let results = verify_ballots(&f.ctx, ballots, &mut rng);
    for (i, r) in results.iter().enumerate() {
        match i {
            3 => assert!(matches!(r, Err(BallotError::Proof { selection: Some(1), .. })), "{r:?}"),
            8 => assert!(matches!(r, Err(BallotError::Signature(_))), "{r:?}"),
            10 => assert!(matches!(r, Err(BallotError::Malformed(_))), "{r:?}"),
            _ => assert!(r.is_ok(), "ballot {i}: {r:?}"),
        }
    }
}

#[test]
fn benaloh_challenge_opens_to_the_choice_and_catches_a_lie() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let f = fixture(&mut rng);
    let cred = Credential::generate(&mut rng).unwrap();
    let p = style2();
    let (b, secrets) = encrypt_ballot(&f.ctx, cred.signing_key(), &p, &mut rng).unwrap();
    let v = verify_ballot(&f.ctx, b, &mut rng).unwrap();
    let opening = secrets.open();
    let json = serde_json::to_string(&opening).unwrap();
    assert_eq!(verify_challenged_ballot(&f.ctx, &v, &opening).unwrap(), p);
    let opening2: dobush_crypto::ballot::BallotOpening = serde_json::from_str(&json).unwrap();
    assert_eq!(verify_challenged_ballot(&f.ctx, &v, &opening2).unwrap(), p);
    // A device that encrypted another choice than it shows cannot open to the shown one.
    let mut lie = opening.clone();
    lie.contests[0][5].mark = 0;
    lie.contests[0][4].mark = 1;
    assert!(matches!(verify_challenged_ballot(&f.ctx, &v, &lie), Err(BallotError::Opening(_))));
    let mut lie = opening;
    lie.contests[1][0].nonce += Scalar::ONE;
    assert!(verify_challenged_ballot(&f.ctx, &v, &lie).is_err());
}

#[test]
fn tally_adds_subtracts_and_decrypts_to_the_counts() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let f = fixture(&mut rng);
    let mut tally = EncryptedTally::new(&f.ctx);
    let mut expected = vec![0u64; 9];
    let mut verified = Vec::new();
    for i in 0..20usize {
        let cred = Credential::generate(&mut rng).unwrap();
        let choice = (i * 7) % 9;
        let (b, _) = encrypt_ballot(&f.ctx, cred.signing_key(), &style1(choice), &mut rng).unwrap();
        let v = verify_ballot(&f.ctx, b, &mut rng).unwrap();
        tally.add(&v).unwrap();
        expected[choice] += 1;
        verified.push((choice, v));
    }
    // Supersede two ballots.
    for (choice, v) in verified.iter().take(2) {
        tally.subtract(v).unwrap();
        expected[*choice] -= 1;
    }
    let totals = tally.totals().unwrap();
    assert_eq!(totals[0].ballots, 18);
    assert_eq!(totals[1].ballots, 0);
    let table = DlogTable::new(100);
    let got: Vec<u64> = totals[0]
        .totals
        .iter()
        .map(|ct| {
            // Totals start from Enc(0; 1) = (G, K): decryption is unaffected.
            table.solve(&f.sk.decrypt_to_point(ct)).unwrap()
        })
        .collect();
    assert_eq!(got, expected);
    // A contest with no ballots decrypts to zero everywhere.
    assert!(totals[1].totals.iter().all(|ct| table.solve(&f.sk.decrypt_to_point(ct)) == Some(0)));
    // Merging two half tallies equals the whole.
    let mut a = EncryptedTally::new(&f.ctx);
    let mut b = EncryptedTally::new(&f.ctx);
    for (i, (_, v)) in verified.iter().enumerate().skip(2) {
        if i % 2 == 0 { a.add(v).unwrap() } else { b.add(v).unwrap() }
    }
    a.merge(&b).unwrap();
    assert_eq!(a.totals().unwrap(), totals);
    // Shards kept as totals between casts: resumed, fed stored ballots, merged — the same sums.
    let mut shards = [EncryptedTally::new(&f.ctx).totals().unwrap(), EncryptedTally::new(&f.ctx).totals().unwrap()];
    for (i, (_, v)) in verified.iter().enumerate() {
        let s = &mut shards[i % 2];
        let mut t = EncryptedTally::from_totals(&f.ctx, s).unwrap();
        t.add_stored(v.ballot()).unwrap();
        *s = t.totals().unwrap();
    }
    let mut t = EncryptedTally::from_totals(&f.ctx, &shards[1]).unwrap();
    for (_, v) in verified.iter().take(2) {
        t.subtract_stored(v.ballot()).unwrap();
    }
    let mut sum = EncryptedTally::from_totals(&f.ctx, &shards[0]).unwrap();
    sum.merge(&t).unwrap();
    assert_eq!(sum.totals().unwrap(), totals);
    // Totals of another shape are refused, and so is a ballot naming a contest not in the manifest.
    let mut wrong = totals.clone();
    wrong[0].totals.pop();
    assert!(EncryptedTally::from_totals(&f.ctx, &wrong).is_err());
    assert!(EncryptedTally::from_totals(&f.ctx, &totals[..1]).is_err());
    let mut alien = verified[0].1.ballot().clone();
    alien.contests[0].contest_id = "nowhere".into();
    assert!(sum.add_stored(&alien).is_err());
}

mod package_and_receipt {
    use super::*;
    use dobush_crypto::board::{BoardKey, MerkleLog, TreeHead};
    use dobush_crypto::context::{KeyHolderIdentity, base_hash};
    use dobush_crypto::parameters::{Parameters, ReVotePolicy, parameters_hash};
    use dobush_crypto::record::{
        BoardEntry, ElectionPackage, HexHash, PublishedKeyHolder, RECORD_VERSION, Receipt, RecordError,
    };
    use dobush_crypto::signature::SigningKey;

    fn package(rng: &mut ChaCha20Rng, board: &BoardKey) -> (ElectionPackage, ElectionContext) {
        let holders: Vec<PublishedKeyHolder> = (1..=5)
            .map(|i| PublishedKeyHolder {
                index: i,
                signing_key: SigningKey::generate(rng).verifying_key().0,
                comm_key: SigningKey::generate(rng).verifying_key().0,
            })
            .collect();
        let keys: Vec<KeyHolderIdentity> =
            holders.iter().map(|h| KeyHolderIdentity { signing_key: h.signing_key, comm_key: h.comm_key }).collect();
        let m = manifest();
        let base = base_hash(&m.campaign_id, 3, &keys);
        let pk = SecretKey::generate(rng).public_key();
        let members: Vec<ed25519_dalek::SigningKey> =
            (0..3).map(|_| ed25519_dalek::SigningKey::generate(rng)).collect();
        let commission =
            dobush_crypto::commission::commission_of(&[("A", &members[0]), ("B", &members[1]), ("C", &members[2])]);
        let parameters = Parameters::with_policy(ReVotePolicy::LastCounts);
        let ctx =
            ElectionContext::new(base, pk, m.clone(), commission.hash(), parameters_hash(&board.public(), &parameters))
                .unwrap();
        let p = ElectionPackage {
            version: RECORD_VERSION.into(),
            manifest: m,
            threshold: 3,
            key_holders: holders,
            joint_key: pk,
            base_hash: base,
            extended_hash: *ctx.extended_hash(),
            board_key: board.public(),
            commission,
            parameters,
        };
        (p, ctx)
    }

    #[test]
    fn package_hashes_are_recomputed() {
        let mut rng = ChaCha20Rng::seed_from_u64(20);
        let board = BoardKey::generate(&mut rng);
        let (p, ctx) = package(&mut rng, &board);
        assert_eq!(p.context().unwrap().extended_hash(), ctx.extended_hash());
        let mut bad = p.clone();
        bad.threshold = 2;
        assert_eq!(bad.context().unwrap_err(), RecordError::HashMismatch("base hash"));
        let mut bad = p.clone();
        bad.manifest.contests[0].options.swap(0, 1);
        assert_eq!(bad.context().unwrap_err(), RecordError::HashMismatch("extended hash"));
        let mut bad = p.clone();
        bad.joint_key = SecretKey::generate(&mut rng).public_key();
        assert!(bad.context().is_err());
        // the pinned commission is under the extended hash: a swapped member, a renamed one, a
        // lowered quorum all change it (14-commission.md §Binding)
        let mut bad = p.clone();
        bad.commission.members[1].identity = dobush_crypto::commission::SigningIdentity::Ed25519 {
            key: ed25519_dalek::SigningKey::generate(&mut rng).verifying_key().to_bytes(),
        };
        assert_eq!(bad.context().unwrap_err(), RecordError::HashMismatch("extended hash"));
        let mut bad = p.clone();
        bad.commission.members[2].name = "Mallory".into();
        assert_eq!(bad.context().unwrap_err(), RecordError::HashMismatch("extended hash"));
        let mut bad = p.clone();
        bad.commission.quorum.protocol = 3;
        assert_eq!(bad.context().unwrap_err(), RecordError::HashMismatch("extended hash"));
        // so are the re-vote rule and the board key (02-transcripts.md §Parameters hash)
        let mut bad = p.clone();
        bad.parameters.re_vote.policy = ReVotePolicy::Forbidden;
        assert_eq!(bad.context().unwrap_err(), RecordError::HashMismatch("extended hash"));
        let mut bad = p.clone();
        bad.board_key = BoardKey::generate(&mut rng).public();
        assert_eq!(bad.context().unwrap_err(), RecordError::HashMismatch("extended hash"));
        // and a section breaking its rules is refused before any hash (quorum not a majority)
        let mut bad = p.clone();
        bad.commission.quorum.replacement = 1;
        assert!(matches!(bad.context(), Err(RecordError::Decode(_))));
        let mut bad = p;
        bad.version = "dobush-record/1".into(); // dropped, not read beside v2
        assert!(matches!(bad.context(), Err(RecordError::Version(_))));
    }

    #[test]
    fn entries_appended_as_serialised_lines_make_the_same_board() {
        let mut rng = ChaCha20Rng::seed_from_u64(22);
        let board_key = BoardKey::generate(&mut rng);
        let (p, ctx) = package(&mut rng, &board_key);
        let (mut by_entry, mut by_line) = (dobush_crypto::record::Board::new(), dobush_crypto::record::Board::new());
        let mut codes = Vec::new();
        for i in 0..5 {
            let cred = Credential::generate(&mut rng).unwrap();
            let (b, _) = encrypt_ballot(&ctx, cred.signing_key(), &style1(i), &mut rng).unwrap();
            let v = verify_ballot(&ctx, b, &mut rng).unwrap();
            let entry = BoardEntry::Ballot { ballot: v.ballot().clone(), tracking_code: *v.tracking_code() };
            let (a, _) = by_entry.append(&entry).unwrap();
            let (l, line) = by_line.append_line(String::from_utf8(entry.to_bytes().unwrap()).unwrap());
            assert_eq!((a, line), (l, by_entry.lines()[a as usize].as_str()));
            codes.push(*v.tracking_code());
        }
        assert_eq!(by_entry.log().root(), by_line.log().root());
        let head = by_line.sign_head(&board_key, p.base_hash, 1, None);
        for (i, code) in codes.into_iter().enumerate() {
            by_line.receipt(i as u64, code, head).unwrap().verify(&p).unwrap();
        }
    }

    #[test]
    fn receipts_verify_and_tampering_is_caught() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let board = BoardKey::generate(&mut rng);
        let (p, ctx) = package(&mut rng, &board);
        let mut log = MerkleLog::new();
        let mut receipts_for = Vec::new();
        for i in 0..9 {
            let cred = Credential::generate(&mut rng).unwrap();
            let (b, _) = encrypt_ballot(&ctx, cred.signing_key(), &style1(i), &mut rng).unwrap();
            let v = verify_ballot(&ctx, b, &mut rng).unwrap();
            let entry = BoardEntry::Ballot { ballot: v.ballot().clone(), tracking_code: *v.tracking_code() };
            let bytes = entry.to_bytes().unwrap();
            let index = log.push(&bytes);
            receipts_for.push((index, *v.tracking_code(), String::from_utf8(bytes).unwrap()));
        }
        let sth = board.sign(TreeHead {
            context: p.base_hash,
            size: log.size(),
            root: log.root(),
            timestamp_ms: 1,
            previous: TreeHead::genesis(&p.base_hash),
        });
        let receipt = |k: usize| {
            let (index, tc, entry) = receipts_for[k].clone();
            Receipt {
                tracking_code: tc,
                index,
                entry,
                tree_head: sth,
                inclusion_proof: log.inclusion_proof(index, log.size()).unwrap().into_iter().map(HexHash).collect(),
            }
        };
        for k in 0..9 {
            receipt(k).verify(&p).unwrap();
        }
        let mut r = receipt(4);
        r.index = 5;
        assert!(r.verify(&p).is_err(), "wrong position");
        let mut r = receipt(4);
        r.tracking_code = receipt(3).tracking_code;
        assert!(r.verify(&p).is_err(), "another ballot's code");
        let mut r = receipt(4);
        r.entry = r.entry.replacen("\"style\"", "\"style\" ", 1);
        assert!(r.verify(&p).is_err(), "entry bytes changed");
        let mut r = receipt(4);
        r.tree_head.head.root[0] ^= 1;
        assert!(r.verify(&p).is_err(), "forged head");
        let mut r = receipt(4);
        r.inclusion_proof.pop();
        assert!(r.verify(&p).is_err(), "short proof");
        let mut other = p.clone();
        other.board_key = BoardKey::generate(&mut rng).public();
        assert!(receipt(4).verify(&other).is_err(), "another board key");
    }

    /// A receipt's entry must be of the package's format (review 19-cast-v2 F9): a `ballot`
    /// entry verifies only against a v1 package, a `ballot_v2` entry only against a v2 one.
    #[test]
    fn a_receipt_of_the_other_ballot_format_is_refused() {
        use dobush_crypto::ballot_v2::ballot::{encrypt_ballot_v2, tracking_code_v2};
        use dobush_crypto::parameters::BallotV2Parameters;
        let mut rng = ChaCha20Rng::seed_from_u64(23);
        let board_key = BoardKey::generate(&mut rng);
        let (v1, ctx) = package(&mut rng, &board_key);
        let mut v2 = v1.clone();
        v2.parameters.ballot_v2 =
            Some(BallotV2Parameters { cast_verifier_key: Credential::generate(&mut rng).unwrap().public().0 });
        let mut board = dobush_crypto::record::Board::new();
        let cred = Credential::generate(&mut rng).unwrap();
        let (b, _) = encrypt_ballot(&ctx, cred.signing_key(), &style1(1), &mut rng).unwrap();
        let v = verify_ballot(&ctx, b, &mut rng).unwrap();
        let (i1, _) = board
            .append(&BoardEntry::Ballot { ballot: v.ballot().clone(), tracking_code: *v.tracking_code() })
            .unwrap();
        let (b2, _) = encrypt_ballot_v2(&ctx, cred.signing_key(), &style1(2), &mut rng).unwrap();
        let code2 = tracking_code_v2(&ctx, &b2);
        let (i2, _) = board.append(&BoardEntry::BallotV2 { ballot: b2, tracking_code: code2 }).unwrap();
        let head = board.sign_head(&board_key, v1.base_hash, 1, None);
        let r1 = board.receipt(i1, *v.tracking_code(), head).unwrap();
        let r2 = board.receipt(i2, code2, head).unwrap();
        // each verifies against its own format's package …
        r1.verify(&v1).unwrap();
        r2.verify(&v2).unwrap();
        // … and neither against the other's
        assert_eq!(
            r1.verify(&v2).unwrap_err(),
            RecordError::Receipt("a v1 ballot entry on a v2 campaign's board".into())
        );
        assert_eq!(
            r2.verify(&v1).unwrap_err(),
            RecordError::Receipt("a v2 ballot entry on a v1 campaign's board".into())
        );
    }
}

mod election_protocol {
    use super::*;
    use dobush_crypto::election_protocol::{ElectionProtocol, MemberSignature, ProtocolBody, Turnout};
    use dobush_crypto::tally::ContestResult;

    fn body() -> ProtocolBody {
        let m = manifest();
        // district-1: 7 options + against all + blank; 20 ballots, 2 blank, 1 against all.
        let results = vec![
            ContestResult { contest_id: "district-1".into(), ballots: 20, counts: vec![5, 4, 3, 2, 1, 1, 1, 1, 2] },
            ContestResult { contest_id: "district-2".into(), ballots: 0, counts: vec![0; 7] },
            ContestResult { contest_id: "question-1".into(), ballots: 20, counts: vec![12, 8, 0] },
            ContestResult { contest_id: "question-2".into(), ballots: 20, counts: vec![10, 5, 5] },
            ContestResult { contest_id: "council".into(), ballots: 0, counts: vec![0; 30] },
        ];
        let turnout = Turnout { e_voters: 30, issued: 24, counted: 20, superseded: 3, challenged: 2 };
        ProtocolBody::draw_up(&m, "7001", [1; 32], [2; 32], [3; 32], turnout, &results, 1_681_063_200_000)
    }

    #[test]
    fn lines_are_drawn_up_and_control_relations_hold() {
        let b = body();
        b.check_control_relations(&manifest()).unwrap();
        let d1 = &b.contests[0].lines;
        assert_eq!(d1.iter().find(|l| l.key == "valid").unwrap().value, 18);
        assert_eq!(d1.iter().find(|l| l.key == "invalid").unwrap().value, 2);
        assert_eq!(d1.iter().find(|l| l.key == "against_all").unwrap().value, 1);
        assert_eq!(d1.iter().filter(|l| l.key.starts_with("option:")).count(), 7);
    }

    #[test]
    fn a_broken_control_relation_is_refused_with_its_line() {
        let m = manifest();
        let mut b = body();
        b.general[2].value = 25; // counted > issued
        let e = b.check_control_relations(&m).unwrap_err();
        assert_eq!(e.line, "3");
        let mut b = body();
        b.contests[0].lines[3].value += 1; // a candidate's votes changed
        let e = b.check_control_relations(&m).unwrap_err();
        assert_eq!(e.line, "6.2", "{e}");
        let mut b = body();
        b.contests[3].lines[2].value = 1; // a blank where none is allowed
        b.contests[3].lines[1].value = 19;
        assert!(b.check_control_relations(&m).is_err());
    }

    #[test]
    fn values_whose_sums_wrap_are_refused_not_wrapped() {
        // found by the fuzz smoke run (fuzz/regressions/verifier/protocol-sum-overflow): a
        // published body's values are input; a wrapping sum must neither panic nor pass
        let m = manifest();
        let mut b = body();
        let valid = b.contests[0].lines.iter().position(|l| l.key == "valid").unwrap();
        let invalid = b.contests[0].lines.iter().position(|l| l.key == "invalid").unwrap();
        b.contests[0].lines[valid].value = u64::MAX;
        b.contests[0].lines[invalid].value = 21; // u64::MAX + 21 wraps to 20 = ballots
        assert!(b.check_control_relations(&m).is_err());
        let mut b = body();
        let option = b.contests[0].lines.iter().position(|l| l.key.starts_with("option:")).unwrap();
        b.contests[0].lines[option].value = u64::MAX;
        let e = b.check_control_relations(&m).unwrap_err();
        assert!(e.to_string().contains("64 bits"), "{e}");
    }

    #[test]
    fn members_sign_and_a_changed_line_breaks_every_signature() {
        let mut rng = ChaCha20Rng::seed_from_u64(30);
        let keys: Vec<ed25519_dalek::SigningKey> =
            (0..3).map(|_| ed25519_dalek::SigningKey::generate(&mut rng)).collect();
        let b = body();
        let p = ElectionProtocol {
            signatures: keys
                .iter()
                .enumerate()
                .map(|(i, k)| ElectionProtocol::sign(&b, &format!("member {i}"), k))
                .collect(),
            body: b,
        };
        p.verify_signatures().unwrap();
        let mut forged = p.clone();
        forged.body.contests[0].lines[4].value += 1;
        assert!(forged.verify_signatures().is_err());
        let mut forged = p;
        forged.signatures[1].signature[3] ^= 1;
        assert!(forged.verify_signatures().is_err());
    }

    #[test]
    fn the_commission_signs_the_credential_list_and_any_change_is_refused() {
        use dobush_crypto::commission::{CommissionError as E, commission_of};
        use dobush_crypto::record::{BoardEntry, ListedCredential, check_credential_list_signatures};
        let mut rng = ChaCha20Rng::seed_from_u64(31);
        let credentials: Vec<ListedCredential> = (0..3)
            .map(|_| ListedCredential {
                credential: Credential::generate(&mut rng).unwrap().public(),
                style: "main".into(),
            })
            .collect();
        let entry = BoardEntry::CredentialList { credentials, count: 3, revoked: vec![] }.to_bytes().unwrap();
        let keys: Vec<ed25519_dalek::SigningKey> =
            (0..3).map(|_| ed25519_dalek::SigningKey::generate(&mut rng)).collect();
        let c = commission_of(&[("member 0", &keys[0]), ("member 1", &keys[1]), ("member 2", &keys[2])]);
        let check_credential_list_signatures =
            |id: &str, e: &[u8], s: &[MemberSignature]| check_credential_list_signatures(&c, id, e, s);
        let digest = dobush_crypto::record::credential_list_digest("c1", &entry);
        let sigs: Vec<MemberSignature> = keys[..2]
            .iter()
            .enumerate()
            .map(|(i, k)| MemberSignature::sign_digest(&digest, &format!("member {i}"), k))
            .collect();
        check_credential_list_signatures("c1", &entry, &sigs).unwrap();
        // another campaign, one changed byte of the list, a changed signature, a missing or repeated signer
        assert!(matches!(check_credential_list_signatures("c2", &entry, &sigs), Err(E::Signature(_))));
        let mut changed = entry.clone();
        let last = changed.len() - 2;
        changed[last] ^= 1;
        assert!(matches!(check_credential_list_signatures("c1", &changed, &sigs), Err(E::Signature(_))));
        let mut bad = sigs.clone();
        bad[0].signature[0] ^= 1;
        assert!(matches!(check_credential_list_signatures("c1", &entry, &bad), Err(E::Signature(_))));
        assert!(matches!(check_credential_list_signatures("c1", &entry, &[]), Err(E::QuorumNotReached { .. })));
        assert!(matches!(check_credential_list_signatures("c1", &entry, &sigs[..1]), Err(E::QuorumNotReached { .. })));
        let outsider = ed25519_dalek::SigningKey::generate(&mut rng);
        let forged = vec![sigs[0].clone(), MemberSignature::sign_digest(&digest, "member 1", &outsider)];
        assert!(matches!(check_credential_list_signatures("c1", &entry, &forged), Err(E::NotAMember(_))));
        let twice = vec![sigs[0].clone(), sigs[0].clone()];
        assert!(matches!(check_credential_list_signatures("c1", &entry, &twice), Err(E::Duplicate(_))));
        // a list signature is not a protocol signature (different digest domains)
        assert_ne!(digest, body().digest());
    }

    #[test]
    fn a_replacement_is_signed_by_a_quorum_of_pinned_members_and_any_change_is_refused() {
        use dobush_crypto::commission::{CommissionError as E, commission_of};
        use dobush_crypto::record::{
            BoardEntry, check_replacement_signatures, credential_list_digest, credential_replacement_digest,
            sign_credential_replacement,
        };
        let mut rng = ChaCha20Rng::seed_from_u64(33);
        let old = Credential::generate(&mut rng).unwrap().public();
        let new = Credential::generate(&mut rng).unwrap().public();
        let keys: Vec<ed25519_dalek::SigningKey> =
            (0..3).map(|_| ed25519_dalek::SigningKey::generate(&mut rng)).collect();
        // members 0, 1 and 2 are pinned; an outsider is not
        let c = commission_of(&[("member 0", &keys[0]), ("member 1", &keys[1]), ("member 2", &keys[2])]);
        let outsider_key = ed25519_dalek::SigningKey::generate(&mut rng);
        let fields = (old, new, "main", "TEC Batken No. 12/3");
        let entry = sign_credential_replacement("c1", fields, &[("member 0", &keys[0]), ("member 1", &keys[1])]);
        let BoardEntry::CredentialReplaced { signatures: sigs, .. } = &entry else { panic!("not a replacement") };
        let check = |campaign: &str, f: (&_, &_, &str, &str), s: &[MemberSignature]| {
            check_replacement_signatures(&c, campaign, f, s)
        };
        check("c1", (&old, &new, "main", "TEC Batken No. 12/3"), sigs).unwrap();
        // every field is bound: campaign, old, new, style, decision
        let sig_err = |r: Result<(), E>| matches!(r, Err(E::Signature(_)));
        assert!(sig_err(check("c2", (&old, &new, "main", "TEC Batken No. 12/3"), sigs)));
        assert!(sig_err(check("c1", (&new, &old, "main", "TEC Batken No. 12/3"), sigs)));
        assert!(sig_err(check("c1", (&old, &old, "main", "TEC Batken No. 12/3"), sigs)));
        assert!(sig_err(check("c1", (&old, &new, "other", "TEC Batken No. 12/3"), sigs)));
        assert!(sig_err(check("c1", (&old, &new, "main", "TEC Batken No. 12/4"), sigs)));
        // the length prefixes keep style and decision apart
        assert_ne!(
            credential_replacement_digest("c1", &old, &new, "ab", "c"),
            credential_replacement_digest("c1", &old, &new, "a", "bc")
        );
        // an altered signature, none, one signer twice, a signer who did not sign the list
        let mut bad = sigs.clone();
        bad[1].signature[5] ^= 1;
        assert!(sig_err(check("c1", (&old, &new, "main", "TEC Batken No. 12/3"), &bad)));
        assert!(matches!(
            check("c1", (&old, &new, "main", "TEC Batken No. 12/3"), &[]),
            Err(E::QuorumNotReached { .. })
        ));
        assert!(matches!(
            check("c1", (&old, &new, "main", "TEC Batken No. 12/3"), &sigs[..1]),
            Err(E::QuorumNotReached { .. })
        ));
        let twice = vec![sigs[0].clone(), sigs[0].clone()];
        assert!(matches!(check("c1", (&old, &new, "main", "TEC Batken No. 12/3"), &twice), Err(E::Duplicate(_))));
        let outsider =
            sign_credential_replacement("c1", fields, &[("member 0", &keys[0]), ("member 2", &outsider_key)]);
        let BoardEntry::CredentialReplaced { signatures: outsider, .. } = &outsider else {
            panic!("not a replacement")
        };
        assert!(matches!(check("c1", (&old, &new, "main", "TEC Batken No. 12/3"), outsider), Err(E::NotAMember(_))));
        // a replacement signature is neither a list nor a protocol signature (digest domains)
        let digest = credential_replacement_digest("c1", &old, &new, "main", "TEC Batken No. 12/3");
        assert_ne!(digest, body().digest());
        assert_ne!(digest, credential_list_digest("c1", &entry.to_bytes().unwrap()));
    }

    #[test]
    fn a_credential_list_has_one_canonical_form() {
        use dobush_crypto::record::{BoardEntry, CredentialListError, ListedCredential, check_credential_list};
        let mut rng = ChaCha20Rng::seed_from_u64(32);
        let mut keys: Vec<_> = (0..5).map(|_| Credential::generate(&mut rng).unwrap().public()).collect();
        keys.sort_by_key(|k| *k.0.as_bytes());
        let listed: Vec<ListedCredential> =
            keys[..3].iter().map(|k| ListedCredential { credential: *k, style: "main".into() }).collect();
        let revoked = keys[3..].to_vec();
        check_credential_list(&listed, 3, &revoked).unwrap();
        check_credential_list(&listed, 3, &[]).unwrap();
        assert_eq!(
            check_credential_list(&listed, 4, &revoked),
            Err(CredentialListError::Miscounted { count: 4, held: 3 })
        );
        let mut unsorted = listed.clone();
        unsorted.swap(0, 2);
        assert!(matches!(check_credential_list(&unsorted, 3, &revoked), Err(CredentialListError::Unsorted(_))));
        let twice = vec![listed[0].clone(), listed[0].clone()];
        assert!(matches!(check_credential_list(&twice, 2, &[]), Err(CredentialListError::Unsorted(1))));
        let backwards = vec![revoked[1], revoked[0]];
        assert!(matches!(check_credential_list(&listed, 3, &backwards), Err(CredentialListError::RevokedUnsorted(1))));
        assert!(matches!(check_credential_list(&listed, 3, &[keys[1]]), Err(CredentialListError::RevokedListed(_))));
        // no revocations: the field is left out, so that old and new lists have one spelling
        let entry = BoardEntry::CredentialList { credentials: listed.clone(), count: 3, revoked: vec![] };
        assert!(!String::from_utf8(entry.to_bytes().unwrap()).unwrap().contains("revoked"));
        let entry = BoardEntry::CredentialList { credentials: listed, count: 3, revoked };
        let text = String::from_utf8(entry.to_bytes().unwrap()).unwrap();
        assert!(text.contains("\"revoked\":["), "{text}");
        assert_eq!(serde_json::from_str::<BoardEntry>(&text).unwrap(), entry);
    }
}

#[test]
fn tracking_code_of_equals_the_verified_code() {
    let mut rng = ChaCha20Rng::seed_from_u64(40);
    let f = fixture(&mut rng);
    let cred = Credential::generate(&mut rng).unwrap();
    let (b, _) = encrypt_ballot(&f.ctx, cred.signing_key(), &style1(2), &mut rng).unwrap();
    let code = dobush_crypto::ballot::tracking_code_of(&f.ctx, &b);
    assert_eq!(*verify_ballot(&f.ctx, b, &mut rng).unwrap().tracking_code(), code);
    assert_eq!(code.short().len(), 19);
}
