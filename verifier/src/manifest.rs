//! The manifest and the two context hashes (`08-ballot.md` §Manifest, §Manifest hash;
//! `02-transcripts.md` §Context), recomputed from the record.

use std::collections::{BTreeMap, HashSet};

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use merlin::Transcript;
use serde_json::Value;
use sha2::Sha512;

use crate::encoding::{Decoded, Invalid, Point, array, boolean, exact, field, string, uint};
use crate::transcript;

/// The Pedersen generator `H`, re-derived from its published label.
pub fn generator_h() -> RistrettoPoint {
    RistrettoPoint::hash_from_bytes::<Sha512>(b"dobush/v1/generator/H")
}

/// A contest as the verifier needs it.
#[derive(Clone, Debug)]
pub struct Contest {
    /// Contest id.
    pub id: String,
    /// Number of options (candidates, lists, answers).
    pub options: usize,
    /// Option ids.
    pub option_ids: Vec<String>,
    /// Minimum marks.
    pub min: u64,
    /// Maximum marks.
    pub max: u64,
    /// Has "against all".
    pub against_all: bool,
    /// Allows a blank ballot.
    pub blank: bool,
}

impl Contest {
    /// Selections: options, then against-all, then blank.
    pub fn selections(&self) -> usize {
        self.options + usize::from(self.against_all) + usize::from(self.blank)
    }
    /// Weight `1` for options, `n + 1` for exclusive selections.
    pub fn weight(&self, i: usize) -> u64 {
        if i < self.options { 1 } else { self.options as u64 + 1 }
    }
    /// Allowed weighted sums: `min..=max`, then `n + 1` if there is an exclusive selection.
    pub fn allowed(&self) -> Vec<u64> {
        let mut v: Vec<u64> = (self.min..=self.max).collect();
        if self.against_all || self.blank {
            v.push(self.options as u64 + 1);
        }
        v
    }
}

/// The fields of the manifest (record-format.md §Manifest); any other is refused.
pub const MANIFEST_FIELDS: &[&str] = &["campaign_id", "title", "contests", "ballot_styles"];
/// The fields of a contest.
pub const CONTEST_FIELDS: &[&str] =
    &["id", "title", "options", "min_marks", "max_marks", "against_all", "blank_allowed"];
/// The fields of an option (`details` may be absent).
pub const OPTION_FIELDS: &[&str] = &["id", "name", "details"];
/// The fields of a ballot style.
pub const STYLE_FIELDS: &[&str] = &["id", "contests"];

/// The parsed manifest.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// Campaign id.
    pub campaign_id: String,
    /// Contests in manifest order.
    pub contests: Vec<Contest>,
    /// Ballot styles: id → contest indexes.
    pub styles: BTreeMap<String, Vec<usize>>,
    /// The ballot styles' ids in manifest order: a style's position here names its filter
    /// transcript file (`filter/<i>.json`, record-format.md §Election record).
    pub style_order: Vec<String>,
    /// The recomputed manifest hash.
    pub hash: [u8; 32],
}

fn append_localized(t: &mut Transcript, v: &Value, what: &str) -> Decoded<()> {
    let obj = v.as_object().ok_or_else(|| Invalid(format!("{what}: expected an object of texts")))?;
    // Keys in byte order (BTreeMap order of the spec).
    let mut items: Vec<(&String, &Value)> = obj.iter().collect();
    items.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    t.append_u64(b"texts", items.len() as u64);
    for (lang, text) in items {
        let text = text.as_str().ok_or_else(|| Invalid(format!("{what}: text must be a string")))?;
        t.append_message(b"lang", lang.as_bytes());
        t.append_message(b"text", text.as_bytes());
    }
    Ok(())
}

/// Parses the manifest, checks its structure and recomputes its hash.
pub fn parse(v: &Value) -> Decoded<Manifest> {
    let what = "manifest";
    exact(v, MANIFEST_FIELDS, what)?;
    let campaign_id = string(v, "campaign_id", what)?;
    let mut t = transcript::new(b"manifest");
    t.append_message(b"campaign", campaign_id.as_bytes());
    append_localized(&mut t, field(v, "title", what)?, "manifest title")?;
    let contests_v = array(v, "contests", what)?;
    t.append_u64(b"contests", contests_v.len() as u64);
    let mut contests = Vec::new();
    let mut ids = HashSet::new();
    for (ci, c) in contests_v.iter().enumerate() {
        exact(c, CONTEST_FIELDS, &format!("manifest.contests[{ci}]"))?;
        let id = string(c, "id", "contest")?;
        let what = format!("contest {id:?}");
        t.append_message(b"contest-id", id.as_bytes());
        append_localized(&mut t, field(c, "title", &what)?, &what)?;
        let (min, max) = (uint(c, "min_marks", &what)?, uint(c, "max_marks", &what)?);
        let (aa, blank) = (boolean(c, "against_all", &what)?, boolean(c, "blank_allowed", &what)?);
        t.append_u64(b"min", min);
        t.append_u64(b"max", max);
        t.append_u64(b"against-all", u64::from(aa));
        t.append_u64(b"blank-allowed", u64::from(blank));
        let opts = array(c, "options", &what)?;
        t.append_u64(b"options", opts.len() as u64);
        let mut option_ids = Vec::new();
        for (oi, o) in opts.iter().enumerate() {
            exact(o, OPTION_FIELDS, &format!("manifest.contests[{ci}].options[{oi}]"))?;
            let oid = string(o, "id", &what)?;
            t.append_message(b"option-id", oid.as_bytes());
            append_localized(&mut t, field(o, "name", &what)?, &what)?;
            // `details` defaults to an empty text map.
            let empty = Value::Object(Default::default());
            append_localized(&mut t, o.get("details").unwrap_or(&empty), &what)?;
            option_ids.push(oid);
        }
        let contest = Contest { id: id.clone(), options: opts.len(), option_ids, min, max, against_all: aa, blank };
        let distinct: HashSet<&String> = contest.option_ids.iter().collect();
        if id.is_empty()
            || !ids.insert(id.clone())
            || opts.is_empty()
            || min < 1
            || min > max
            || max as usize > opts.len()
            || distinct.len() != opts.len()
            || (contest.allowed().len() > 16 && (aa || blank))
        {
            return Err(Invalid(format!("{what}: violates the manifest rules of 08-ballot.md §Manifest")));
        }
        contests.push(contest);
    }
    let styles_v = array(v, "ballot_styles", what)?;
    t.append_u64(b"styles", styles_v.len() as u64);
    let mut styles = BTreeMap::new();
    let mut style_order = Vec::with_capacity(styles_v.len());
    for (si, s) in styles_v.iter().enumerate() {
        exact(s, STYLE_FIELDS, &format!("manifest.ballot_styles[{si}]"))?;
        let sid = string(s, "id", "ballot style")?;
        let list = array(s, "contests", "ballot style")?;
        t.append_message(b"style-id", sid.as_bytes());
        t.append_u64(b"style-contests", list.len() as u64);
        let mut idx = Vec::new();
        for c in list {
            let cid = c.as_str().ok_or_else(|| Invalid(format!("style {sid:?}: contest ids must be strings")))?;
            t.append_message(b"contest-id", cid.as_bytes());
            let i = contests
                .iter()
                .position(|k| k.id == cid)
                .ok_or_else(|| Invalid(format!("style {sid:?}: unknown contest {cid:?}")))?;
            if idx.contains(&i) {
                return Err(Invalid(format!("style {sid:?}: contest {cid:?} twice")));
            }
            idx.push(i);
        }
        if idx.is_empty() || styles.insert(sid.clone(), idx).is_some() {
            return Err(Invalid(format!("ballot style {sid:?}: empty or duplicate")));
        }
        style_order.push(sid);
    }
    if contests.is_empty() || styles.is_empty() {
        return Err(Invalid("manifest: needs contests and ballot styles".into()));
    }
    let hash = transcript::hash32(&mut t, b"manifest-hash");
    Ok(Manifest { campaign_id, contests, styles, style_order, hash })
}

/// The base context hash from the campaign id, threshold and key-holders' (signing, comm) keys.
pub fn base_hash(campaign_id: &str, threshold: u64, holders: &[(Point, Point)]) -> [u8; 32] {
    let mut t = transcript::new(b"base-context");
    t.append_message(b"version", b"dobush/1");
    t.append_message(b"group", b"ristretto255");
    t.append_message(b"G", RISTRETTO_BASEPOINT_POINT.compress().as_bytes());
    t.append_message(b"H", generator_h().compress().as_bytes());
    t.append_message(b"campaign", campaign_id.as_bytes());
    t.append_u64(b"n", holders.len() as u64);
    t.append_u64(b"t", threshold);
    for (i, (s, c)) in holders.iter().enumerate() {
        t.append_u64(b"key-holder", i as u64 + 1);
        t.append_message(b"signing-key", &s.bytes);
        t.append_message(b"comm-key", &c.bytes);
    }
    transcript::hash32(&mut t, b"base-hash")
}

/// The extended context hash.
pub fn extended_hash(
    base: &[u8; 32],
    joint_key: &Point,
    manifest_hash: &[u8; 32],
    commission_hash: &[u8; 32],
    parameters_hash: &[u8; 32],
) -> [u8; 32] {
    let mut t = transcript::new(b"extended-context");
    t.append_message(b"base-hash", base);
    t.append_message(b"joint-key", &joint_key.bytes);
    t.append_message(b"manifest-hash", manifest_hash);
    t.append_message(b"commission-hash", commission_hash);
    t.append_message(b"parameters-hash", parameters_hash);
    transcript::hash32(&mut t, b"extended-hash")
}
