//! The rows of one style that everyone recomputes from the board (`13-revoting.md` §5): ballot
//! rows, override rows, dummy rows, list rows, pointer rows and pool rows, with the keys of
//! their columns.

use std::collections::BTreeSet;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;

use super::{RunError, Setup, fail, round};
use crate::elgamal::{Ciphertext, PublicKey, RawCiphertext};
use crate::filter::comparisons::OVERRIDE_BASE;
use crate::group::{GroupElement, generator_g, generator_h, small_mul_base};

/// The tag base's hash prefix (§2).
pub const TAG_BASE_LABEL: &[u8] = crate::labels::TAG_BASE;

/// A `ballot` entry of the style: its board index and its ciphertexts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BallotInput {
    /// The board index i (≥ 1).
    pub index: u64,
    /// `cred = Enc_K(X)`.
    pub cred: Ciphertext,
    /// `tbase = Enc_K(TB(X))`.
    pub tbase: Ciphertext,
    /// The ballot's k vote ciphertexts, in ballot order.
    pub votes: Vec<Ciphertext>,
}

/// A valid `override` entry of the style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideInput {
    /// The board index i (≥ 1).
    pub index: u64,
    /// `cred`.
    pub cred: Ciphertext,
    /// `tbase`.
    pub tbase: Ciphertext,
    /// The station whose members signed it (§10.2).
    pub station: String,
}

/// A station of the package (§4.1, §10.1), with the listed credentials of the style whose list
/// item names it, in list order: its station rows (§5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StationInput {
    /// The station id.
    pub id: String,
    /// The credentials whose voters may override there.
    pub credentials: Vec<GroupElement>,
}

/// A valid `credential_replaced` entry of the style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplacementInput {
    /// The board index i_P (≥ 1).
    pub index: u64,
    /// `new` = X_new, in the clear.
    pub new: GroupElement,
    /// `old_tbase = Enc_K(TB(X_old))`.
    pub old_tbase: Ciphertext,
}

/// What the board gives the filter of one style, in board order (list order for `list`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// The `ballot` entries.
    pub ballots: Vec<BallotInput>,
    /// The valid `override` entries.
    pub overrides: Vec<OverrideInput>,
    /// The frozen list's credentials of the style.
    pub list: Vec<GroupElement>,
    /// The valid `credential_replaced` entries.
    pub replacements: Vec<ReplacementInput>,
    /// The package's override stations, package order (empty without overrides).
    pub stations: Vec<StationInput>,
}

impl Inputs {
    /// The inputs without the entries of the given board indices: what survives sanitation
    /// (§7.3). M_s is counted before it ([`Recomputed::with_m_s`]).
    pub fn without(&self, dropped: &BTreeSet<u64>) -> Self {
        Self {
            ballots: self.ballots.iter().filter(|b| !dropped.contains(&b.index)).cloned().collect(),
            overrides: self.overrides.iter().filter(|o| !dropped.contains(&o.index)).cloned().collect(),
            list: self.list.clone(),
            replacements: self.replacements.iter().filter(|r| !dropped.contains(&r.index)).cloned().collect(),
            stations: self.stations.clone(),
        }
    }
}

/// `TB(X)` (§2), defined once beside the encrypted credential that carries it (§3.1).
pub use crate::ballot_v2::encrypted_credential::tag_base;

fn valid(raw: RawCiphertext, what: &str) -> Result<Ciphertext, RunError> {
    raw.validate().map_err(|_| fail(round::SHUFFLES, what, "a recomputed ciphertext is the identity"))
}

/// `Triv_K(P) = (G, P + K)`.
pub fn trivial(k: &PublicKey, p: RistrettoPoint) -> Result<Ciphertext, RunError> {
    valid(RawCiphertext { alpha: generator_g(), beta: p + k.point() }, "a trivial ciphertext")
}

/// `(G, ord·G + H)`: the I column of an input row or pointer row.
pub fn ordinal(ord: u64) -> Result<Ciphertext, RunError> {
    valid(RawCiphertext { alpha: generator_g(), beta: small_mul_base(ord) + generator_h() }, "an ordinal")
}

/// `H` as a column key.
pub fn h_key() -> Result<PublicKey, RunError> {
    GroupElement::from_point(generator_h())
        .map(PublicKey)
        .map_err(|_| fail(round::SHUFFLES, "keys", "H is the identity"))
}

/// The rows everyone recomputes, before anything is shuffled.
#[derive(Clone, Debug)]
pub struct Recomputed {
    /// Ballot rows, then override rows: `[X, V, I, W, votes…]` (no dummies yet).
    pub real: Vec<Vec<Ciphertext>>,
    /// The ordinal of each real row.
    pub ords: Vec<u64>,
    /// List rows `[Triv_K(X), Triv_K(TB(X))]`: the list, then each replacement's `new`.
    pub list: Vec<Vec<Ciphertext>>,
    /// Pointer rows `[Triv_K(TB(new)), old_tbase, (G, i_P·G + H)]`.
    pub pointers: Vec<Vec<Ciphertext>>,
    /// The ordinal (board index) of each pointer row.
    pub pointer_ords: Vec<u64>,
    /// Station rows `[Triv_K(TB(X))]`, per station of the package (§5).
    pub stations: Vec<Vec<Vec<Ciphertext>>>,
    /// M_s: ballots and overrides of the style, plus 1.
    pub m_s: u64,
    /// The row width 4 + k.
    pub width: usize,
    /// Column keys of the rows: `[K, K, H, K, K × k]`.
    pub row_keys: Vec<PublicKey>,
    /// Column keys of list and pool rows: `[K, K]`.
    pub pair_keys: Vec<PublicKey>,
    /// Column keys of pointer rows: `[K, K, H]`.
    pub pointer_keys: Vec<PublicKey>,
}

fn check_indices<'a>(indices: impl Iterator<Item = &'a u64>, what: &str) -> Result<(), RunError> {
    let mut last = 0;
    for &i in indices {
        if i <= last || i >= OVERRIDE_BASE {
            return Err(fail(round::SHUFFLES, what, format!("board index {i} is not ascending in 1 … 2³¹ − 1")));
        }
        last = i;
    }
    Ok(())
}

impl Recomputed {
    /// Recomputes the rows of §5 from the board's entries.
    pub fn new(setup: &Setup, inputs: &Inputs) -> Result<Self, RunError> {
        Self::with_m_s(setup, inputs, (inputs.ballots.len() + inputs.overrides.len()) as u64 + 1)
    }

    /// Recomputes the rows of §5 with M_s given: after sanitation (§7.3) the inputs lack the
    /// malformed entries, but M_s is still counted before it (§5).
    pub fn with_m_s(setup: &Setup, inputs: &Inputs, m_s: u64) -> Result<Self, RunError> {
        let k = &setup.election_key;
        check_indices(inputs.ballots.iter().map(|b| &b.index), "ballots")?;
        check_indices(inputs.overrides.iter().map(|o| &o.index), "overrides")?;
        check_indices(inputs.replacements.iter().map(|r| &r.index), "replacements")?;
        let zero = trivial(k, RistrettoPoint::default())?;
        let mut real = Vec::with_capacity(inputs.ballots.len() + inputs.overrides.len());
        let mut ords = Vec::with_capacity(real.capacity());
        for b in &inputs.ballots {
            if b.votes.len() != setup.selections {
                return Err(fail(
                    round::SHUFFLES,
                    format!("ballot {}", b.index),
                    format!("{} votes, the style has {}", b.votes.len(), setup.selections),
                ));
            }
            let mut row = vec![b.cred, b.tbase, ordinal(b.index)?, trivial(k, generator_g())?];
            row.extend_from_slice(&b.votes);
            real.push(row);
            ords.push(b.index);
        }
        let weight = trivial(k, Scalar::from(m_s) * generator_g())?;
        for o in &inputs.overrides {
            let ord = OVERRIDE_BASE + o.index;
            let mut row = vec![o.cred, o.tbase, ordinal(ord)?, weight];
            row.resize(4 + setup.selections, zero);
            real.push(row);
            ords.push(ord);
        }
        let credential = |x: &GroupElement| -> Result<Vec<Ciphertext>, RunError> {
            Ok(vec![trivial(k, *x.point())?, trivial(k, tag_base(&setup.base_hash, x))?])
        };
        let mut list = Vec::with_capacity(inputs.list.len() + inputs.replacements.len());
        for x in inputs.list.iter().chain(inputs.replacements.iter().map(|r| &r.new)) {
            list.push(credential(x)?);
        }
        let mut pointers = Vec::with_capacity(inputs.replacements.len());
        for r in &inputs.replacements {
            pointers.push(vec![trivial(k, tag_base(&setup.base_hash, &r.new))?, r.old_tbase, ordinal(r.index)?]);
        }
        let mut ids = BTreeSet::new();
        if let Some(st) = inputs.stations.iter().find(|st| !ids.insert(st.id.as_str())) {
            return Err(fail(round::NAMES, format!("station {}", st.id), "the package names it twice"));
        }
        let stations = inputs
            .stations
            .iter()
            .map(|st| st.credentials.iter().map(|x| Ok(vec![trivial(k, tag_base(&setup.base_hash, x))?])).collect())
            .collect::<Result<Vec<_>, RunError>>()?;
        let h = h_key()?;
        let mut row_keys = vec![*k, *k, h, *k];
        row_keys.resize(4 + setup.selections, *k);
        Ok(Self {
            real,
            ords,
            list,
            pointers,
            pointer_ords: inputs.replacements.iter().map(|r| r.index).collect(),
            stations,
            m_s,
            width: 4 + setup.selections,
            row_keys,
            pair_keys: vec![*k, *k],
            pointer_keys: vec![*k, *k, h],
        })
    }

    /// The pool rows (§5): the (X, V) columns of every real row, each repeated `copies` times.
    pub fn pool(&self, copies: usize) -> Vec<Vec<Ciphertext>> {
        self.real
            .iter()
            .flat_map(|r| std::iter::repeat_n(r.iter().take(2).copied().collect::<Vec<_>>(), copies))
            .collect()
    }

    /// A dummy row `[X_d, V_d, (G, H), Triv_K(0), Triv_K(0) × k]` from a pool row (§5).
    pub fn dummy(&self, k: &PublicKey, pair: &[Ciphertext]) -> Result<Vec<Ciphertext>, RunError> {
        let zero = trivial(k, RistrettoPoint::default())?;
        let mut row = pair.to_vec();
        row.push(ordinal(0)?);
        row.resize(self.width, zero);
        Ok(row)
    }
}
