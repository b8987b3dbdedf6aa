//! V22 `filter` (`13-revoting.md` §6.9; `docs/record-format.md` §Filter transcript): every style's
//! filter transcript, rounds 0–10, checked against the inputs recomputed from the board up to the
//! input head (§5; [`crate::filtered::style_inputs`]) by [`crate::filter::run::check_transcript`].
//! Per style with a `ballot_v2` entry its `filtered` entries are checked in board order until one
//! verifies: that one **counts** (§6.8; V20 reports which, and the entries it ignores). Runs
//! before V20, which reads what it found. Each failure is located by style, board index, round
//! and place.

use crate::checks::{Check, Step};
use crate::filter::run::check_transcript;
use crate::filtered::{self, FilterFindings, StyleFilter};
use crate::findings::Findings;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V22",
    name: "filter",
    description: "each style's filter transcript (rounds 0–10) against the rows recomputed from the board",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    if !f.ctx.parameters.is_v2() {
        c.note("a v1 campaign: no filter");
        return;
    }
    if !f.entries.iter().any(|e| e.kind == filtered::KIND) {
        c.note("no `filtered` entry: the filter has not run (V20)");
        return;
    }
    let binding = filtered::bind(&f.entries, f.filter_files, &f.ctx.election.manifest, &f.heads);
    let mut styles = Vec::new();
    'check: {
        let Some(head) = binding.input_head else {
            c.fail("no input head (V20): the filter's inputs cannot be recomputed");
            break 'check;
        };
        let Some(ceremony) = &f.ceremony else {
            c.fail("the ceremony's verification keys are not known (V15): no transcript can be checked");
            break 'check;
        };
        let rows = match filtered::board_rows(&f.entries, head) {
            Ok(r) => r,
            Err(bad) => {
                for b in bad {
                    c.fail(format!("{b}: no style's filter inputs can be recomputed"));
                }
                break 'check;
            }
        };
        let empty = filtered::StyleRows::default();
        for style in &f.ctx.election.manifest.style_order {
            let rows = rows.get(style).unwrap_or(&empty);
            let mut s =
                StyleFilter { style: style.clone(), ballots: rows.ballots.len(), failed: Vec::new(), counting: None };
            if s.ballots > 0 {
                for b in binding.entries.iter().filter(|b| &b.style == style) {
                    let at = format!("style {style:?}, entry {}", b.index);
                    let outcome = match &b.transcript {
                        None => Err("its transcript file is not bound (V20)".to_owned()),
                        Some(Err(e)) => Err(e.to_string()),
                        Some(Ok(v)) => {
                            c.items(1);
                            let run = v.get("run").and_then(serde_json::Value::as_u64).unwrap_or(0);
                            filtered::style_inputs(&f.ctx, &ceremony.verification_keys, style, rows, run)
                                .and_then(|inputs| check_transcript(&inputs, v).map_err(|e| e.to_string()))
                        }
                    };
                    match outcome {
                        Ok(o) => {
                            c.note(format!(
                                "{at}: counted {}, overridden {}, in {} groups; {} entries named malformed{}{}",
                                o.counted,
                                o.overridden,
                                o.groups,
                                o.malformed.len(),
                                listed(" (board indices ", &o.malformed.iter().map(|m| m.index).collect::<Vec<_>>()),
                                listed("; exception groups of ", &o.exceptions),
                            ));
                            s.counting = Some((b.index, o));
                            break;
                        }
                        Err(why) => s.failed.push((b.index, format!("{at}: {why}"))),
                    }
                }
                match &s.counting {
                    // a failing entry before the counting one is a finding, ignored (§6.8)
                    Some((j, _)) => {
                        for (_, why) in &s.failed {
                            c.note(format!("finding: {why}; ignored, entry {j} counts (V20)"));
                        }
                    }
                    None => {
                        for (_, why) in &s.failed {
                            c.fail(why.clone());
                        }
                    }
                }
            }
            styles.push(s);
        }
    }
    f.filter = Some(FilterFindings { binding, styles });
}

/// `" (board indices 3, 7)"` for a non-empty list, nothing for an empty one.
fn listed<T: std::fmt::Display>(prefix: &str, items: &[T]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let items: Vec<String> = items.iter().map(ToString::to_string).collect();
    format!("{prefix}{}{}", items.join(", "), if prefix.contains('(') { ")" } else { "" })
}
