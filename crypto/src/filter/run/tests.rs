use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::drive::run_filter;
use super::fixture::{Election, Plan};
use super::public::verify_transcript;
use crate::elgamal::RawCiphertext;
use crate::filter::totals::FIRST_VOTE;

fn plan() -> Plan {
    Plan {
        voters: 10,
        abstainers: 3,
        revoters: 3,
        replaced: 2,
        stale: 1,
        unlisted: 1,
        overridden: 2,
        selections: 3,
        row_limit: 4,
        n: 3,
        t: 2,
    }
}

#[test]
fn an_honest_run_counts_the_last_valid_ballot_of_each_listed_voter() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let e = Election::new(&plan(), &mut rng).unwrap();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    assert_eq!(out.filtered.counted, e.expected_counted);
    assert_eq!(out.filtered.overridden, e.expected_overridden);
    assert_eq!(out.filtered.unlisted.len(), 1);
    let totals: Vec<u64> = (0..e.setup.selections)
        .map(|i| {
            let sum = out.filtered.kept_rows.iter().fold(RawCiphertext::zero(), |a, r| a + r[FIRST_VOTE + i].raw());
            e.decrypt(&sum, 100).unwrap()
        })
        .collect();
    assert_eq!(totals, e.expected_totals);
    let w = e.decrypt(&out.filtered.weight_total, 1000).unwrap();
    assert_eq!(w, e.expected_counted + out.filtered.m_s * e.expected_overridden);
    let json = serde_json::to_string(&out.transcript).unwrap();
    let back = serde_json::from_str(&json).unwrap();
    let again = verify_transcript(&e.setup, &e.inputs, &back, &mut rng).unwrap();
    assert_eq!(again.counted, out.filtered.counted);
}
