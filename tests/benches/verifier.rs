//! Verifier throughput on a large record (printed, never asserted):
//! `DOBUSH_BENCH_BALLOTS=100000 cargo bench -p dobush-tests --bench verifier`.
//! One contest with 5 options and one mark; ballots are made with `dobush-crypto` on all cores,
//! then the independent verifier checks the whole record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use dobush_crypto::ballot::{PlaintextBallot, PlaintextContest, encrypt_ballot, verify_ballot};
use dobush_crypto::board::BoardKey;
use dobush_crypto::context::{ElectionContext, KeyHolderIdentity, base_hash};
use dobush_crypto::credential::Credential;
use dobush_crypto::elgamal::SecretKey;
use dobush_crypto::parameters::{Parameters, ReVotePolicy, parameters_hash};
use dobush_crypto::record::{
    Board, BoardEntry, ElectionPackage, ElectionRecord, ListedCredential, PublishedKeyHolder, RECORD_VERSION,
};
use dobush_crypto::signature::SigningKey;
use dobush_crypto::tally::EncryptedTally;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn main() {
    let n: usize = std::env::var("DOBUSH_BENCH_BALLOTS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let manifest = dobush_crypto::testing::one_contest_manifest("bench", 5);

    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let holders: Vec<PublishedKeyHolder> = (1..=5)
        .map(|i| PublishedKeyHolder {
            index: i,
            signing_key: SigningKey::generate(&mut rng).verifying_key().0,
            comm_key: SigningKey::generate(&mut rng).verifying_key().0,
        })
        .collect();
    let keys: Vec<KeyHolderIdentity> =
        holders.iter().map(|h| KeyHolderIdentity { signing_key: h.signing_key, comm_key: h.comm_key }).collect();
    let base = base_hash("bench", 3, &keys);
    let sk = SecretKey::generate(&mut rng);
    let members: Vec<ed25519_dalek::SigningKey> =
        (0..3).map(|_| ed25519_dalek::SigningKey::generate(&mut rng)).collect();
    let commission =
        dobush_crypto::commission::commission_of(&[("A", &members[0]), ("B", &members[1]), ("C", &members[2])]);
    let board_key = BoardKey::generate(&mut rng);
    let parameters = Parameters::with_policy(ReVotePolicy::Forbidden);
    let ctx = ElectionContext::new(
        base,
        sk.public_key(),
        manifest.clone(),
        commission.hash(),
        parameters_hash(&board_key.public(), &parameters),
    )
    .unwrap();

    let t = Instant::now();
    let threads = std::thread::available_parallelism().map(|x| x.get()).unwrap_or(2);
    let made: Vec<(Credential, dobush_crypto::ballot::VerifiedBallot)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|k| {
                let ctx = &ctx;
                s.spawn(move || {
                    let mut rng = ChaCha20Rng::seed_from_u64(100 + k as u64);
                    (k..n)
                        .step_by(threads)
                        .map(|i| {
                            let c = Credential::generate(&mut rng).unwrap();
                            let p = PlaintextBallot {
                                style: "s".into(),
                                contests: vec![PlaintextContest {
                                    contest_id: "c".into(),
                                    selections: (0..5).map(|j| u8::from(j == i % 5)).collect(),
                                }],
                            };
                            let (b, _) = encrypt_ballot(ctx, c.signing_key(), &p, &mut rng).unwrap();
                            (c, verify_ballot(ctx, b, &mut rng).unwrap())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    println!("made {n} ballots in {:.1} s ({threads} threads)", t.elapsed().as_secs_f64());

    let mut listed: Vec<ListedCredential> =
        made.iter().map(|(c, _)| ListedCredential { credential: c.public(), style: "s".into() }).collect();
    listed.sort_by_key(|l| *l.credential.0.as_bytes());
    let mut board = Board::new();
    board.append(&BoardEntry::CredentialList { credentials: listed, count: n as u64, revoked: vec![] }).unwrap();
    let member = ed25519_dalek::SigningKey::generate(&mut ChaCha20Rng::seed_from_u64(2));
    let list = board.lines()[0].clone();
    board
        .append(&dobush_crypto::record::sign_credential_list("bench", list.as_bytes(), &[("member 1", &member)]))
        .unwrap();
    let zero = board.sign_head(&board_key, base, 1, None);
    board.append(&BoardEntry::Opened { timestamp_ms: 1 }).unwrap();
    let mut tally = EncryptedTally::new(&ctx);
    for (_, v) in &made {
        board.append(&BoardEntry::Ballot { ballot: v.ballot().clone(), tracking_code: *v.tracking_code() }).unwrap();
        tally.add(v).unwrap();
    }
    board.append(&BoardEntry::Closed { timestamp_ms: 2 }).unwrap();
    let last = board.sign_head(&board_key, base, 2, Some(&zero.head));
    let record = ElectionRecord {
        version: RECORD_VERSION.into(),
        package: ElectionPackage {
            version: RECORD_VERSION.into(),
            manifest,
            threshold: 3,
            key_holders: holders,
            joint_key: sk.public_key(),
            base_hash: base,
            extended_hash: *ctx.extended_hash(),
            board_key: board_key.public(),
            commission,
            parameters,
        },
        tree_heads: vec![zero, last],
        encrypted_totals: tally.totals().unwrap(),
        ceremony: Default::default(),
        decryption_shares: vec![],
        results: vec![],
        protocol: None,
    };
    let json = serde_json::to_string(&record).unwrap();
    let jsonl = board.to_jsonl();
    println!("record: {:.1} MB board, {} entries", jsonl.len() as f64 / 1e6, board.size());

    let t = Instant::now();
    let report = dobush_verifier::record::verify(&json, jsonl.as_bytes(), &dobush_verifier::record::Options::default());
    let secs = t.elapsed().as_secs_f64();
    // This synthetic record has no key ceremony, decryption or protocol (the key is one
    // SecretKey): those three checks fail by construction; every other check must pass.
    let absent = ["protocol", "ceremony", "decryption"];
    for c in &report.checks {
        let verdict = match (c.passed, absent.contains(&c.name)) {
            (true, _) => "",
            (false, true) => "fails: not in this synthetic record",
            (false, false) => "FAILED",
        };
        println!("  {:<12} {:>8} ms {verdict}", c.name, c.millis);
    }
    let unexpected: Vec<&str> =
        report.checks.iter().filter(|c| !c.passed && !absent.contains(&c.name)).map(|c| c.name).collect();
    assert!(unexpected.is_empty(), "the record must verify apart from {absent:?}: {unexpected:?}\n{}", report.text());
    println!(
        "verifier: {n} ballots in {secs:.2} s = {:.0} ballots/s; a 1,000,000-ballot record would take ≈ {:.1} min",
        n as f64 / secs,
        1e6 / (n as f64 / secs) / 60.0
    );
}
