//! The independent verifier's own parsers (`dobush_verifier`): `record.json`, a NUL byte,
//! `board.jsonl`, and optionally a NUL byte and a receipt, through `record::verify` and
//! `record::verify_receipt`; the same bytes as one JSON value through the ballot, manifest and
//! package parsers. Nothing may panic: every defect is a reported failure.
#![no_main]

use dobush_verifier::record::{Options, verify, verify_receipt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = dobush_verifier::ballot::parse(&v);
        let _ = dobush_verifier::manifest::parse(&v);
        let _ = dobush_verifier::record::package_context(&v);
    }
    let mut parts = data.splitn(3, |b| *b == 0);
    let Some(record) = parts.next().and_then(|r| std::str::from_utf8(r).ok()) else { return };
    let board = parts.next().unwrap_or_default();
    match parts.next().and_then(|r| std::str::from_utf8(r).ok()) {
        Some(receipt) => {
            let _ = verify_receipt(record, board, receipt);
        }
        None => {
            let _ = verify(record, board, &Options::default());
        }
    }
});
