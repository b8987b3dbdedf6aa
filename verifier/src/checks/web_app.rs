//! V06 `web app` (`docs/record-format.md` §Verifier checklist, item 5; §Board; `10-board.md`
//! §The served web app): the `web_assets` entry is well-formed and each asset is reported, so that
//! anyone can compare the hashes with the bytes they are served. Never counted.

use serde_json::Value;

use crate::checks::{Check, Step};
use crate::findings::Findings;
use crate::load::Entry;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V06",
    name: "web app",
    description: "the served web app's asset hashes (web_assets): well-formed, reported",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    web_assets(&f.entries, c);
}

/// The `web_assets` entry (at most one, before `opened`): `assets` is a non-empty list of
/// `[path, integrity]` with distinct absolute paths and SHA-384 Subresource-Integrity strings
/// (`sha384-` and the 64-character base64 of 48 bytes). Each asset is reported as a note.
fn web_assets(entries: &[Entry], c: &mut Running) {
    let found: Vec<&Entry> = entries.iter().filter(|e| e.kind == "web_assets").collect();
    c.require(found.len() <= 1, || format!("{} web_assets entries; at most one is posted, at opening", found.len()));
    let opened = entries.iter().position(|e| e.kind == "opened").unwrap_or(usize::MAX);
    for e in found {
        c.require(e.index < opened, || format!("entry {}: web_assets after voting opened", e.index));
        let Some(obj) = e.v.as_object() else { continue };
        c.require(obj.len() == 2, || format!("entry {}: web_assets has fields other than type and assets", e.index));
        let Some(list) = obj.get("assets").and_then(Value::as_array).filter(|l| !l.is_empty()) else {
            c.fail(format!("entry {}: web_assets.assets must be a non-empty list", e.index));
            continue;
        };
        let mut paths = std::collections::HashSet::new();
        for (i, a) in list.iter().enumerate() {
            c.items(1);
            let pair = a.as_array().filter(|p| p.len() == 2).and_then(|p| Some((p[0].as_str()?, p[1].as_str()?)));
            let Some((path, integrity)) = pair else {
                c.fail(format!("entry {}: web_assets.assets[{i}] must be [path, integrity] (two strings)", e.index));
                continue;
            };
            c.require(path.starts_with('/'), || {
                format!("entry {}: web_assets.assets[{i}]: path {path:?} is not absolute", e.index)
            });
            c.require(paths.insert(path), || {
                format!("entry {}: web_assets.assets[{i}]: path {path:?} listed twice", e.index)
            });
            let b64 = integrity.strip_prefix("sha384-").unwrap_or("");
            let well_formed =
                b64.len() == 64 && b64.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
            c.require(well_formed, || {
                format!(
                    "entry {}: web_assets.assets[{i}]: integrity {integrity:?} is not sha384- and 64 base64 characters",
                    e.index
                )
            });
            c.note(format!("{path} {integrity}"));
        }
    }
}
