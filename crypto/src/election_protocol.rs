//! The electronic protocol of a remote/electronic precinct: the legally binding result,
//! with numbered lines, control relations and the commission members' signatures
//! (`docs/protocol/11-election-protocol.md`; regulation seed 004 §44–48).

use ed25519_dalek::Signer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::group::bytes_hex;
use crate::manifest::{Manifest, SelectionKind};
use crate::tally::ContestResult;

/// The protocol's format version.
pub const PROTOCOL_VERSION: &str = "dobush-protocol/2";

/// One numbered line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Line number as printed, e.g. `"1"`, `"7.3"`.
    pub number: String,
    /// Stable key, e.g. `e_voters`, `option:c3`, `against_all`.
    pub key: String,
    /// Caption in Kyrgyz.
    pub ky: String,
    /// Caption in Russian.
    pub ru: String,
    /// The value.
    pub value: u64,
}

/// The lines of one contest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestLines {
    /// Contest id.
    pub contest_id: String,
    /// Lines in order.
    pub lines: Vec<Line>,
}

/// The protocol's content (what members sign).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolBody {
    /// [`PROTOCOL_VERSION`].
    pub version: String,
    /// Campaign id.
    pub campaign_id: String,
    /// Precinct number/id.
    pub precinct: String,
    /// The election's extended context hash.
    #[serde(with = "bytes_hex")]
    pub extended_hash: [u8; 32],
    /// The final tree head's link (10-board.md §Tree heads: SHA-256 of its signed message). It
    /// names the board the result is computed from and, through each head's `previous`, every
    /// head before it: a second chain signed with the board key is not the one members signed.
    #[serde(with = "bytes_hex")]
    pub final_head: [u8; 32],
    /// The digest of the record's decryption shares, in order
    /// ([`crate::threshold::decrypt::shares_digest`], 07-threshold.md §Share list digest): the
    /// members sign the very shares the results come from, so none can be dropped, added or
    /// reordered afterwards.
    #[serde(with = "bytes_hex")]
    pub decryption_shares: [u8; 32],
    /// General lines (voters, ballots).
    pub general: Vec<Line>,
    /// Per contest, in manifest order.
    pub contests: Vec<ContestLines>,
    /// When the protocol was drawn up (ms since the Unix epoch).
    pub drawn_up_ms: u64,
}

/// A commission member's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSignature {
    /// Member's name and role as printed.
    pub member: String,
    /// Ed25519 public key (in production: the member's qualified cloud e-signature certificate).
    #[serde(with = "bytes_hex")]
    pub public_key: [u8; 32],
    /// Signature over the signed digest ([`ProtocolBody::digest`], or
    /// [`crate::record::credential_list_digest`] for the credential list).
    #[serde(with = "bytes_hex")]
    pub signature: [u8; 64],
}

impl MemberSignature {
    /// A member signs a 32-byte digest on their own computer (the key never reaches the server).
    pub fn sign_digest(digest: &[u8; 32], member: &str, key: &ed25519_dalek::SigningKey) -> Self {
        MemberSignature {
            member: member.into(),
            public_key: key.verifying_key().to_bytes(),
            signature: key.sign(digest).to_bytes(),
        }
    }

    /// Verifies the signature over `digest` (Ed25519, strict: RFC 8032 with canonical `S` and no
    /// small-order keys).
    pub fn verify_digest(&self, digest: &[u8; 32]) -> Result<(), SignatureError> {
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&self.public_key)
            .map_err(|_| SignatureError::Key(self.member.clone()))?;
        vk.verify_strict(digest, &ed25519_dalek::Signature::from_bytes(&self.signature))
            .map_err(|_| SignatureError::Invalid(self.member.clone()))
    }
}

/// The signed protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionProtocol {
    /// The content.
    pub body: ProtocolBody,
    /// Members' signatures.
    pub signatures: Vec<MemberSignature>,
}

/// Counts that do not come from the decrypted totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turnout {
    /// Voters on the e-voter list (the frozen credential list's count).
    pub e_voters: u64,
    /// Voters who authenticated and opened an e-ballot.
    pub issued: u64,
    /// Ballots counted (one per credential).
    pub counted: u64,
    /// Ballots superseded by a later ballot of the same voter.
    pub superseded: u64,
    /// Ballots checked by voters (Benaloh challenge), never counted.
    pub challenged: u64,
}

/// A control relation that failed, naming the line (§44).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("control relation fails at line {line}: {relation}")]
pub struct ControlError {
    /// The line number.
    pub line: String,
    /// The relation, e.g. `"2 ≥ 3"`.
    pub relation: String,
}

/// Why a signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// Malformed key.
    #[error("malformed public key of {0}")]
    Key(String),
    /// Invalid signature.
    #[error("invalid signature of {0}")]
    Invalid(String),
}

fn line(
    number: impl Into<String>,
    key: impl Into<String>,
    ky: impl Into<String>,
    ru: impl Into<String>,
    value: u64,
) -> Line {
    Line { number: number.into(), key: key.into(), ky: ky.into(), ru: ru.into(), value }
}

impl ProtocolBody {
    /// Draws up the protocol from the turnout counts and the decrypted results.
    #[allow(clippy::too_many_arguments)]
    pub fn draw_up(
        manifest: &Manifest,
        precinct: &str,
        extended_hash: [u8; 32],
        final_head: [u8; 32],
        decryption_shares: [u8; 32],
        turnout: Turnout,
        results: &[ContestResult],
        drawn_up_ms: u64,
    ) -> Self {
        let general = vec![
            line(
                "1",
                "e_voters",
                "Электрондук шайлоочулардын тизмесиндеги шайлоочулардын саны",
                "Число избирателей в списке электронных избирателей",
                turnout.e_voters,
            ),
            line(
                "2",
                "issued",
                "Берилген электрондук бюллетендердин саны",
                "Число выданных электронных бюллетеней",
                turnout.issued,
            ),
            line(
                "3",
                "counted",
                "Эсепке алынган электрондук бюллетендердин саны",
                "Число учтённых электронных бюллетеней",
                turnout.counted,
            ),
            line(
                "4",
                "superseded",
                "Кайра добуш берүү менен алмаштырылган бюллетендердин саны",
                "Число бюллетеней, заменённых повторным голосованием",
                turnout.superseded,
            ),
            line(
                "5",
                "challenged",
                "Шайлоочу текшерген (эсепке алынбаган) бюллетендердин саны",
                "Число бюллетеней, проверенных избирателем (не учитываются)",
                turnout.challenged,
            ),
        ];
        let contests = manifest
            .contests
            .iter()
            .enumerate()
            .map(|(ci, c)| {
                let res = results.iter().find(|r| r.contest_id == c.id);
                let counts = res.map(|r| r.counts.clone()).unwrap_or_default();
                let ballots = res.map_or(0, |r| r.ballots);
                let blank = (0..c.selection_count())
                    .find(|i| c.selection_kind(*i) == Some(SelectionKind::Blank))
                    .and_then(|i| counts.get(i).copied())
                    .unwrap_or(0);
                let n = ci + 6;
                let mut lines = vec![
                    line(
                        format!("{n}.1"),
                        "ballots",
                        "Бул бөлүк боюнча эсепке алынган бюллетендердин саны",
                        "Число учтённых бюллетеней по данному разделу",
                        ballots,
                    ),
                    line(
                        format!("{n}.2"),
                        "valid",
                        "Жарактуу бюллетендердин саны",
                        "Число действительных бюллетеней",
                        ballots.saturating_sub(blank),
                    ),
                    line(
                        format!("{n}.3"),
                        "invalid",
                        "Жараксыз (бош) бюллетендердин саны",
                        "Число недействительных (пустых) бюллетеней",
                        blank,
                    ),
                ];
                let mut k = 4;
                for (i, count) in counts.iter().enumerate() {
                    match c.selection_kind(i) {
                        Some(SelectionKind::Option(o)) => {
                            let opt = &c.options[o.min(c.options.len().saturating_sub(1))];
                            let ky = opt.name.0.get("ky").cloned().unwrap_or_else(|| opt.id.clone());
                            let ru = opt.name.0.get("ru").cloned().unwrap_or_else(|| ky.clone());
                            lines.push(line(format!("{n}.{k}"), format!("option:{}", opt.id), ky, ru, *count));
                            k += 1;
                        }
                        Some(SelectionKind::AgainstAll) => {
                            lines.push(line(format!("{n}.{k}"), "against_all", "Баарына каршы", "Против всех", *count));
                            k += 1;
                        }
                        _ => {}
                    }
                }
                ContestLines { contest_id: c.id.clone(), lines }
            })
            .collect();
        Self {
            version: PROTOCOL_VERSION.into(),
            campaign_id: manifest.campaign_id.clone(),
            precinct: precinct.into(),
            extended_hash,
            final_head,
            decryption_shares,
            general,
            contests,
            drawn_up_ms,
        }
    }

    fn general_value(&self, key: &str) -> Option<&Line> {
        self.general.iter().find(|l| l.key == key)
    }

    /// Checks every control relation; the first failure names its line (§44).
    pub fn check_control_relations(&self, manifest: &Manifest) -> Result<(), ControlError> {
        let fail = |l: &Line, rel: &str| Err(ControlError { line: l.number.clone(), relation: rel.into() });
        let (Some(l1), Some(l2), Some(l3)) =
            (self.general_value("e_voters"), self.general_value("issued"), self.general_value("counted"))
        else {
            return Err(ControlError { line: "1–3".into(), relation: "lines 1, 2 and 3 must exist".into() });
        };
        if l2.value > l1.value {
            return fail(l2, "line 1 ≥ line 2 (no more ballots issued than e-voters)");
        }
        if l3.value > l2.value {
            return fail(l3, "line 2 ≥ line 3 (no more ballots counted than issued)");
        }
        if self.contests.len() != manifest.contests.len() {
            return Err(ControlError { line: "6".into(), relation: "one section per contest".into() });
        }
        for (cl, c) in self.contests.iter().zip(&manifest.contests) {
            let get = |key: &str| cl.lines.iter().find(|l| l.key == key);
            let (Some(b), Some(v), Some(i)) = (get("ballots"), get("valid"), get("invalid")) else {
                return Err(ControlError {
                    line: cl.contest_id.clone(),
                    relation: "lines ballots/valid/invalid must exist".into(),
                });
            };
            if b.value > l3.value {
                return fail(b, "a contest's ballots ≤ line 3");
            }
            // checked sums: a published body's values are input (wrapping could satisfy a relation)
            if v.value.checked_add(i.value) != Some(b.value) {
                return fail(v, "valid + invalid = ballots");
            }
            let marks = cl
                .lines
                .iter()
                .filter(|l| l.key.starts_with("option:") || l.key == "against_all")
                .try_fold(0u64, |sum, l| sum.checked_add(l.value));
            let Some(marks) = marks else {
                return fail(v, "Σ options + against all fits in 64 bits");
            };
            if c.max_marks == 1 && marks != v.value {
                return fail(v, "valid = Σ options + against all (one-mark contest)");
            }
            if marks > v.value.saturating_mul(u64::from(c.max_marks)) {
                return fail(v, "Σ marks ≤ max marks × valid");
            }
            if !c.blank_allowed && i.value != 0 {
                return fail(i, "no blank ballots where the contest does not allow them");
            }
        }
        Ok(())
    }

    /// The digest members sign: SHA-256 of `"dobush/v1/protocol" ‖` the body's canonical JSON
    /// (object keys sorted by their UTF-8 bytes at every level, no whitespace, serde_json's
    /// string escaping), so that anyone can recompute it from the published JSON.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(crate::labels::PROTOCOL_DIGEST);
        let v = serde_json::to_value(self).unwrap_or_default();
        let mut out = String::new();
        canonical_json(&v, &mut out);
        h.update(out.as_bytes());
        h.finalize().into()
    }
}

/// Writes `v` as canonical JSON: keys sorted by bytes, no whitespace.
pub fn canonical_json(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                if let Some(x) = m.get(*k) {
                    canonical_json(x, out);
                }
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

impl ElectionProtocol {
    /// A member signs on their own computer (the key never reaches the server).
    pub fn sign(body: &ProtocolBody, member: &str, key: &ed25519_dalek::SigningKey) -> MemberSignature {
        MemberSignature::sign_digest(&body.digest(), member, key)
    }

    /// Verifies every signature (strictly).
    pub fn verify_signatures(&self) -> Result<(), SignatureError> {
        let d = self.body.digest();
        self.signatures.iter().try_for_each(|s| s.verify_digest(&d))
    }
}
