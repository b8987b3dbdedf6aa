//! The round messages of the filter and the published transcript of one style
//! (`13-revoting.md` §6, §8; `docs/record-format.md` §Filter transcript). Nothing recomputable
//! is published: not the input rows, tags, groups, commitments C or totals.

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use std::collections::BTreeSet;

use serde::de::{Error as _, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::filter::comparisons::{Comparison, RangeProof, proofs_hex};
use crate::filter::designated::DesignatedProof;
use crate::filter::dleq::BatchedDleqProof;
use crate::filter::keys::MemberKeys;
use crate::filter::tags::ShareBatch;
use crate::group::{GroupElement, bytes_hex, scalar_hex};
use crate::shuffle::{Rows, ShuffleProof};

/// The version string of a filter transcript file.
pub const TRANSCRIPT_VERSION: &str = "dobush-filter/2";

/// A shuffled list with its proof (12-shuffle.md §Serialized form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shuffled {
    /// The output rows.
    pub output: Rows,
    /// The proof that they are a shuffle of the recomputed input rows.
    pub proof: ShuffleProof,
}

/// Round 5 (§7.5), the coordinator's: the pool Π, the dummies, and the other shuffles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Round5 {
    /// K_s = m* − 1: how many copies of each real row the pool holds. Checked against the
    /// cover of the groups once they are public (§9.1).
    pub copies: u64,
    /// Π with its proof; `None` when the pool is empty (K_s = 0).
    pub pool: Option<Shuffled>,
    /// The positions in Π of the copies used as dummies, ascending.
    pub dummies: Vec<u64>,
    /// The shuffled rows: real rows, then the dummies.
    pub rows: Shuffled,
    /// The shuffled list rows; `None` without list rows.
    pub list: Option<Shuffled>,
    /// The shuffled pointer rows; `None` without replacements.
    pub pointers: Option<Shuffled>,
}

/// One member's shares of one list with its batched proof (§7.6, §9.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// `Q_i`, in the order of the bases.
    pub images: Vec<GroupElement>,
    /// The batched Chaum–Pedersen proof.
    pub proof: BatchedDleqProof,
}

impl Batch {
    /// From a share batch; `None` if an image is the identity (rule E1; probability about 1/ℓ).
    pub fn from_shares(b: &ShareBatch) -> Option<Self> {
        let images = b.images.iter().map(|p| GroupElement::from_point(*p).ok()).collect::<Option<Vec<_>>>()?;
        Some(Self { images, proof: b.proof.clone() })
    }

    /// As a share batch of member `member`.
    pub fn to_shares(&self, member: u32) -> ShareBatch {
        ShareBatch { member, images: self.images.iter().map(|g| *g.point()).collect(), proof: self.proof.clone() }
    }
}

/// Rounds 6 and 7 (§7.6): a member's tag shares (round 6) or tag decryption shares (round 7)
/// of the rows, the list rows and the pointer rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagShares {
    /// The member j.
    pub member: u32,
    /// Of the shuffled rows.
    pub rows: Batch,
    /// Of the shuffled list rows (`None` without list rows).
    pub list: Option<Batch>,
    /// Of the shuffled pointer rows (`None` without pointer rows).
    pub pointers: Option<Batch>,
}

/// Rounds 3–4 (§7.3, §7.4), 8 and 9 (§7.8): a member's PET blinding shares or decryption
/// shares of one list, as one batch or `None` when there is nothing to share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PetShares {
    /// The member j.
    pub member: u32,
    /// The shares; `None` when no test is blinded.
    pub shares: Option<Batch>,
}

/// Round 3 (§7.3, SN-2): member j's blinding of one sanitation test under a fresh key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanitationTest {
    /// `Z_{j,i} = z_{j,i}·G`, drawn for this test alone.
    pub key: GroupElement,
    /// `(z_{j,i}·Δ_i.α, z_{j,i}·Δ_i.β)` with its proof against `Z_{j,i}`.
    pub shares: Batch,
}

/// Round 3 (§7.4): a member's station tag shares, one batch per station of the package
/// (package order) against its key share `K′_{j,st}`: of the station's shuffled station rows,
/// then of the overrides signed at the station (board order); `None` for a station with
/// neither.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationTagShares {
    /// The member j.
    pub member: u32,
    /// One entry per station, package order.
    pub stations: Vec<Option<Batch>>,
}

/// Round 3 (§7.3): member j's blinding of every sanitation test, one fresh key per test, in
/// the order of the claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanitationBlinding {
    /// The member j.
    pub member: u32,
    /// One per named entry.
    pub tests: Vec<SanitationTest>,
}

/// A compressed Ristretto point that may be the identity: a plaintext the coordinator claims
/// for a malformed entry (a caster chose it; it may be anything). Lowercase hex; decoded
/// canonically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Plain(#[serde(with = "bytes_hex")] pub [u8; 32]);

impl Plain {
    /// The point, `None` for a non-canonical or invalid encoding.
    pub fn point(&self) -> Option<RistrettoPoint> {
        CompressedRistretto(self.0).decompress()
    }
}

/// Round 2 (§7.3): an entry the coordinator names malformed, with the plaintexts it claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// Its board index.
    pub index: u64,
    /// A row's claimed credential X; `None` for a replacement.
    pub credential: Option<Plain>,
    /// A row's claimed tag base V, or a replacement's claimed old tag base.
    pub tag_base: Plain,
}

/// A dummy of a `none` group shown by its blinding: `P = ρ·H` (§7.9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revealed {
    /// Its position among the shuffled rows.
    pub row: u64,
    /// ρ.
    #[serde(with = "scalar_hex")]
    pub rho: Scalar,
}

/// The comparisons of §7.10 with their chunk proofs and the revealed dummies.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionProofs {
    /// The comparisons in canonical order.
    pub comparisons: Vec<Comparison>,
    /// One aggregated range proof per chunk of 64.
    #[serde(with = "proofs_hex")]
    pub proofs: Vec<RangeProof>,
    /// The revealed dummies.
    pub revealed: Vec<Revealed>,
}

/// Round 10 (§7.9), the coordinator's: the selection.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Round10 {
    /// For each chain with at least two pointers (chains by root tag ascending), its pointers in
    /// increasing board index (§7.7).
    pub orders: Vec<Vec<u64>>,
    /// The kept row of each group, exception groups included (root tag ascending), or `None`.
    pub kept: Vec<Option<u64>>,
    /// The comparisons and their proofs.
    pub selection: SelectionProofs,
    /// counted_s (TL-3).
    pub counted: u64,
    /// overridden_s (TL-3).
    pub overridden: u64,
}

/// Round 1 (§7.2): member j's pre-scaled partial decryptions `λ_j·s_j·α` for the coordinator
/// alone, never published, with a proof designated to the coordinator (evidence to nobody
/// else). Zeroized on drop: t of them decrypt every row's credential.
#[derive(Clone, Debug, Zeroize, ZeroizeOnDrop)]
pub struct PrivateShares {
    /// The member j.
    pub member: u32,
    /// Of the X column of every real row.
    pub credentials: Vec<RistrettoPoint>,
    /// Of the V column of every real row: the coordinator groups rows by V as the public will
    /// (§7.2, §7.7).
    pub tag_bases: Vec<RistrettoPoint>,
    /// Of every replacement's `old_tbase`.
    pub old_tag_bases: Vec<RistrettoPoint>,
    /// The proof designated to the coordinator (DV-1 … DV-4) of all of them, in this order;
    /// `None` when there are none.
    #[zeroize(skip)]
    pub proof: Option<DesignatedProof>,
}

/// The published filter transcript of one style (§8): `filter/<style index>.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterTranscript {
    /// [`TRANSCRIPT_VERSION`].
    pub version: String,
    /// The run.
    pub run: u64,
    /// The style id.
    pub style: String,
    /// F, ascending.
    pub filter: Vec<u32>,
    /// The coordinator.
    pub coordinator: u32,
    /// Round 0: every member's keys, F order.
    pub keys: Vec<MemberKeys>,
    /// Round 2: the entries named malformed with their claimed plaintexts, by board index
    /// ascending (§7.3).
    pub malformed: Vec<Claim>,
    /// Round 2: each station's shuffled station rows, package order (`None` for a station with
    /// no row) (§7.4).
    pub stations: Vec<Option<Shuffled>>,
    /// Round 3, F order: the blinding of every named entry's test, a fresh key per test
    /// (§7.3).
    pub sanitation: Vec<SanitationBlinding>,
    /// Round 3, F order: station tag shares of the station rows and the overrides, one batch
    /// per station (§7.4).
    pub station_tags: Vec<StationTagShares>,
    /// Round 4, F order: decryption shares of the blinded sanitation tests (§7.3).
    pub sanitation_decryptions: Vec<PetShares>,
    /// Round 4, F order: decryption shares of the combined station tag ciphertexts (§7.4).
    pub station_tag_decryptions: Vec<PetShares>,
    /// Round 5; `None` exactly when no row survives rounds 2–4 (then rounds 5–10 are empty:
    /// nothing is counted).
    pub shuffles: Option<Round5>,
    /// Round 6, F order.
    pub tags: Vec<TagShares>,
    /// Round 7, F order.
    pub tag_decryptions: Vec<TagShares>,
    /// Round 8, F order.
    pub pet: Vec<PetShares>,
    /// Round 9, F order.
    pub pet_decryptions: Vec<PetShares>,
    /// Round 10; `None` exactly when round 5 is.
    pub selection: Option<Round10>,
}

impl FilterTranscript {
    /// Reads a transcript file strictly (record-format.md: every object refuses unknown fields):
    /// a duplicate key anywhere is refused, and so is a file that is not exactly what its parsed
    /// transcript serializes to (an unknown field in a nested ciphertext or proof, a missing
    /// `null`, a non-canonical encoding). This is what the independent verifier accepts.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice::<NoDuplicateKeys>(bytes).map_err(|e| format!("filter transcript: {e}"))?;
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("filter transcript: {e}"))?;
        let t: Self = serde_json::from_value(value.clone()).map_err(|e| format!("filter transcript: {e}"))?;
        let again = serde_json::to_value(&t).map_err(|e| format!("filter transcript: {e}"))?;
        if again != value {
            return Err("filter transcript: not in its strict form (an unknown field, a missing field or a \
                        non-canonical encoding)"
                .into());
        }
        Ok(t)
    }
}

/// Walks a JSON document and refuses any object with a repeated key (serde_json keeps the last).
struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> Visitor<'de> for NoDuplicateKeys {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self, A::Error> {
        while a.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self, A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = a.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(A::Error::custom(format!("duplicate key {key:?}")));
            }
            a.next_value::<NoDuplicateKeys>()?;
        }
        Ok(self)
    }
}
