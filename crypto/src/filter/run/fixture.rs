//! A style's election for tests and benchmarks: a key ceremony, a frozen list, ballots with
//! encrypted credentials (encrypted here, as ballot v2 will), re-votes, replacements, ballots
//! under a replaced credential, overrides, unlisted ballots; and the expected outcome computed
//! from the plan alone (the last valid ballot of each listed voter, overrides cancelling).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};

use super::Setup;
use super::inputs::{BallotInput, Inputs, OverrideInput, ReplacementInput, StationInput, tag_base};
use crate::elgamal::{Ciphertext, RawCiphertext};
use crate::group::{GroupElement, mul_base, random_nonzero_scalar};
use crate::threshold::local::{Ceremony, run_ceremony};
use crate::threshold::{KeyShare, lagrange_at_zero};

/// What happens in the style. Voters are numbered from 0; each casts one ballot, then the
/// first `revoters` cast a second, the next `replaced` get a new credential and cast under it
/// (the first `stale` of them cast once more under the old one, which must not count), then
/// `unlisted` ballots come under credentials on no list, then the last `overridden` voters are
/// overridden. Ballot b of voter v votes for selection `(v + b) mod k`.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Listed voters who vote.
    pub voters: usize,
    /// Listed voters who do not vote.
    pub abstainers: usize,
    /// Voters who re-vote once.
    pub revoters: usize,
    /// Voters (after the revoters) replaced, who then vote under the new credential.
    pub replaced: usize,
    /// Of the replaced, how many cast again under the old credential afterwards.
    pub stale: usize,
    /// Ballots under credentials on no list.
    pub unlisted: usize,
    /// The last voters, overridden after the close.
    pub overridden: usize,
    /// Voters (after the replaced) replaced twice, casting under each credential and then (the
    /// ones not overridden) once more under the middle one, a stale ballot: chains of three
    /// credentials.
    pub twice: usize,
    /// Of the twice replaced, how many are overridden under their first credential.
    pub override_old: usize,
    /// Voters (after those) who do not cast first, are replaced, and then cast only under the old
    /// credential: a group with no valid row (`none`).
    pub none_groups: usize,
    /// Voters (after those) who cast c ballots (the server broke the limit) and are then
    /// overridden: a chain of c + 1 rows, an exception.
    pub exceptions: usize,
    /// Voters (after those) who cast a second ballot whose tbase encrypts another voter's tag
    /// base: it joins that voter's group and fails the PET.
    pub mismatched: usize,
    /// Voters (after those) who cast a second ballot whose tbase encrypts a random point (H2 of
    /// review 19), each followed by a replacement whose old_tbase encrypts a random point and a
    /// ballot under its `new`: all three malformed, named and dropped by sanitation (§7.3).
    pub malformed: usize,
    /// k.
    pub selections: usize,
    /// c.
    pub row_limit: u64,
    /// n, t.
    pub n: u32,
    /// t.
    pub t: u32,
}

/// The election of a [`Plan`].
pub struct Election {
    /// The key ceremony (its shares are the members').
    pub ceremony: Ceremony,
    /// The filter's parameters (F = 1 … t, coordinator 1).
    pub setup: Setup,
    /// The inputs as the board gives them.
    pub inputs: Inputs,
    /// The expected total of each selection.
    pub expected_totals: Vec<u64>,
    /// The expected counted_s.
    pub expected_counted: u64,
    /// The expected overridden_s.
    pub expected_overridden: u64,
    /// The board index of every ballot that must be counted.
    pub expected_kept: Vec<u64>,
}

pub(crate) fn encrypt<R: RngCore + CryptoRng>(
    k: &RistrettoPoint,
    p: RistrettoPoint,
    rng: &mut R,
) -> Option<Ciphertext> {
    let r = random_nonzero_scalar(rng);
    RawCiphertext { alpha: mul_base(&r), beta: p + r * k }.validate().ok()
}

impl Election {
    /// Builds the election of `plan`.
    pub fn new<R: RngCore + CryptoRng>(plan: &Plan, rng: &mut R) -> Option<Self> {
        let ceremony = run_ceremony(rng, &[7; 32], plan.n, plan.t).ok()?;
        let setup = Setup {
            context: [9; 32],
            base_hash: ceremony.base_context,
            run: 1,
            style: "style-1".into(),
            election_key: ceremony.joint_key,
            params: ceremony.params,
            verification_keys: ceremony.outcome.verification_keys.clone(),
            row_limit: plan.row_limit,
            selections: plan.selections,
            filter: (1..=plan.t).collect(),
            coordinator: 1,
        };
        let k = *ceremony.joint_key.point();
        let new_credential = |rng: &mut R| GroupElement::from_point(mul_base(&random_nonzero_scalar(rng))).ok();
        let listed = plan.voters + plan.abstainers;
        let list: Vec<GroupElement> = (0..listed).map(|_| new_credential(rng)).collect::<Option<_>>()?;
        // Two stations (§10.1): list item i names station-a if i is even, station-b if odd, and
        // item 0 names both.
        let station_of = |x: &GroupElement| {
            let i = list.iter().position(|l| l == x).unwrap_or(0);
            if i % 2 == 0 { "station-a" } else { "station-b" }.to_string()
        };
        let stations = vec![
            StationInput { id: "station-a".into(), credentials: list.iter().step_by(2).copied().collect() },
            StationInput {
                id: "station-b".into(),
                credentials: list.iter().enumerate().filter(|(i, _)| i % 2 == 1 || *i == 0).map(|(_, x)| *x).collect(),
            },
        ];
        let mut inputs = Inputs { list: list.clone(), stations, ..Inputs::default() };
        let mut index = 0u64;
        // last[v] = (board index, selection) of voter v's last valid ballot
        let mut last: Vec<Option<(u64, usize)>> = vec![None; plan.voters];
        let k_sel = plan.selections.max(1);
        let cast = |x: &GroupElement, sel: usize, index: u64, rng: &mut R| -> Option<BallotInput> {
            let votes = (0..plan.selections)
                .map(|i| encrypt(&k, mul_base(&Scalar::from(u64::from(i == sel))), rng))
                .collect::<Option<Vec<_>>>()?;
            Some(BallotInput {
                index,
                cred: encrypt(&k, *x.point(), rng)?,
                tbase: encrypt(&k, tag_base(&setup.base_hash, x), rng)?,
                votes,
            })
        };
        let mut current: Vec<GroupElement> = list.iter().take(plan.voters).copied().collect();
        let twice_from = plan.revoters + plan.replaced;
        let none_from = twice_from + plan.twice;
        let exceptions_from = none_from + plan.none_groups;
        let mismatched_from = exceptions_from + plan.exceptions;
        let malformed_from = mismatched_from + plan.mismatched;
        let is_none = |v: usize| (none_from..exceptions_from).contains(&v);
        for v in 0..plan.voters {
            if is_none(v) {
                continue;
            }
            index += 1;
            inputs.ballots.push(cast(&current[v], v % k_sel, index, rng)?);
            last[v] = Some((index, v % k_sel));
        }
        for v in 0..plan.revoters.min(plan.voters) {
            index += 1;
            let sel = (v + 1) % k_sel;
            inputs.ballots.push(cast(&current[v], sel, index, rng)?);
            last[v] = Some((index, sel));
        }
        let first_replaced = plan.revoters;
        for (n, v) in (first_replaced..(first_replaced + plan.replaced).min(plan.voters)).enumerate() {
            let new = new_credential(rng)?;
            index += 1;
            inputs.replacements.push(ReplacementInput {
                index,
                new,
                old_tbase: encrypt(&k, tag_base(&setup.base_hash, &current[v]), rng)?,
            });
            let old = current[v];
            current[v] = new;
            index += 1;
            let sel = (v + 2) % k_sel;
            inputs.ballots.push(cast(&new, sel, index, rng)?);
            last[v] = Some((index, sel));
            if n < plan.stale {
                index += 1;
                inputs.ballots.push(cast(&old, (v + 3) % k_sel, index, rng)?);
            }
        }
        let roots: Vec<GroupElement> = current.clone();
        for v in twice_from..none_from.min(plan.voters) {
            for _ in 0..2 {
                index += 1;
                let new = new_credential(rng)?;
                inputs.replacements.push(ReplacementInput {
                    index,
                    new,
                    old_tbase: encrypt(&k, tag_base(&setup.base_hash, &current[v]), rng)?,
                });
                current[v] = new;
                index += 1;
                let sel = (v + 1 + inputs.replacements.len()) % k_sel;
                inputs.ballots.push(cast(&new, sel, index, rng)?);
                last[v] = Some((index, sel));
            }
            // Stale: under the middle credential, after its end (not for those overridden, whose
            // chains would then have c + 1 rows at c = 4).
            if v >= twice_from + plan.override_old {
                index += 1;
                let middle = inputs.replacements.get(inputs.replacements.len() - 2)?.new;
                inputs.ballots.push(cast(&middle, v % k_sel, index, rng)?);
            }
        }
        for v in none_from..exceptions_from.min(plan.voters) {
            index += 1;
            let new = new_credential(rng)?;
            let old = current[v];
            inputs.replacements.push(ReplacementInput {
                index,
                new,
                old_tbase: encrypt(&k, tag_base(&setup.base_hash, &old), rng)?,
            });
            current[v] = new;
            index += 1;
            inputs.ballots.push(cast(&old, v % k_sel, index, rng)?);
            last[v] = None;
        }
        for (v, x) in current.iter().enumerate().take(mismatched_from).skip(exceptions_from) {
            for b in 1..plan.row_limit {
                index += 1;
                inputs.ballots.push(cast(x, (v + b as usize) % k_sel, index, rng)?);
            }
        }
        for v in mismatched_from..malformed_from.min(plan.voters) {
            // Another voter's tag base: a plain voter who casts once (the last one not overridden).
            let other = plan.voters.checked_sub(plan.overridden + 1)?;
            index += 1;
            let mut b = cast(&current[v], v % k_sel, index, rng)?;
            b.tbase = encrypt(&k, tag_base(&setup.base_hash, &current[other]), rng)?;
            inputs.ballots.push(b);
        }
        for (v, x) in current.iter().enumerate().take(malformed_from + plan.malformed).skip(malformed_from) {
            index += 1;
            let mut b = cast(x, v % k_sel, index, rng)?;
            b.tbase = encrypt(&k, mul_base(&random_nonzero_scalar(rng)), rng)?;
            inputs.ballots.push(b);
            // A replacement whose old_tbase encrypts no listed tag base, and a ballot under its
            // `new`: both malformed (§7.3), named and dropped before any shuffle.
            index += 1;
            let new = new_credential(rng)?;
            let old_tbase = encrypt(&k, mul_base(&random_nonzero_scalar(rng)), rng)?;
            inputs.replacements.push(ReplacementInput { index, new, old_tbase });
            index += 1;
            inputs.ballots.push(cast(&new, v % k_sel, index, rng)?);
        }
        for u in 0..plan.unlisted {
            index += 1;
            let x = new_credential(rng)?;
            inputs.ballots.push(cast(&x, u % k_sel, index, rng)?);
        }
        index += 1; // closed
        let mut expected_overridden = 0;
        for v in plan.voters.saturating_sub(plan.overridden)..plan.voters {
            index += 1;
            let x = current[v];
            inputs.overrides.push(OverrideInput {
                index,
                cred: encrypt(&k, *x.point(), rng)?,
                tbase: encrypt(&k, tag_base(&setup.base_hash, &x), rng)?,
                station: station_of(&x),
            });
            last[v] = None;
            expected_overridden += 1;
        }
        // An override of voter 1 (station-b) signed at station-a: dropped `out_of_station`
        // (§7.4), so voter 1's last e-ballot still counts.
        if plan.overridden > 0 && plan.voters > plan.overridden + 1 {
            let x = list.get(1)?;
            index += 1;
            inputs.overrides.push(OverrideInput {
                index,
                cred: encrypt(&k, *x.point(), rng)?,
                tbase: encrypt(&k, tag_base(&setup.base_hash, x), rng)?,
                station: "station-a".into(),
            });
        }
        let overrides = (twice_from..(twice_from + plan.override_old).min(none_from))
            .map(|v| (v, roots[v]))
            .chain((exceptions_from..mismatched_from.min(plan.voters)).map(|v| (v, current[v])));
        for (v, x) in overrides.collect::<Vec<_>>() {
            index += 1;
            inputs.overrides.push(OverrideInput {
                index,
                cred: encrypt(&k, *x.point(), rng)?,
                tbase: encrypt(&k, tag_base(&setup.base_hash, &x), rng)?,
                station: station_of(&x),
            });
            last[v] = None;
            expected_overridden += 1;
        }
        let mut expected_totals = vec![0u64; plan.selections];
        let mut expected_kept = Vec::new();
        for (i, sel) in last.iter().flatten() {
            if let Some(t) = expected_totals.get_mut(*sel) {
                *t += 1;
            }
            expected_kept.push(*i);
        }
        expected_kept.sort_unstable();
        Some(Self {
            expected_counted: expected_kept.len() as u64,
            ceremony,
            setup,
            inputs,
            expected_totals,
            expected_overridden,
            expected_kept,
        })
    }

    /// The key shares of F.
    pub fn shares(&self) -> Vec<KeyShare> {
        self.setup.filter.iter().filter_map(|j| self.ceremony.shares.get(*j as usize - 1).cloned()).collect()
    }

    /// The plaintext point of `ct`, with the shares of F (tests only: s is recombined).
    pub fn decrypt_point(&self, ct: &RawCiphertext) -> Option<RistrettoPoint> {
        let lambda = lagrange_at_zero(&self.setup.filter).ok()?;
        let s: Scalar = self.shares().iter().zip(&lambda).map(|(share, l)| l * share.secret()).sum();
        Some(ct.beta - s * ct.alpha)
    }

    /// Decrypts `ct` to an integer at most `max` (tests only).
    pub fn decrypt(&self, ct: &RawCiphertext, max: u64) -> Option<u64> {
        let m = self.decrypt_point(ct)?;
        let g = mul_base(&Scalar::ONE);
        let mut acc = RistrettoPoint::default();
        for v in 0..=max {
            if acc == m {
                return Some(v);
            }
            acc += g;
        }
        None
    }
}
