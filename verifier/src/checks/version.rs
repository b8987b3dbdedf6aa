//! V02 `version` (`docs/record-format.md` §Verifier checklist, item 1; §Election record):
//! `record.json` is JSON and its `version` is the one this verifier reads ([`VERSION`]), and it has
//! no field other than [`RECORD_FIELDS`]. Nothing else is checked in a record of another version.

use serde_json::Value;

use crate::checks::Check;
use crate::encoding::exact;
use crate::load::{RECORD_FIELDS, VERSION};
use crate::report::Running;

/// How it runs: `record.json` in; the record out when it is of the known version.
pub type Run = fn(&str, &mut Running) -> Option<Value>;

/// The check.
pub const CHECK: Check<Run> =
    Check { id: "V02", name: "version", description: "record version is known, no unknown field", run };

fn run(record_json: &str, c: &mut Running) -> Option<Value> {
    let rec: Value = match crate::json::parse_str(record_json) {
        Ok(v) => v,
        Err(e) => {
            c.fail(format!("record.json is not JSON: {e}"));
            return None;
        }
    };
    let version = rec.get("version").and_then(Value::as_str).unwrap_or("");
    c.items(1);
    c.require(version == VERSION, || format!("unknown record version {version:?}; this verifier reads {VERSION:?}"));
    if version != VERSION {
        return None;
    }
    if let Err(e) = exact(&rec, RECORD_FIELDS, "record.json") {
        c.fail(e.0);
    }
    Some(rec)
}
