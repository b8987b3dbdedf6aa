//! `check-commission`: a member checks their own line of the commission section before it is
//! confirmed and after it is pinned (`docs/protocol/14-commission.md` §Member fingerprints,
//! review 14-commission C1 and M5). The tool recomputes the section's hash and every member's
//! fingerprint itself, prints them for the comparison with the commission's written decision,
//! and refuses unless this keystore's member key is in the section under the member's own name
//! and role, and unless the section has as many members as the written decision (so that no
//! impostor stands beside the real members). With an installed package it requires the package
//! fingerprint the commission published on paper and refuses a package that differs.

use anyhow::{Context, Result};
use dobush_crypto::commission::{Commission, SigningIdentity};
use dobush_crypto::record::ElectionPackage;
use serde::Deserialize;

use crate::Refused;
use crate::transport::Api;

/// The section to check, where it came from, and the package that pins it (if installed).
pub struct Section {
    /// The commission section.
    pub commission: Commission,
    /// "proposed", "confirmed" or "pinned in the election package".
    pub status: &'static str,
    /// The installed package whose extended hash binds the section.
    pub package: Option<ElectionPackage>,
}

/// What the member asked to be checked.
pub struct Claim<'a> {
    /// This keystore's Ed25519 member key.
    pub member_key: [u8; 32],
    /// The member's name as on the commission's decision.
    pub name: &'a str,
    /// The member's role.
    pub role: &'a str,
    /// The number of members on the commission's written decision: a section with one more
    /// (an impostor beside every real member) is refused.
    pub members: usize,
    /// The election package fingerprint the commission published, if the member has it.
    pub package_fingerprint: Option<&'a str>,
}

/// Reads an election package from a file: the section is the one it pins.
pub fn from_package_text(text: &str) -> Result<Section> {
    let package: ElectionPackage = serde_json::from_str(text).context("the file is not an election package")?;
    package.context().map_err(|e| Refused(format!("the election package: {e}")))?;
    Ok(Section {
        commission: package.commission.clone(),
        status: "pinned in the election package",
        package: Some(package),
    })
}

/// `GET /api/v1/campaigns/{id}/commission`, and the package once it is pinned
/// (`GET …/package`): the section shown must be the package's, and the hash the server shows
/// must be the one recomputed here.
pub fn from_server(api: &Api, campaign: &str) -> Result<Section> {
    #[derive(Deserialize)]
    struct Shown {
        commission: Commission,
        commission_hash: String,
        confirmed: bool,
        pinned: bool,
    }
    let text = api
        .get_text(&format!("/api/v1/campaigns/{campaign}/commission"))
        .context("cannot download the commission section")?;
    let shown: Shown = serde_json::from_str(&text).context("the server's answer is not a commission section")?;
    if shown.commission_hash != hex::encode(shown.commission.hash()) {
        return Err(Refused(format!(
            "the server shows commission hash {} for a section whose hash is {}",
            shown.commission_hash,
            hex::encode(shown.commission.hash())
        ))
        .into());
    }
    if !shown.pinned {
        let status = if shown.confirmed { "confirmed" } else { "proposed" };
        return Ok(Section { commission: shown.commission, status, package: None });
    }
    let section = from_package_text(
        &api.get_text(&format!("/api/v1/campaigns/{campaign}/package"))
            .context("cannot download the election package")?,
    )?;
    if section.commission != shown.commission {
        return Err(Refused("the server shows another commission than the one its election package pins".into()).into());
    }
    if section.package.as_ref().is_some_and(|p| p.manifest.campaign_id != campaign) {
        return Err(Refused(format!("the server's election package is not of campaign {campaign:?}")).into());
    }
    Ok(section)
}

/// Checks `claim` against `section`; returns the lines to print, or refuses.
pub fn check(section: &Section, claim: &Claim<'_>) -> Result<Vec<String>> {
    let c = &section.commission;
    c.validate().map_err(|e| Refused(format!("the commission section is not valid: {e}")))?;
    if c.members.len() != claim.members {
        return Err(Refused(format!(
            "the section has {} members, the commission's decision {}: do not confirm it",
            c.members.len(),
            claim.members
        ))
        .into());
    }
    let mut out = vec![format!("commission ({}), {} members:", section.status, c.members.len())];
    for (i, m) in c.members.iter().enumerate() {
        out.push(format!("  {}. {} ({}), fingerprint {}", i + 1, m.name, m.role, m.identity.fingerprint()));
    }
    out.push(format!(
        "quorum: credential list {}, replacement {}, protocol {} of {}",
        c.quorum.credential_list,
        c.quorum.replacement,
        c.quorum.protocol,
        c.members.len()
    ));
    out.push(format!("commission hash: {}", hex::encode(c.hash())));
    match (&section.package, claim.package_fingerprint) {
        (Some(p), None) => {
            let fp = p.fingerprint().map_err(|e| Refused(format!("the election package: {e}")))?;
            return Err(Refused(format!(
                "the commission is pinned in an election package (fingerprint {fp}): give --package-fingerprint, the one the commission published, to check it is that package"
            ))
            .into());
        }
        (Some(p), given) => {
            let fp = p.fingerprint().map_err(|e| Refused(format!("the election package: {e}")))?;
            if let Some(g) = given.filter(|g| !g.eq_ignore_ascii_case(&fp)) {
                return Err(Refused(format!(
                    "the election package's fingerprint is {fp}, not the commission's published {g}: this is not the package the commission approved"
                ))
                .into());
            }
            out.push(format!("election package fingerprint: {fp}"));
        }
        (None, Some(_)) => {
            return Err(Refused(
                "no election package is installed yet: its fingerprint cannot be compared (check the section now, the package later)"
                    .into(),
            )
            .into());
        }
        (None, None) => {}
    }
    let mine = SigningIdentity::Ed25519 { key: claim.member_key };
    let Some((i, m)) = c.members.iter().enumerate().find(|(_, m)| m.identity == mine) else {
        return Err(Refused(format!(
            "this keystore's member key (fingerprint {}) is not in the commission section: do not confirm it",
            mine.fingerprint()
        ))
        .into());
    };
    if m.name != claim.name || m.role != claim.role {
        return Err(Refused(format!(
            "this keystore's member key is listed as member {} \"{}\" ({}), not \"{}\" ({}): do not confirm it",
            i + 1,
            m.name,
            m.role,
            claim.name,
            claim.role
        ))
        .into());
    }
    out.push(format!(
        "your key (fingerprint {}) is member {}: {} ({}). Compare every line above with the commission's written decision",
        mine.fingerprint(),
        i + 1,
        m.name,
        m.role
    ));
    Ok(out)
}
