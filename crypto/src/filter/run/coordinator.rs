//! The coordinator of a style (`13-revoting.md` §6, §7.2, §7.5, §7.9): its state beside its
//! member's. It learns every row's credential from the members' private round-1 shares, builds
//! the pool and picks the dummies, shuffles every list and keeps the openings of the ordinals
//! (zeroized on drop); after round 9 it names the kept rows and proves the comparisons.

use std::collections::{BTreeSet, HashMap};

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use super::inputs::{Inputs, Recomputed};
use super::member::{AwaitingNames, AwaitingSelection, AwaitingShuffles, check_view};
use super::messages::{Claim, PrivateShares, Revealed, Round5, Round10, SelectionProofs, Shuffled};
use super::sanitation;
use super::{RunError, Setup, fail, round, station_list};
use crate::elgamal::{Ciphertext, PublicKey};
use crate::filter::comparisons::{
    Commitments, OVERRIDE_BASE, Opening, Openings, SelectionContext, prove_comparisons, select,
};
#[cfg(any(test, feature = "test-helpers"))]
use crate::filter::comparisons::{Layout, Selection, prove_comparisons_forging};
use crate::filter::cover::Cover;
use crate::shuffle::{Rows, ShuffleSecret, ShuffleStatement, prove_shuffle, shuffle_rows};

/// Round 2 (§7.3, §7.4): the claims of the malformed entries and each station's shuffled rows.
pub type Round2 = (Vec<Claim>, Vec<Option<Shuffled>>);

/// Chains as (root list row, the rows grouped under it).
type Chains = Vec<(usize, Vec<usize>)>;

/// Waiting for the members' private round-1 shares.
pub struct AwaitingView {
    setup: Setup,
    inputs: Inputs,
    rec: Recomputed,
}

/// Round 2 published; keeping the private view (zeroized on drop) until round 3 is verified.
pub struct AwaitingSanitation {
    setup: Setup,
    inputs: Inputs,
    row_x: Zeroizing<Vec<[u8; 32]>>,
    row_v: Zeroizing<Vec<[u8; 32]>>,
    old_tb: Zeroizing<Vec<[u8; 32]>>,
}

/// Round 5 published; keeping the openings of every shuffled I column until round 10.
pub struct AwaitingGroups {
    setup: Setup,
    rows: Vec<Opening>,
    pointers: Vec<Opening>,
}

/// The coordinator of `setup.style` starts.
pub fn start(setup: &Setup, inputs: &Inputs) -> Result<AwaitingView, RunError> {
    Ok(AwaitingView { setup: setup.clone(), inputs: inputs.clone(), rec: Recomputed::new(setup, inputs)? })
}

fn shuffle<R: RngCore + CryptoRng>(
    setup: &Setup,
    name: &str,
    keys: &[PublicKey],
    input: Vec<Vec<Ciphertext>>,
    rng: &mut R,
) -> Result<(Shuffled, ShuffleSecret), RunError> {
    let at = format!("{name} shuffle");
    let input = Rows::from_rows(input).map_err(|e| fail(round::SHUFFLES, at.as_str(), e))?;
    let (output, secret) = shuffle_rows(rng, keys, &input).map_err(|e| fail(round::SHUFFLES, at.as_str(), e))?;
    let purpose = setup.shuffle_purpose(name);
    let st = ShuffleStatement { context: &setup.context, purpose: &purpose, keys, input: &input, output: &output };
    let proof = prove_shuffle(rng, &st, &secret).map_err(|e| fail(round::SHUFFLES, at, e))?;
    Ok((Shuffled { output, proof }, secret))
}

/// The openings `(ord, ρ)` of the shuffled I columns: output row `π(j)` holds input row `j`'s
/// ordinal with blinding 1 + its re-encryption nonce.
fn openings(secret: &ShuffleSecret, ords: &[u64], width: usize, column: usize) -> Result<Vec<Opening>, RunError> {
    let mut out: Vec<Option<Opening>> = vec![None; ords.len()];
    for (j, (&i, &ord)) in secret.permutation().iter().zip(ords).enumerate() {
        let rho = secret
            .nonces()
            .get(j * width + column)
            .map(|n| Scalar::ONE + n)
            .ok_or_else(|| fail(round::SHUFFLES, "openings", "the secret does not fit"))?;
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(Opening { ord, rho });
        }
    }
    out.into_iter().collect::<Option<Vec<_>>>().ok_or_else(|| fail(round::SHUFFLES, "openings", "not a permutation"))
}

impl AwaitingView {
    /// Combines the private shares into every row's X and V and every replacement's old tag
    /// base (§7.2), and makes round 2: the board indices of the malformed entries (§7.3) and
    /// each station's shuffled station rows (§7.4).
    ///
    /// `own` is the coordinator's member state after round 0; every member's shares must carry
    /// their proof designated to the coordinator's PET key (§7.2), so that a member offsetting
    /// its shares stops the run here, before anything is named (review 19-sanitation C1, M1).
    pub fn receive_view<R: RngCore + CryptoRng>(
        self,
        own: &AwaitingNames,
        shares: &[PrivateShares],
        rng: &mut R,
    ) -> Result<(AwaitingSanitation, Round2), RunError> {
        let (setup, rec) = (&self.setup, &self.rec);
        if own.member() != setup.coordinator || own.public().setup().coordinator != setup.coordinator {
            return Err(fail(round::VIEW, "coordinator", "the member state is not the coordinator's"));
        }
        let members: Vec<u32> = shares.iter().map(|s| s.member).collect();
        if members != setup.filter
            || shares.iter().any(|s| {
                s.credentials.len() != rec.real.len()
                    || s.tag_bases.len() != rec.real.len()
                    || s.old_tag_bases.len() != rec.pointers.len()
            })
        {
            return Err(fail(round::VIEW, "private shares", "one full set per member of F is needed"));
        }
        for s in shares {
            check_view(own.public(), s)?;
        }
        let combine = |rows: &[Vec<Ciphertext>], col: usize, pick: fn(&PrivateShares) -> &Vec<RistrettoPoint>| {
            rows.iter()
                .enumerate()
                .map(|(i, r)| {
                    let beta = r.get(col).map_or(RistrettoPoint::default(), |c| *c.beta.point());
                    (beta - shares.iter().filter_map(|s| pick(s).get(i)).sum::<RistrettoPoint>()).compress().to_bytes()
                })
                .collect::<Vec<[u8; 32]>>()
        };
        // The private view (§12: zeroized at the end): every row's X and V, every replacement's
        // old tag base, and from them which rows are one voter's.
        let row_x = Zeroizing::new(combine(&rec.real, 0, |s| &s.credentials));
        let row_v = Zeroizing::new(combine(&rec.real, 1, |s| &s.tag_bases));
        let old_tb = Zeroizing::new(combine(&rec.pointers, 1, |s| &s.old_tag_bases));
        let names = sanitation::name(setup, &self.inputs, &row_x, &row_v, &old_tb);
        let keys = [setup.election_key];
        let mut stations = Vec::with_capacity(rec.stations.len());
        for (st, rows) in self.inputs.stations.iter().zip(&rec.stations) {
            stations.push(if rows.is_empty() {
                None
            } else {
                Some(shuffle(setup, &station_list(&st.id), &keys, rows.clone(), rng)?.0)
            });
        }
        let state = AwaitingSanitation { setup: self.setup, inputs: self.inputs, row_x, row_v, old_tb };
        Ok((state, (names, stations)))
    }
}

impl AwaitingSanitation {
    /// From its own member's state after round 3 (the malformed entries dropped), finds the
    /// chains of the surviving rows, pads them by the cover with copies from the pool, and makes
    /// round 5 (§7.5).
    pub fn shuffle<R: RngCore + CryptoRng>(
        self,
        member: &AwaitingShuffles,
        rng: &mut R,
    ) -> Result<(AwaitingGroups, Round5), RunError> {
        let setup = &self.setup;
        let rec = member.public().recomputed();
        let public = member.public();
        let dropped: BTreeSet<u64> =
            public.malformed().iter().map(|m| m.index).chain(public.out_of_station().iter().copied()).collect();
        let row_index =
            self.inputs.ballots.iter().map(|b| b.index).chain(self.inputs.overrides.iter().map(|o| o.index));
        let (mut row_x, mut row_v) = (Zeroizing::new(Vec::new()), Zeroizing::new(Vec::new()));
        for ((i, x), v) in row_index.zip(self.row_x.iter()).zip(self.row_v.iter()) {
            if !dropped.contains(&i) {
                row_x.push(*x);
                row_v.push(*v);
            }
        }
        let old_tb: Zeroizing<Vec<[u8; 32]>> = Zeroizing::new(
            self.inputs
                .replacements
                .iter()
                .zip(self.old_tb.iter())
                .filter(|(r, _)| !dropped.contains(&r.index))
                .map(|(_, tb)| *tb)
                .collect(),
        );
        if row_x.len() != rec.real.len() || old_tb.len() != rec.pointers.len() {
            return Err(fail(round::SHUFFLES, "private view", "does not fit the sanitized rows"));
        }
        let list_len = self.inputs.list.len();
        // Credentials: the list, then each replacement's new one, by X and by TB(X).
        let mut by_x: HashMap<[u8; 32], usize> = HashMap::new();
        let mut by_tb: HashMap<[u8; 32], usize> = HashMap::new();
        for (c, row) in rec.list.iter().enumerate() {
            let k = *setup.election_key.point();
            let x = row.first().map_or(RistrettoPoint::default(), |t| t.beta.point() - k);
            let tb = row.get(1).map_or(RistrettoPoint::default(), |t| t.beta.point() - k);
            by_x.insert(x.compress().to_bytes(), c);
            by_tb.insert(tb.compress().to_bytes(), c);
        }
        let mut parent: Zeroizing<Vec<Option<usize>>> = Zeroizing::new(vec![None; list_len + rec.pointers.len()]);
        for (r, tb) in old_tb.iter().enumerate() {
            if let (Some(old), Some(slot)) = (by_tb.get(tb), parent.get_mut(list_len + r)) {
                *slot = Some(*old);
            }
        }
        let root = |mut c: usize| -> Option<usize> {
            for _ in 0..=parent.len() {
                match parent.get(c).copied().flatten() {
                    None => return Some(c),
                    Some(p) => c = p,
                }
            }
            None // a loop: unrooted
        };
        let mut chains: HashMap<usize, Vec<usize>> = HashMap::new();
        // Each row where the public will put it (§7.7, §7.8): in the chain of the list row whose
        // TB(X) is its V, and only if its X is that list row's credential (the PET). A row whose
        // V is no listed TB (`unlisted`), whose X is another (`credential_mismatch`) or whose
        // chain loops (`unrooted`) is in no chain: it is not padded and no dummy copies it.
        for (q, (x, v)) in row_x.iter().zip(row_v.iter()).enumerate() {
            let Some(&c) = by_tb.get(v) else { continue };
            if by_x.get(x) != Some(&c) {
                continue;
            }
            if let Some(r) = root(c) {
                chains.entry(r).or_default().push(q);
            }
        }
        let (compliant, exceptions): (Chains, Chains) =
            chains.drain().partition(|(_, rows)| rows.len() as u64 <= setup.row_limit);
        let (mut compliant, _exceptions) = (Zeroizing::new(compliant), Zeroizing::new(exceptions));
        compliant.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        let n: u64 = compliant.iter().map(|(_, r)| r.len() as u64).sum();
        let cover =
            Cover::new(n, compliant.len() as u64, setup.row_limit).map_err(|e| fail(round::SHUFFLES, "cover", e))?;
        let copies = cover.largest().saturating_sub(1);
        let k_s = usize::try_from(copies).map_err(|_| fail(round::SHUFFLES, "pool", "too large"))?;
        let pool_in = rec.pool(k_s);
        let (pool, pool_secret) = if pool_in.is_empty() {
            (None, None)
        } else {
            let (s, secret) = shuffle(setup, "pool", &rec.pair_keys, pool_in, rng)?;
            (Some(s), Some(secret))
        };
        // Largest chain to largest slot; each chain's dummies are copies of its first surviving row.
        let mut dummies: Vec<u64> = Vec::new();
        for ((_, rows), slot) in compliant.iter().zip(cover.slots()) {
            let need = slot.saturating_sub(rows.len() as u64) as usize;
            if need == 0 {
                continue;
            }
            let (Some(first), Some(secret)) = (rows.first(), pool_secret.as_ref()) else {
                return Err(fail(round::SHUFFLES, "dummies", "a chain needs dummies but the pool is empty"));
            };
            for m in 0..need {
                let pos = secret
                    .permutation()
                    .get(first * k_s + m)
                    .ok_or_else(|| fail(round::SHUFFLES, "dummies", "not enough copies"))?;
                dummies.push(*pos as u64);
            }
        }
        dummies.sort_unstable();
        let mut rows_in = rec.real.clone();
        let mut ords = rec.ords.clone();
        for d in &dummies {
            let pair = pool
                .as_ref()
                .and_then(|p| p.output.row(*d as usize))
                .ok_or_else(|| fail(round::SHUFFLES, "dummies", "no such pool row"))?;
            rows_in.push(rec.dummy(&setup.election_key, pair)?);
            ords.push(0);
        }
        let (rows, rows_secret) = shuffle(setup, "rows", &rec.row_keys, rows_in, rng)?;
        let row_openings = openings(&rows_secret, &ords, rec.width, 2)?;
        let list = if rec.list.is_empty() {
            None
        } else {
            Some(shuffle(setup, "list", &rec.pair_keys, rec.list.clone(), rng)?.0)
        };
        let (pointers, pointer_openings) = if rec.pointers.is_empty() {
            (None, Vec::new())
        } else {
            let (s, secret) = shuffle(setup, "pointers", &rec.pointer_keys, rec.pointers.clone(), rng)?;
            (Some(s), openings(&secret, &rec.pointer_ords, 3, 2)?)
        };
        let msg = Round5 { copies, pool, dummies, rows, list, pointers };
        Ok((AwaitingGroups { setup: self.setup, rows: row_openings, pointers: pointer_openings }, msg))
    }
}

/// A forging coordinator's round 10 (tests only): given the layout, each shuffled row's
/// ordinal and the honest selection, returns the selection to publish. Its comparisons are
/// proved by [`prove_comparisons_forging`] and the counts follow its kept rows.
#[cfg(any(test, feature = "test-helpers"))]
pub type Forge<'a> = &'a dyn Fn(&Layout, &[u64], Selection) -> Selection;

impl AwaitingGroups {
    /// Makes round 10 from its own member's verified state (§7.9, §7.10): the chains' pointer
    /// orders, the honest selection, its range proofs and the counts.
    pub fn select<R: RngCore + CryptoRng>(self, member: &AwaitingSelection, rng: &mut R) -> Result<Round10, RunError> {
        self.select_inner(member, rng, None)
    }

    /// Round 10 of a forging coordinator (tests only, see [`Forge`]).
    #[cfg(any(test, feature = "test-helpers"))]
    pub fn select_forged<R: RngCore + CryptoRng>(
        self,
        member: &AwaitingSelection,
        rng: &mut R,
        forge: Forge<'_>,
    ) -> Result<Round10, RunError> {
        self.select_inner(member, rng, Some(forge))
    }

    fn select_inner<R: RngCore + CryptoRng>(
        self,
        member: &AwaitingSelection,
        rng: &mut R,
        #[cfg(any(test, feature = "test-helpers"))] forge: Option<Forge<'_>>,
        #[cfg(not(any(test, feature = "test-helpers")))] _forge: Option<()>,
    ) -> Result<Round10, RunError> {
        let public = member.public();
        let groups = public.groups()?;
        let orders: Vec<Vec<usize>> = groups
            .chains
            .iter()
            .filter(|c| c.pointers.len() >= 2)
            .map(|c| {
                let mut p = c.pointers.clone();
                p.sort_by_key(|a| self.pointers.get(*a).map_or(u64::MAX, |o| o.ord));
                p
            })
            .collect();
        let layout = public.layout(&orders)?;
        let openings = Openings { rows: &self.rows, pointers: &self.pointers };
        let selection = select(&layout, &openings).map_err(|e| fail(round::SELECTION, "selection", e))?;
        let (rows_p, pointers_p) = public.commitments();
        let p = Commitments { rows: &rows_p, pointers: &pointers_p };
        let ctx = SelectionContext { context: &self.setup.context, run: self.setup.run, style: &self.setup.style };
        #[cfg(any(test, feature = "test-helpers"))]
        let (selection, proofs) = match forge {
            Some(forge) => {
                let ords: Vec<u64> = self.rows.iter().map(|o| o.ord).collect();
                let selection = forge(&layout, &ords, selection);
                let proofs = prove_comparisons_forging(rng, &ctx, &selection.comparisons, &p, &openings)
                    .map_err(|e| fail(round::SELECTION, "range proofs", e))?;
                (selection, proofs)
            }
            None => {
                let proofs = prove_comparisons(rng, &ctx, &selection.comparisons, &p, &openings)
                    .map_err(|e| fail(round::SELECTION, "range proofs", e))?;
                (selection, proofs)
            }
        };
        #[cfg(not(any(test, feature = "test-helpers")))]
        let proofs = prove_comparisons(rng, &ctx, &selection.comparisons, &p, &openings)
            .map_err(|e| fail(round::SELECTION, "range proofs", e))?;
        let (mut counted, mut overridden) = (0u64, 0u64);
        for r in selection.kept.iter().flatten() {
            let ord = Zeroizing::new(self.rows.get(*r).map_or(0, |o| o.ord));
            if *ord >= OVERRIDE_BASE {
                overridden += 1;
            } else {
                counted += 1;
            }
        }
        Ok(Round10 {
            orders: orders.into_iter().map(|o| o.into_iter().map(|a| a as u64).collect()).collect(),
            kept: selection.kept.iter().map(|k| k.map(|r| r as u64)).collect(),
            selection: SelectionProofs {
                comparisons: selection.comparisons.clone(),
                proofs,
                revealed: selection
                    .revealed
                    .iter()
                    .map(|(row, rho)| Revealed { row: *row as u64, rho: *rho })
                    .collect(),
            },
            counted,
            overridden,
        })
    }
}
