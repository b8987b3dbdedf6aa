//! `--html FILE`: the report as one self-contained page for people (a journalist, an observer):
//! the verdict, the results the verifier re-derived, and every check with its failures and their
//! locations. No script, no external resource, every text escaped.
//!
//! The results are shown as verified only when every check held: they are the record's
//! `results`, which the `decryption` check (V16) proves equal to the threshold decryption of the
//! encrypted totals that the `totals` check recomputed from the counted ballots. When any check
//! failed the page says so first and shows no result.

use serde_json::Value;

use crate::report::Report;

/// The order in which the languages of a `Localized` text are shown (then any other, by code).
const LANGUAGES: [&str; 3] = ["ky", "ru", "en"];

/// Renders the page. `record` is the parsed `record.json` when it could be read.
pub fn render(report: &Report, record: Option<&Value>) -> String {
    let manifest = record.and_then(|r| r.pointer("/package/manifest"));
    let title = manifest.map(|m| all_languages(&m["title"])).unwrap_or_default();
    let campaign = manifest.and_then(|m| m["campaign_id"].as_str()).unwrap_or("");
    let passed = report.passed();
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"ky\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    // The verdict comes first, in the tab's title and the heading: the record's own title is
    // shown below it, marked as the record's, so that it cannot pose as the verdict.
    let verdict = if passed {
        "✔ verifies"
    } else if report.pending() {
        "… nothing refused; no result proved yet"
    } else {
        "✘ does NOT verify"
    };
    h.push_str(&format!("<title>{verdict} · Dobush election record</title>"));
    h.push_str(STYLE);
    h.push_str("</head><body><main>\n");
    h.push_str(&format!("<h1>Dobush election record: {verdict}</h1>\n"));
    h.push_str(&format!(
        "<p>title in the record: <bdi class=\"record\">{}</bdi>{}</p>\n",
        esc(&title),
        if campaign.is_empty() {
            String::new()
        } else {
            format!(" · campaign <code><bdi>{}</bdi></code>", esc(campaign))
        }
    ));
    let failed = report.checks.iter().filter(|c| !c.passed).count();
    if passed {
        h.push_str(&format!(
            "<p class=\"verdict pass\" role=\"status\">✔ The record verifies: all {} checks hold.</p>\n",
            report.checks.len()
        ));
    } else {
        h.push_str(&format!(
            "<p class=\"verdict fail\" role=\"alert\">✘ The record does NOT verify: {failed} of {} checks failed. \
             The results below are not shown, because they are not proven.</p>\n",
            report.checks.len()
        ));
    }
    if passed && let (Some(m), Some(r)) = (manifest, record) {
        results(&mut h, m, r);
    }
    checks(&mut h, report);
    h.push_str(&format!(
        "<footer class=\"muted\">dobush-verifier {} · reads {}</footer>\n",
        env!("CARGO_PKG_VERSION"),
        crate::load::VERSION
    ));
    h.push_str("</main></body></html>\n");
    h
}

fn results(h: &mut String, manifest: &Value, record: &Value) {
    let contests = manifest["contests"].as_array().map(Vec::as_slice).unwrap_or_default();
    let results = record["results"].as_array().map(Vec::as_slice).unwrap_or_default();
    h.push_str("<h2>Results (re-derived)</h2>\n");
    for (contest, result) in contests.iter().zip(results) {
        let counts: Vec<u64> = result["counts"].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();
        let ballots = result["ballots"].as_u64().unwrap_or(0);
        // every language's name and the option's id: a name cannot differ between languages
        // unseen (review of the report, F8)
        let mut names: Vec<String> = contest["options"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| format!("{} [{}]", all_languages(&o["name"]), o["id"].as_str().unwrap_or("")))
            .collect();
        if contest["against_all"].as_bool() == Some(true) {
            names.push("Баарына каршы · Против всех · Against all".into());
        }
        if contest["blank_allowed"].as_bool() == Some(true) {
            names.push("Бош · Пустой · Blank".into());
        }
        let total: u64 = counts.iter().sum();
        h.push_str(&format!(
            "<section><h3>{}</h3><p class=\"muted\">{} ballots counted · {} marks</p>\n",
            esc(&all_languages(&contest["title"])),
            ballots,
            total
        ));
        h.push_str("<table><thead><tr><th scope=\"col\">Option</th><th scope=\"col\" class=\"n\">Votes</th>\
                    <th scope=\"col\" class=\"n\">Share of marks</th><th scope=\"col\"><span class=\"sr\">Bar</span></th></tr></thead><tbody>\n");
        for (name, n) in names.iter().zip(&counts) {
            let share = if total == 0 { 0.0 } else { *n as f64 * 100.0 / total as f64 };
            h.push_str(&format!(
                "<tr><th scope=\"row\"><bdi>{}</bdi></th><td class=\"n\">{n}</td><td class=\"n\">{share:.1} %</td>\
                 <td class=\"bar\"><svg viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" aria-hidden=\"true\">\
                 <rect width=\"{share:.2}\" height=\"10\"/></svg></td></tr>\n",
                esc(name)
            ));
        }
        h.push_str("</tbody></table></section>\n");
    }
}

fn checks(h: &mut String, report: &Report) {
    h.push_str("<h2>Checks</h2>\n<table class=\"checks\"><thead><tr><th scope=\"col\">Id</th><th scope=\"col\">Check</th>\
                <th scope=\"col\">What it verifies</th><th scope=\"col\" class=\"n\">Items</th><th scope=\"col\">Result</th></tr></thead><tbody>\n");
    for c in &report.checks {
        h.push_str(&format!(
            "<tr class=\"{}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
            if c.passed { "pass" } else { "fail" },
            esc(c.id),
            esc(c.name),
            esc(c.description),
            c.count,
            if c.passed { "✔ holds" } else { "✘ FAILS" }
        ));
        if !c.failures.is_empty() || !c.notes.is_empty() {
            h.push_str("<tr><td></td><td colspan=\"4\"><ul>");
            for f in &c.failures {
                h.push_str(&format!("<li class=\"failure\">{}</li>", esc(f)));
            }
            if c.failure_count > c.failures.len() as u64 {
                h.push_str(&format!("<li>… and {} more</li>", c.failure_count - c.failures.len() as u64));
            }
            for n in &c.notes {
                h.push_str(&format!("<li class=\"muted\">{}</li>", esc(n)));
            }
            h.push_str("</ul></td></tr>\n");
        }
    }
    h.push_str("</tbody></table>\n");
}

/// Every text of a `Localized` value, the languages of [`LANGUAGES`] first, joined by ` · `.
fn all_languages(v: &Value) -> String {
    let Some(o) = v.as_object() else { return String::new() };
    let mut keys: Vec<&String> = o.keys().collect();
    keys.sort_by_key(|k| (LANGUAGES.iter().position(|l| l == k).unwrap_or(LANGUAGES.len()), (*k).clone()));
    keys.iter().filter_map(|k| o.get(*k).and_then(Value::as_str)).collect::<Vec<_>>().join(" · ")
}

/// HTML escaping of text and attribute values; control, bidirectional and invisible format
/// characters are written as `\u{…}` (as in the text report) so that no name reorders the page.
fn esc(s: &str) -> String {
    let s = crate::report::printable(s);
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "<style>\
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#111;background:#fff}\
main{max-width:60rem;margin:0 auto;padding:1rem}\
h1{font-size:1.5rem}.muted{color:#555}\
.verdict{padding:.75rem 1rem;border-radius:.5rem;font-weight:600}\
.verdict.pass{background:#e6f4ea;color:#0b5d1e}.verdict.fail{background:#fde8e8;color:#8a1111}\
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}\
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top;overflow-wrap:break-word}li{overflow-wrap:anywhere}\
td.n,th.n{text-align:right}td.n{white-space:nowrap}td.bar{width:25%;min-width:3rem}svg{width:100%;height:.8rem}rect{fill:#1f5fa8}\
tr.fail td{background:#fff3f3}li.failure{color:#8a1111}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}\
@media (max-width:40rem){table.checks td:nth-child(3),table.checks th:nth-child(3){display:none}}\
</style>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<script>\"a\"&'b'</script>"), "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;");
    }

    #[test]
    fn every_language_is_shown_kyrgyz_and_russian_first() {
        let v: Value = serde_json::json!({"en": "Council", "de": "Rat", "ru": "Совет", "ky": "Кеңеш"});
        assert_eq!(all_languages(&v), "Кеңеш · Совет · Council · Rat");
        assert_eq!(all_languages(&Value::Null), "");
    }

    #[test]
    fn control_and_bidi_characters_are_shown_not_obeyed() {
        assert_eq!(esc("A\u{202e}B\u{1b}[2K"), "A\\u{202e}B\\u{1b}[2K");
    }
}
