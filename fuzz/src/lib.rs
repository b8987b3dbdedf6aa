//! The fuzz targets as plain functions (`docs/fuzzing.md`), and a small mutator and
//! runner so that they also run on stable Rust.
//!
//! | target | input | what runs |
//! | --- | --- | --- |
//! | [`ballot`] | bytes | JSON → `EncryptedBallot`, round trip, tracking code, body hash, `verify_ballot`, `verify_ballots`, a challenged ballot's opening |
//! | [`record`] | bytes | `BoardEntry`, `ElectionPackage`, `ElectionRecord`, package + receipt lines, the lines as a board, the re-vote rule |
//! | [`verifier`] | `record.json` NUL `board.jsonl` [NUL receipt] | the independent verifier's parsers and checks |
//! | [`api_bodies`] | bytes | every JSON request body of the server and the register import (feature `api`) |
//!
//! The property everywhere: no panic, no hang, no unbounded allocation; round trips give back
//! what was decoded. A panic is the fuzzer's finding, so the targets themselves assert.
//!
//! * cargo-fuzz (libFuzzer, coverage-guided; on stable with `RUSTC_BOOTSTRAP=1`):
//!   `fuzz/libfuzzer/`, one entry point per target calling the function here.
//! * stable: [`run`] feeds a target its seeds, then mutated seeds ([`mutate`]: byte edits and
//!   JSON-aware edits that keep the input parseable so that it reaches the checks behind the
//!   parsers), each under `catch_unwind`, within a fixed budget of inputs and time; the binary
//!   `fuzz_smoke` does so for every target (`scripts/test.sh`).
// Fuzz targets report findings by panicking; the runner turns a panic into a saved input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dobush_crypto::ballot::{BallotOpening, EncryptedBallot, verify_ballot, verify_ballots, verify_challenged_ballot};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::parameters::ReVotePolicy;
use dobush_crypto::record::{Board, BoardEntry, ElectionPackage, ElectionRecord, Receipt, counted_ballots};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn pilot_context() -> &'static ElectionContext {
    static CTX: OnceLock<ElectionContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let v: Value = serde_json::from_str(include_str!("../../vectors/ballots-pilot.json")).unwrap();
        let e = &v["election"];
        let base: [u8; 32] = hex::decode(e["base_hash"].as_str().unwrap()).unwrap().try_into().unwrap();
        ElectionContext::new(
            base,
            serde_json::from_value(e["joint_key"].clone()).unwrap(),
            serde_json::from_value(e["manifest"].clone()).unwrap(),
            serde_json::from_value::<dobush_crypto::commission::Commission>(e["commission"].clone()).unwrap().hash(),
            hex::decode(e["parameters_hash"].as_str().unwrap()).unwrap().try_into().unwrap(),
        )
        .unwrap()
    })
}

/// Ballot decoding and verification (`dobush_crypto::ballot`): any bytes that decode as an
/// `EncryptedBallot` are verified against the pilot election of `vectors/ballots-pilot.json`
/// (alone and in a batch of two), and a verified ballot's opening is checked. A decoded ballot
/// re-encodes to JSON that decodes to the same ballot.
pub fn ballot(data: &[u8]) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let ctx = pilot_context();
    let opening: Option<BallotOpening> = serde_json::from_slice(data).ok();
    let Ok(ballot) = serde_json::from_slice::<EncryptedBallot>(data) else { return };
    let again: EncryptedBallot = serde_json::from_slice(&serde_json::to_vec(&ballot).unwrap()).unwrap();
    assert_eq!(again, ballot, "JSON round trip changed the ballot");
    let _ = dobush_crypto::ballot::tracking_code_of(ctx, &ballot);
    let _ = dobush_crypto::ballot::body_hash(ctx, &ballot);
    let _ = verify_ballots(ctx, vec![ballot.clone(), ballot.clone()], &mut rng);
    if let Ok(verified) = verify_ballot(ctx, ballot, &mut rng)
        && let Some(o) = opening
    {
        let _ = verify_challenged_ballot(ctx, &verified, &o);
    }
}

/// Election-record and board-entry decoding (`dobush_crypto::record`): board entries, packages,
/// receipts and whole records. A decoded entry re-encodes to bytes that decode to the same
/// entry; a decoded package yields a context or an error; a receipt is checked against a package
/// on the line before it; the lines rebuild a board (inclusion and consistency proofs) and the
/// re-vote rule runs over its ballots.
pub fn record(data: &[u8]) {
    if let Ok(entry) = serde_json::from_slice::<BoardEntry>(data)
        && let Ok(bytes) = entry.to_bytes()
    {
        let again: BoardEntry = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(again, entry, "entry round trip");
    }
    if let Ok(package) = serde_json::from_slice::<ElectionPackage>(data) {
        let _ = package.context();
    }
    if let Ok(record) = serde_json::from_slice::<ElectionRecord>(data) {
        let _ = record.package.context();
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some((package, receipt)) = text.split_once('\n')
        && let (Ok(p), Ok(r)) =
            (serde_json::from_str::<ElectionPackage>(package), serde_json::from_str::<Receipt>(receipt))
    {
        let _ = r.verify(&p);
    }
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let board = Board::from_lines(lines);
    let size = board.size();
    for i in 0..size.min(8) {
        let _ = board.log().inclusion_proof(i, size);
        let _ = board.log().consistency_proof(i, size);
    }
    let ballots: Vec<_> = board
        .lines()
        .iter()
        .filter_map(|l| match serde_json::from_str(l) {
            Ok(BoardEntry::Ballot { ballot, tracking_code }) => Some((ballot.credential, tracking_code)),
            _ => None,
        })
        .collect();
    let _ = counted_ballots(ReVotePolicy::LastCounts, &ballots, &[]);
    let _ = counted_ballots(ReVotePolicy::Forbidden, &ballots, &[]);
}

/// The independent verifier (`dobush_verifier`): `record.json`, a NUL byte, `board.jsonl`, and
/// optionally a NUL byte and a receipt, through `record::verify` / `record::verify_receipt`; the
/// same bytes as one JSON value through its ballot, manifest and package parsers. Every defect
/// must be a reported failure.
pub fn verifier(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        let _ = dobush_verifier::ballot::parse(&v);
        let _ = dobush_verifier::manifest::parse(&v);
        let _ = dobush_verifier::load::package_context(&v);
    }
    let mut parts = data.splitn(3, |b| *b == 0);
    let Some(record) = parts.next().and_then(|r| std::str::from_utf8(r).ok()) else { return };
    let board = parts.next().unwrap_or_default();
    match parts.next().and_then(|r| std::str::from_utf8(r).ok()) {
        Some(receipt) => {
            let _ = dobush_verifier::record::verify_receipt(record, board, receipt);
        }
        None => {
            let _ = dobush_verifier::record::verify(record, board, &dobush_verifier::record::Options::default());
        }
    }
}

/// The server's JSON API bodies and the register import (`dobush_server::fuzzing`): decoded and
/// checked as the handlers do before they touch the database; every defect must be a 4xx.
#[cfg(feature = "api")]
pub fn api_bodies(data: &[u8]) {
    dobush_server::fuzzing::api_bodies(data);
}

/// A target: its name and function.
#[derive(Clone, Copy)]
pub struct Target {
    /// As in `fuzz/libfuzzer/fuzz_targets/<name>.rs` and the seed directories.
    pub name: &'static str,
    /// The function.
    pub run: fn(&[u8]),
}

/// Every target this build has (`api_bodies` with the feature `api`).
pub fn targets() -> Vec<Target> {
    #[allow(unused_mut)]
    let mut t = vec![
        Target { name: "ballot", run: ballot },
        Target { name: "record", run: record },
        Target { name: "verifier", run: verifier },
    ];
    #[cfg(feature = "api")]
    t.push(Target { name: "api_bodies", run: api_bodies });
    t
}

/// Values that tend to find edge cases in decoders: empty, non-hex, wrong lengths, the group's
/// identity and non-canonical encodings, huge and negative numbers.
const STRINGS: &[&str] = &[
    "",
    "00",
    "zz",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
    "\u{0}",
    "ä",
    "last_counts",
    "ballot",
    "closed",
];
const NUMBERS: &[i128] =
    &[0, 1, -1, 2, 255, 256, 65_535, 4_294_967_295, 4_294_967_296, i64::MAX as i128, u64::MAX as i128, -(1 << 63)];

fn number(n: i128) -> Value {
    if let Ok(u) = u64::try_from(n) {
        Value::from(u)
    } else if let Ok(i) = i64::try_from(n) {
        Value::from(i)
    } else {
        Value::from(n as f64)
    }
}

/// How many values a JSON tree holds (itself included).
fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

fn mutate_bytes(b: &mut Vec<u8>, rng: &mut ChaCha20Rng, donor: &[u8]) {
    if b.is_empty() {
        b.push(rng.r#gen());
        return;
    }
    let i = rng.gen_range(0..b.len());
    match rng.gen_range(0..7) {
        0 => b[i] ^= 1 << rng.gen_range(0..8),
        1 => b[i] = rng.r#gen(),
        2 => {
            let len = rng.gen_range(1..=16.min(b.len() - i));
            b.drain(i..i + len);
        }
        3 => {
            let extra: Vec<u8> =
                (0..rng.gen_range(1..8)).map(|_| b"{}[]\",:0123456789abcdef-e. \n\0"[rng.gen_range(0..29)]).collect();
            b.splice(i..i, extra);
        }
        4 => b.truncate(i),
        5 => {
            let len = rng.gen_range(1..=64.min(b.len() - i));
            let chunk = b[i..i + len].to_vec();
            b.splice(i..i, chunk);
        }
        _ => {
            if !donor.is_empty() {
                let j = rng.gen_range(0..donor.len());
                let len = rng.gen_range(1..=256.min(donor.len() - j));
                b.splice(i..i, donor[j..j + len].iter().copied());
            }
        }
    }
}

/// Removes, duplicates or swaps an element (array items, board lines).
fn edit_list<T: Clone>(a: &mut Vec<T>, rng: &mut ChaCha20Rng) {
    if a.is_empty() {
        return;
    }
    let i = rng.gen_range(0..a.len());
    match rng.gen_range(0..3) {
        0 => {
            a.remove(i);
        }
        1 => {
            let x = a[i].clone();
            a.insert(i, x);
        }
        _ => {
            let j = rng.gen_range(0..a.len());
            a.swap(i, j);
        }
    }
}

/// One mutated input made from `seed`: one to four edits, JSON-aware when a NUL-separated part
/// of the seed is JSON (so that most inputs still parse and reach the checks), byte edits
/// otherwise or with some probability.
pub fn mutate(seed: &[u8], donor: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
    let mut parts: Vec<Vec<u8>> = seed.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
    let donor_json: Option<Value> = donor.split(|b| *b == 0).find_map(|p| serde_json::from_slice(p).ok());
    for _ in 0..rng.gen_range(1..=4) {
        let p = rng.gen_range(0..parts.len());
        let json_lines = rng.gen_bool(0.8);
        let part = &mut parts[p];
        if json_lines && rng.gen_bool(0.5) && part.contains(&b'\n') {
            // a JSON-lines part (board.jsonl): edit one line as JSON, or drop/duplicate/swap lines
            let mut lines: Vec<Vec<u8>> = part.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let i = rng.gen_range(0..lines.len());
            if rng.gen_bool(0.25) {
                edit_list(&mut lines, rng);
            } else if let Ok(mut v) = serde_json::from_slice::<Value>(&lines[i]) {
                json_edit(&mut v, rng, donor_json.as_ref());
                lines[i] = serde_json::to_vec(&v).unwrap_or_default();
            }
            *part = lines.join(&b'\n');
        } else if json_lines {
            if let Ok(mut v) = serde_json::from_slice::<Value>(part) {
                json_edit(&mut v, rng, donor_json.as_ref());
                *part = serde_json::to_vec(&v).unwrap_or_default();
            } else {
                mutate_bytes(part, rng, donor);
            }
        } else {
            mutate_bytes(part, rng, donor);
        }
    }
    parts.join(&0u8)
}

fn json_edit(v: &mut Value, rng: &mut ChaCha20Rng, donor: Option<&Value>) {
    json_edit_at(v, rng.gen_range(0..count(v)), rng, donor);
}

/// Applies one JSON edit to the `k`-th value (pre-order) of `v`.
fn json_edit_at(v: &mut Value, k: usize, rng: &mut ChaCha20Rng, donor: Option<&Value>) -> usize {
    if k == 0 {
        edit_value(v, rng, donor);
        return usize::MAX;
    }
    let mut k = k - 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Object(o) => o.values_mut().collect(),
        _ => return k,
    };
    for c in children {
        k = json_edit_at(c, k, rng, donor);
        if k == usize::MAX {
            return k;
        }
    }
    k
}

fn pick(v: &Value, k: usize) -> Result<Value, usize> {
    if k == 0 {
        return Ok(v.clone());
    }
    let mut k = k - 1;
    let children: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => o.values().collect(),
        _ => return Err(k),
    };
    for c in children {
        match pick(c, k) {
            Ok(x) => return Ok(x),
            Err(rest) => k = rest,
        }
    }
    Err(k)
}

fn edit_value(target: &mut Value, rng: &mut ChaCha20Rng, donor: Option<&Value>) {
    match rng.gen_range(0..10) {
        0 => *target = Value::String(STRINGS[rng.gen_range(0..STRINGS.len())].into()),
        1 => *target = number(NUMBERS[rng.gen_range(0..NUMBERS.len())]),
        2 => {
            *target = [Value::Null, Value::Bool(true), Value::Array(vec![]), Value::Object(Default::default())]
                [rng.gen_range(0..4)]
            .clone()
        }
        3 => match target {
            Value::String(s) if !s.is_empty() => {
                let mut b = s.clone().into_bytes();
                let i = rng.gen_range(0..b.len());
                if rng.gen_bool(0.5) {
                    b[i] = b"0123456789abcdef"[rng.gen_range(0..16)];
                } else {
                    b.truncate(i);
                }
                *s = String::from_utf8_lossy(&b).into_owned();
            }
            Value::Number(_) => *target = number(NUMBERS[rng.gen_range(0..NUMBERS.len())]),
            _ => {}
        },
        4 | 5 => match target {
            Value::Array(a) => edit_list(a, rng),
            Value::Object(o) if !o.is_empty() => {
                let keys: Vec<String> = o.keys().cloned().collect();
                let key = &keys[rng.gen_range(0..keys.len())];
                if rng.gen_bool(0.5) {
                    o.remove(key);
                } else {
                    o.insert(format!("{key}_x"), Value::Null);
                }
            }
            _ => {}
        },
        6 => {
            // a value from another seed (splice): reaches cross-field checks
            if let Some(d) = donor
                && let Ok(x) = pick(d, rng.gen_range(0..count(d)))
            {
                *target = x;
            }
        }
        7 => {
            let inner = target.take();
            *target = Value::Array(vec![inner]);
        }
        _ => {
            // a sibling copied over (e.g. one proof's field into another's)
            if let Value::Object(o) = target {
                let vals: Vec<Value> = o.values().cloned().collect();
                if let (Some(key), false) = (o.keys().next().cloned(), vals.is_empty()) {
                    o.insert(key, vals[rng.gen_range(0..vals.len())].clone());
                }
            }
        }
    }
}

/// A run's bounds: whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Mutated inputs (after every seed once).
    pub inputs: u64,
    /// Wall-clock time.
    pub time: Duration,
}

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Inputs executed (seeds included).
    pub executed: u64,
    /// Seeds executed.
    pub seeds: u64,
    /// Inputs that panicked, saved under the artifacts directory (their paths).
    pub crashes: Vec<PathBuf>,
    /// Slowest input, milliseconds.
    pub slowest_ms: u128,
}

/// Runs `target` on every seed, then on mutated seeds until the budget is spent. An input that
/// panics is written to `artifacts/<target>/crash-<sha256 prefix>` and the run goes on.
pub fn run(target: Target, seeds: &[Vec<u8>], budget: Budget, rng_seed: u64, artifacts: &Path) -> Stats {
    let mut stats = Stats::default();
    let start = Instant::now();
    let mut rng = ChaCha20Rng::seed_from_u64(rng_seed);
    let exec = |input: &[u8], stats: &mut Stats| {
        let t = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
        stats.slowest_ms = stats.slowest_ms.max(t.elapsed().as_millis());
        stats.executed += 1;
        if outcome.is_err() {
            let name = format!("crash-{}", hex::encode(&Sha256::digest(input)[..8]));
            let dir = artifacts.join(target.name);
            let path = dir.join(name);
            if std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, input)).is_err() {
                eprintln!("could not save the crashing input to {}", path.display());
            }
            stats.crashes.push(path);
        }
    };
    for s in seeds {
        exec(s, &mut stats);
        stats.seeds += 1;
    }
    if seeds.is_empty() {
        return stats;
    }
    let mut made = 0;
    while made < budget.inputs && start.elapsed() < budget.time {
        let seed = &seeds[rng.gen_range(0..seeds.len())];
        let donor = &seeds[rng.gen_range(0..seeds.len())];
        let input = mutate(seed, donor, &mut rng);
        exec(&input, &mut stats);
        made += 1;
    }
    stats
}

/// Reads every file of the given directories (missing directories are skipped), sorted by path.
pub fn read_inputs(dirs: &[PathBuf]) -> std::io::Result<Vec<Vec<u8>>> {
    let mut paths = Vec::new();
    for d in dirs {
        match std::fs::read_dir(d) {
            Ok(entries) => {
                for e in entries {
                    let p = e?.path();
                    if p.is_file() {
                        paths.push(p);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    paths.sort();
    paths.iter().map(std::fs::read).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regressions(target: &str) -> Vec<Vec<u8>> {
        read_inputs(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions").join(target)]).unwrap()
    }

    /// Every input a fuzz run ever crashed on (`fuzz/regressions/<target>/`) runs without panic.
    #[test]
    fn regression_inputs_do_not_panic() {
        for t in targets() {
            for input in regressions(t.name) {
                (t.run)(&input);
            }
        }
    }

    #[test]
    fn the_runner_catches_and_saves_a_panicking_input() {
        fn picky(data: &[u8]) {
            assert!(!data.starts_with(b"{\"a\":0"), "found it");
        }
        let dir = std::env::temp_dir().join(format!("dobush-fuzz-{}", std::process::id()));
        let target = Target { name: "picky", run: picky };
        let seeds = vec![br#"{"a":1,"b":"x"}"#.to_vec()];
        let stats = run(target, &seeds, Budget { inputs: 2000, time: Duration::from_secs(30) }, 3, &dir);
        assert_eq!(stats.seeds, 1);
        assert!(stats.executed > 1);
        assert!(!stats.crashes.is_empty(), "the mutator reaches {{\"a\":0 from {{\"a\":1");
        let saved = std::fs::read(&stats.crashes[0]).unwrap();
        assert!(saved.starts_with(b"{\"a\":0"));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn mutation_keeps_most_json_inputs_parseable_and_changes_them() {
        let seed = br#"{"x":[1,2,3],"y":{"z":"00ff"}}"#;
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let outs: Vec<Vec<u8>> = (0..200).map(|_| mutate(seed, seed, &mut rng)).collect();
        let parse = outs.iter().filter(|o| serde_json::from_slice::<Value>(o).is_ok()).count();
        let changed = outs.iter().filter(|o| o.as_slice() != seed).count();
        assert!(parse > 100, "{parse} of 200 parse");
        assert!(changed > 150, "{changed} of 200 changed");
    }
}

/// A smoke run ([`smoke`]): where its inputs are and how much of them to try.
#[derive(Clone, Debug)]
pub struct Smoke {
    /// Mutated inputs per target (after every seed once).
    pub inputs: u64,
    /// Wall-clock seconds per target at most.
    pub seconds: u64,
    /// Seed of the mutator.
    pub rng_seed: u64,
    /// The seed corpora, `<dir>/<target>/` (written by `dobush_tests::fuzz_seeds::write`).
    pub seeds: PathBuf,
    /// The committed regression inputs, `<dir>/<target>/`.
    pub regressions: PathBuf,
    /// Where a panicking input is saved, `<dir>/<target>/`.
    pub artifacts: PathBuf,
    /// The targets to run (empty: all).
    pub only: Vec<String>,
}

/// Runs every chosen target on its seeds, its regression inputs and then mutated inputs within
/// the budget, writing one line per target (and one per crashing input saved) to `out`. `Ok(true)`
/// if nothing panicked; `Err` for a run that could not start (an unknown target, no seeds).
pub fn smoke(s: &Smoke, out: &mut dyn std::io::Write) -> Result<bool, String> {
    let all = targets();
    if let Some(unknown) = s.only.iter().find(|t| !all.iter().any(|x| x.name == t.as_str())) {
        return Err(format!(
            "unknown target {unknown:?}; targets: {}",
            all.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
        ));
    }
    let mut clean = true;
    for t in all.iter().filter(|t| s.only.is_empty() || s.only.iter().any(|o| o == t.name)) {
        let corpus = read_inputs(&[s.seeds.join(t.name), s.regressions.join(t.name)])
            .map_err(|e| format!("{}: reading the seeds: {e}", t.name))?;
        if corpus.is_empty() {
            return Err(format!(
                "{}: no seeds under {} (run the fuzz_seeds binary of dobush-tests first)",
                t.name,
                s.seeds.join(t.name).display()
            ));
        }
        let start = Instant::now();
        let stats = run(
            *t,
            &corpus,
            Budget { inputs: s.inputs, time: Duration::from_secs(s.seconds) },
            s.rng_seed,
            &s.artifacts,
        );
        let report = writeln!(
            out,
            "fuzz_smoke {}: {} inputs ({} seeds) in {:.1} s, slowest {} ms, {} crash(es)",
            t.name,
            stats.executed,
            stats.seeds,
            start.elapsed().as_secs_f64(),
            stats.slowest_ms,
            stats.crashes.len()
        );
        report.map_err(|e| e.to_string())?;
        for c in &stats.crashes {
            writeln!(out, "  crashing input saved: {}", c.display()).map_err(|e| e.to_string())?;
        }
        clean &= stats.crashes.is_empty();
    }
    Ok(clean)
}
