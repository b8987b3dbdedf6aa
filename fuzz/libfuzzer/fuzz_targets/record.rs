//! Election-record and board-entry decoding (`dobush_crypto::record`): board entries, packages,
//! receipts and whole records. Nothing may panic; a decoded entry re-encodes to bytes that decode
//! to the same entry; a decoded package yields a context or an error; a decoded receipt is
//! checked against a package on the line before it; JSON lines rebuild a board and the re-vote
//! rule runs over its ballots.
#![no_main]

use dobush_crypto::record::{Board, BoardEntry, ElectionPackage, ElectionRecord, ReVotePolicy, Receipt, counted_ballots};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = serde_json::from_slice::<BoardEntry>(data) {
        if let Ok(bytes) = entry.to_bytes() {
            let again: BoardEntry = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(again, entry, "entry round trip");
        }
    }
    if let Ok(package) = serde_json::from_slice::<ElectionPackage>(data) {
        let _ = package.context();
    }
    if let Ok(record) = serde_json::from_slice::<ElectionRecord>(data) {
        let _ = record.package.context();
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    // a package on the first line, a receipt on the second
    if let Some((package, receipt)) = text.split_once('\n') {
        if let (Ok(p), Ok(r)) = (serde_json::from_str::<ElectionPackage>(package), serde_json::from_str::<Receipt>(receipt)) {
            let _ = r.verify(&p);
        }
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
});
