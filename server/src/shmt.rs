//! The signed protocol for the State election information system (ШМТ) and on paper
//! (docs/protocol/11-election-protocol.md; regulation seed 004 §46–49):
//!
//! * [`export`]: the ШМТ export, `docs/shmt-export.md` — one JSON document per precinct, signed
//!   by the board key (`dobush_crypto::shmt`). Public once the campaign is `protocol_signed`;
//!   409 `protocol_not_signed` before.
//! * [`printable`]: the control printout (§46–48) in Kyrgyz or Russian — self-contained HTML
//!   (inline print CSS, no script, no external resource), three copies each marked with its
//!   number and destination, the date and time of entry into the system and of printing
//!   (Bishkek time), the numbered lines, the members and whether each has signed. Public once a
//!   protocol is saved; 409 `no_protocol` before.
//!
//! One board and one tally per campaign: the protocol covers the campaign's electronic (or
//! remote) precincts, and its `precinct` is their codes joined by `+`
//! (`crate::election_protocol::precinct_label`). `?precinct=` accepts that code or any code it joins.

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use dobush_crypto::board::BoardKey;
use dobush_crypto::election_protocol::ElectionProtocol;
use dobush_crypto::manifest::Manifest;
use dobush_crypto::shmt::{ShmtCampaign, ShmtExport, ShmtPrecinct};

use crate::db::AnyConnection;
use crate::domain::CampaignState;
use crate::error::ApiError;
use crate::models::{CampaignRow, load_campaign, load_precincts};
use crate::schema::protocols;

/// The saved protocol of a campaign with what the export and the printout show.
struct Located {
    campaign: CampaignRow,
    protocol: ElectionProtocol,
    precinct: ShmtPrecinct,
    codes: Vec<String>,
    revision: i64,
    saved_at: i64,
    decision: Option<String>,
}

/// The distinct values, in order, joined by ` + ` (a protocol covering several precincts).
fn join_distinct<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out.join(" + ")
}

fn locate(c: &mut AnyConnection, campaign: &str, precinct: Option<&str>) -> Result<Located, ApiError> {
    let row = load_campaign(c, campaign)?;
    let Some(protocol) = crate::election_protocol::signed_protocol(c, campaign)? else {
        return Err(ApiError::conflict(
            "no_protocol",
            "no protocol is saved yet: it is drawn up, checked and saved after the tally",
        ));
    };
    let codes: Vec<String> = protocol.body.precinct.split('+').map(str::to_string).collect();
    if let Some(p) = precinct.filter(|p| *p != protocol.body.precinct && !codes.iter().any(|c| c == p)) {
        return Err(ApiError::NotFound(format!(
            "no protocol of precinct {p} in this campaign (its protocol is {})",
            protocol.body.precinct
        )));
    }
    let rows: Vec<_> = load_precincts(c, campaign)?.into_iter().filter(|p| codes.contains(&p.code)).collect();
    let precinct = ShmtPrecinct {
        code: protocol.body.precinct.clone(),
        name: join_distinct(rows.iter().map(|p| p.name.as_str())),
        kind: rows.first().map_or_else(|| "electronic".into(), |p| p.kind.clone()),
        territory: join_distinct(rows.iter().map(|p| p.territory.as_str())),
    };
    let (revision, saved_at, decision): (i64, i64, Option<String>) = protocols::table
        .filter(protocols::campaign_id.eq(campaign))
        .select((protocols::revision, protocols::saved_at, protocols::decision))
        .first(c)?;
    Ok(Located { campaign: row, protocol, precinct, codes, revision, saved_at, decision })
}

/// The ШМТ export of the campaign's signed protocol, signed by the board key at `now`.
pub fn export(
    c: &mut AnyConnection,
    key: &BoardKey,
    campaign: &str,
    precinct: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ShmtExport, ApiError> {
    let st = load_campaign(c, campaign)?.state()?;
    if st != CampaignState::ProtocolSigned {
        return Err(ApiError::conflict(
            "protocol_not_signed",
            format!(
                "the ШМТ export is published once the commission members' signatures reach the quorum; the campaign is in state {}",
                st.as_str()
            ),
        ));
    }
    let l = locate(c, campaign, precinct)?;
    let package = crate::package::load_election(c, campaign)?.package;
    if package.board_key != key.public() {
        return Err(ApiError::Unexpected(anyhow::anyhow!(
            "the server's board key is not the election package's board_key: the export cannot be signed"
        )));
    }
    let campaign = ShmtCampaign {
        id: l.campaign.id,
        name: l.campaign.name,
        kind: l.campaign.kind,
        voting_day: l.campaign.voting_day,
    };
    let at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    ShmtExport::build(campaign, l.precinct, &l.protocol, at, crate::clock::millis(now), key)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("shmt export: {e}")))
}

/// Language of the printout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Kyrgyz.
    Ky,
    /// Russian.
    Ru,
}

impl Lang {
    /// `ky` or `ru`; anything else is a 422 on `lang`.
    pub fn parse(s: Option<&str>) -> Result<Self, ApiError> {
        match s.unwrap_or("ky") {
            "ky" => Ok(Lang::Ky),
            "ru" => Ok(Lang::Ru),
            _ => Err(ApiError::invalid("lang", "ky or ru")),
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::Ky => "ky",
            Lang::Ru => "ru",
        }
    }
}

/// The printout's fixed texts; the Kyrgyz ones follow the regulation's wording (seed 004
/// §46–49), the Russian ones are their translation.
struct Texts {
    title: &'static str,
    subtitle: &'static str,
    /// The copy's mark, with `{n}` for its number.
    copy: &'static str,
    destinations: [&'static str; 3],
    campaign: &'static str,
    voting_day: &'static str,
    precinct: &'static str,
    territory: &'static str,
    entered: &'static str,
    printed: &'static str,
    bishkek: &'static str,
    revision: &'static str,
    decision: &'static str,
    number: &'static str,
    line: &'static str,
    value: &'static str,
    general: &'static str,
    digest: &'static str,
    context: &'static str,
    members: &'static str,
    name: &'static str,
    role: &'static str,
    key: &'static str,
    status: &'static str,
    signed: &'static str,
    unsigned: &'static str,
    no_members: &'static str,
    quorum_yes: &'static str,
    quorum_no: &'static str,
    signatures: &'static str,
    signatories: [&'static str; 3],
    signature: &'static str,
    full_name: &'static str,
}

const KY: Texts = Texts {
    title: "Аралыктан добуш берүү шайлоо участогунун электрондук протоколу",
    subtitle: "Киргизилген маалыматтардын контролдук басып чыгаруусу (Жобонун 46–48-пункттары)",
    copy: "{n}-нуска (3 нускадан)",
    destinations: [
        "ОШК/АШКнын системдик администраторунда калат",
        "УШКнын төрагасына өткөрүлүп берилет",
        "Протоколдун оригиналына тиркелип, тиешелүү ОШК/АШКга берилет",
    ],
    campaign: "Шайлоо кампаниясы",
    voting_day: "Добуш берүү күнү",
    precinct: "Шайлоо участогу",
    territory: "Аймак",
    entered: "ШМТга киргизүү датасы жана убактысы",
    printed: "Басып чыгаруу датасы жана убактысы",
    bishkek: "Бишкек убактысы",
    revision: "Протоколдун редакциясы",
    decision: "Кайра киргизүү боюнча БШКнын чечими",
    number: "№",
    line: "Саптын аталышы",
    value: "Саны",
    general: "Жалпы маалыматтар",
    digest: "Протоколдун SHA-256 изи (комиссия мүчөлөрү ага кол коёт)",
    context: "Шайлоонун контекстинин хеши",
    members: "Комиссия мүчөлөрүнүн электрондук кол тамгалары",
    name: "Аты-жөнү",
    role: "Кызматы",
    key: "Ачкыч",
    status: "Абалы",
    signed: "Кол койду",
    unsigned: "Кол коё элек",
    no_members: "Комиссия мүчөлөрү катталган эмес",
    quorum_yes: "Протоколго кол коюлду (кворум бар)",
    quorum_no: "Протоколго али кол коюла элек",
    signatures: "Кол тамгалар (Жобонун 47-пункту)",
    signatories: ["ОШК/АШКнын системдик администратору", "ОШК/АШКнын жооптуу мүчөсү", "УШКнын төрагасы"],
    signature: "кол тамгасы",
    full_name: "аты-жөнү",
};

const RU: Texts = Texts {
    title: "Электронный протокол избирательного участка дистанционного голосования",
    subtitle: "Контрольная распечатка введённых данных (пункты 46–48 Положения)",
    copy: "Экземпляр № {n} (из 3)",
    destinations: [
        "Остаётся у системного администратора ОИК/ТИК",
        "Передаётся председателю УИК",
        "Прилагается к оригиналу протокола и передаётся в соответствующую ОИК/ТИК",
    ],
    campaign: "Избирательная кампания",
    voting_day: "День голосования",
    precinct: "Избирательный участок",
    territory: "Территория",
    entered: "Дата и время ввода в ШМТ",
    printed: "Дата и время распечатки",
    bishkek: "время Бишкека",
    revision: "Редакция протокола",
    decision: "Решение ЦИК о повторном вводе",
    number: "№",
    line: "Наименование строки",
    value: "Число",
    general: "Общие сведения",
    digest: "Хеш SHA-256 протокола (его подписывают члены комиссии)",
    context: "Хеш контекста выборов",
    members: "Электронные подписи членов комиссии",
    name: "ФИО",
    role: "Должность",
    key: "Ключ",
    status: "Статус",
    signed: "Подписал(а)",
    unsigned: "Не подписал(а)",
    no_members: "Члены комиссии не зарегистрированы",
    quorum_yes: "Протокол подписан (кворум есть)",
    quorum_no: "Протокол ещё не подписан",
    signatures: "Подписи (пункт 47 Положения)",
    signatories: ["Системный администратор ОИК/ТИК", "Ответственный член ОИК/ТИК", "Председатель УИК"],
    signature: "подпись",
    full_name: "ФИО",
};

fn role_name(role: &str, lang: Lang) -> &str {
    match (role, lang) {
        ("chair", Lang::Ky) => "төрага",
        ("chair", Lang::Ru) => "председатель",
        ("deputy_chair", Lang::Ky) => "төраганын орун басары",
        ("deputy_chair", Lang::Ru) => "заместитель председателя",
        ("secretary", Lang::Ky) => "катчы",
        ("secretary", Lang::Ru) => "секретарь",
        ("member", Lang::Ky) => "мүчө",
        ("member", Lang::Ru) => "член комиссии",
        (other, _) => other,
    }
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(s: &str) -> String {
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

fn bishkek_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&crate::clock::bishkek()).format("%d.%m.%Y %H:%M:%S").to_string()
}

fn contest_title(manifest: &Manifest, id: &str, lang: Lang) -> String {
    manifest
        .contests
        .iter()
        .find(|c| c.id == id)
        .and_then(|c| c.title.0.get(lang.code()).or_else(|| c.title.0.get("ky")).cloned())
        .unwrap_or_else(|| id.to_string())
}

const PRINT_CSS: &str = "\
@page { size: A4; margin: 14mm 12mm; }
body { font-family: 'DejaVu Serif', 'Liberation Serif', 'Times New Roman', serif; font-size: 11pt; color: #000; }
.copy { break-after: page; page-break-after: always; }
.copy:last-of-type { break-after: auto; page-break-after: auto; }
.mark { display: flex; justify-content: space-between; border: 2px solid #000; padding: 2pt 6pt; font-weight: bold; }
h1 { font-size: 13pt; text-align: center; margin: 8pt 0 2pt; }
h2 { font-size: 11pt; text-align: center; font-weight: normal; margin: 0 0 6pt; }
h3 { font-size: 11pt; margin: 8pt 0 3pt; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; }
td.n { white-space: nowrap; width: 3.5em; }
td.v { text-align: right; width: 6em; font-weight: bold; }
tr.section td { font-weight: bold; background: #eee; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 1pt 8pt; margin: 4pt 0; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
.hash { font-family: 'DejaVu Sans Mono', monospace; font-size: 8pt; word-break: break-all; }
.sign { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 4pt 10pt; margin-top: 10pt; }
.sign > div { display: flex; flex-direction: column; justify-content: flex-end; }
.sign .blank { border-bottom: 1px solid #000; height: 18pt; }
.sign small { display: block; font-size: 8pt; text-align: center; }
@media screen { .copy { border: 1px dashed #888; margin: 1em auto; padding: 1em; max-width: 190mm; } }
";

/// The control printout of the campaign's saved protocol in `lang`, printed at `now`.
pub fn printable(
    c: &mut AnyConnection,
    campaign: &str,
    precinct: Option<&str>,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let l = locate(c, campaign, precinct)?;
    let manifest = crate::package::load_election(c, campaign)?.context.manifest().clone();
    let members: Vec<_> =
        crate::election_protocol::members(c, campaign)?.into_iter().filter(|m| l.codes.contains(&m.precinct)).collect();
    let signed: Vec<String> = l.protocol.signatures.iter().map(|s| hex::encode(s.public_key)).collect();
    let quorum = crate::commission::pinned(c, campaign)?
        .check_act(dobush_crypto::commission::Act::Protocol, &l.protocol.body.digest(), &l.protocol.signatures)
        .is_ok();
    let t = match lang {
        Lang::Ky => &KY,
        Lang::Ru => &RU,
    };
    let body = &l.protocol.body;
    let entered = DateTime::<Utc>::from_timestamp(l.saved_at, 0).map(bishkek_time).unwrap_or_default();
    let printed = bishkek_time(now);
    let e = |s: &str| escape(s);
    let label = |ky: &str, ru: &str| e(if lang == Lang::Ky { ky } else { ru });

    let mut rows = format!("<tr class=\"section\"><td colspan=\"3\">{}</td></tr>\n", e(t.general));
    for line in &body.general {
        rows += &format!(
            "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"v\">{}</td></tr>\n",
            e(&line.number),
            label(&line.ky, &line.ru),
            line.value
        );
    }
    for contest in &body.contests {
        rows += &format!(
            "<tr class=\"section\"><td colspan=\"3\">{}</td></tr>\n",
            e(&contest_title(&manifest, &contest.contest_id, lang))
        );
        for line in &contest.lines {
            rows += &format!(
                "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"v\">{}</td></tr>\n",
                e(&line.number),
                label(&line.ky, &line.ru),
                line.value
            );
        }
    }
    let mut member_rows = String::new();
    for m in &members {
        let status = if signed.contains(&m.public_key) { t.signed } else { t.unsigned };
        member_rows += &format!(
            "<tr><td>{}</td><td>{}</td><td class=\"hash\">{}…</td><td>{}</td></tr>\n",
            e(&m.name),
            e(role_name(&m.role, lang)),
            e(m.public_key.get(..16).unwrap_or(&m.public_key)),
            e(status)
        );
    }
    if members.is_empty() {
        member_rows = format!("<tr><td colspan=\"4\">{}</td></tr>\n", e(t.no_members));
    }
    let decision = l
        .decision
        .as_deref()
        .filter(|_| l.revision > 1)
        .map_or_else(String::new, |d| format!("<dt>{}</dt><dd>{}</dd>", e(t.decision), e(d)));
    let digest = hex::encode(body.digest());
    let sign_block: String = t
        .signatories
        .iter()
        .map(|s| {
            format!(
                "<div><div>{}</div><div class=\"blank\"></div><small>({}) / ({})</small></div>",
                e(s),
                e(t.signature),
                e(t.full_name)
            )
        })
        .collect();

    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title} — {precinct} — {digest_short}</title>\n<style>\n{PRINT_CSS}</style>\n</head>\n<body>\n",
        lang = lang.code(),
        title = e(t.title),
        precinct = e(&body.precinct),
        digest_short = digest.get(..16).unwrap_or(&digest),
    );
    for (i, destination) in t.destinations.iter().enumerate() {
        let n = i + 1;
        html += &format!(
            "<section class=\"copy\" data-copy=\"{n}\">\n\
             <div class=\"mark\"><span>{copy}</span><span>{destination}</span></div>\n\
             <h1>{title}</h1>\n<h2>{subtitle}</h2>\n\
             <dl class=\"meta\">\
             <dt>{l_campaign}</dt><dd>{campaign}</dd>\
             <dt>{l_day}</dt><dd>{day}</dd>\
             <dt>{l_precinct}</dt><dd>{code} — {pname}</dd>\
             <dt>{l_territory}</dt><dd>{territory}</dd>\
             <dt>{l_entered}</dt><dd>{entered} ({bishkek})</dd>\
             <dt>{l_printed}</dt><dd>{printed} ({bishkek})</dd>\
             <dt>{l_revision}</dt><dd>{revision}</dd>{decision}\
             </dl>\n\
             <table>\n<thead><tr><th>{l_number}</th><th>{l_line}</th><th>{l_value}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
             <p>{l_digest}: <span class=\"hash\">{digest}</span><br>{l_context}: <span class=\"hash\">{context}</span></p>\n\
             <h3>{l_members}</h3>\n\
             <table>\n<thead><tr><th>{l_name}</th><th>{l_role}</th><th>{l_key}</th><th>{l_status}</th></tr></thead>\n<tbody>\n{member_rows}</tbody>\n</table>\n\
             <p><strong>{quorum}</strong></p>\n\
             <h3>{l_signatures}</h3>\n<div class=\"sign\">{sign_block}</div>\n\
             </section>\n",
            copy = e(&t.copy.replace("{n}", &n.to_string())),
            destination = e(destination),
            title = e(t.title),
            subtitle = e(t.subtitle),
            l_campaign = e(t.campaign),
            campaign = e(&l.campaign.name),
            l_day = e(t.voting_day),
            day = e(&l.campaign.voting_day),
            l_precinct = e(t.precinct),
            code = e(&l.precinct.code),
            pname = e(&l.precinct.name),
            l_territory = e(t.territory),
            territory = e(&l.precinct.territory),
            l_entered = e(t.entered),
            l_printed = e(t.printed),
            bishkek = e(t.bishkek),
            l_revision = e(t.revision),
            revision = l.revision,
            l_number = e(t.number),
            l_line = e(t.line),
            l_value = e(t.value),
            l_digest = e(t.digest),
            l_context = e(t.context),
            context = hex::encode(body.extended_hash),
            l_members = e(t.members),
            l_name = e(t.name),
            l_role = e(t.role),
            l_key = e(t.key),
            l_status = e(t.status),
            quorum = e(if quorum { t.quorum_yes } else { t.quorum_no }),
            l_signatures = e(t.signatures),
        );
    }
    html += "</body>\n</html>\n";
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("Баарына каршы"), "Баарына каршы");
    }
}
