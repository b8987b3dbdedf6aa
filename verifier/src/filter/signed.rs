//! Signed round messages of the filter, written from `13-revoting.md` §6.3: the header a member
//! signs with its key-holder signing key, read strictly, its signature checked, and the chain
//! digest of a round. Library code that no numbered check calls yet: no record carries a filter
//! run's messages until the run goes between the key-holders' machines (§6, V21).

use merlin::Transcript;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::encoding::{Decoded, Invalid, Point, array, exact, field, hex_n, point, scalar, string, uint, uint32};
use crate::sigma::{Equations, signature};
use crate::transcript;

/// The kinds of §6.2 with their rounds (`None`: an abort names its own, 0 … 12).
pub const KINDS: &[(&str, Option<u64>)] = &[
    ("keys", Some(0)),
    ("names", Some(2)),
    ("sanitation", Some(3)),
    ("sanitation-decryptions", Some(4)),
    ("shuffles", Some(5)),
    ("tags", Some(6)),
    ("tag-decryptions", Some(7)),
    ("pet", Some(8)),
    ("pet-decryptions", Some(9)),
    ("selection", Some(10)),
    ("weight", Some(11)),
    ("accept", Some(12)),
    ("abort", None),
];

/// The fields of a signed header; of its header; of its signature.
pub const SIGNED_FIELDS: &[&str] = &["header", "signature"];
/// The fields of a header (§6.3).
pub const HEADER_FIELDS: &[&str] =
    &["kind", "sender", "run", "opening", "filter", "round", "style", "previous", "body_size", "body"];

/// A header, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The kind (§6.2).
    pub kind: String,
    /// The sender.
    pub sender: u64,
    /// The run.
    pub run: u64,
    /// The run's opening nonce O.
    pub opening: [u8; 32],
    /// F, ascending.
    pub filter: Vec<u64>,
    /// The round.
    pub round: u64,
    /// The style id ("" for the whole run).
    pub style: String,
    /// The chain digest named.
    pub previous: [u8; 32],
    /// The body's size in bytes.
    pub body_size: u64,
    /// The body's SHA-256.
    pub body: [u8; 32],
}

/// A signed header, read: the header and `(R, s)`.
#[derive(Clone, Debug)]
pub struct Signed {
    /// The header.
    pub header: Header,
    /// R.
    pub r: Point,
    /// s.
    pub s: curve25519_dalek::scalar::Scalar,
}

/// Reads a signed header strictly and checks the header's own rules (§6.2–6.3): a known kind and
/// its round, F ascending from 1 with the sender in it, a run from 1, the style empty exactly for
/// round 0 (an abort may name either).
pub fn parse(v: &Value) -> Decoded<Signed> {
    exact(v, SIGNED_FIELDS, "signed header")?;
    let h = field(v, "header", "signed header")?;
    exact(h, HEADER_FIELDS, "header")?;
    let kind = string(h, "kind", "header")?;
    let Some((_, kind_round)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        return Err(Invalid(format!("header: unknown kind {kind:?}")));
    };
    let filter = array(h, "filter", "header")?
        .iter()
        .map(|x| x.as_u64().filter(|j| (1..=u64::from(u32::MAX)).contains(j)))
        .collect::<Option<Vec<u64>>>()
        .ok_or_else(|| Invalid("header: F must be key-holder indices".into()))?;
    let header = Header {
        sender: uint32(h, "sender", "header")?,
        run: uint(h, "run", "header")?,
        opening: hex_n::<32>(field(h, "opening", "header")?, "header.opening")?,
        round: uint(h, "round", "header")?,
        style: string(h, "style", "header")?,
        previous: hex_n::<32>(field(h, "previous", "header")?, "header.previous")?,
        body_size: uint(h, "body_size", "header")?,
        body: hex_n::<32>(field(h, "body", "header")?, "header.body")?,
        filter,
        kind,
    };
    let rule = |ok: bool, why: &str| if ok { Ok(()) } else { Err(Invalid(format!("header: {why}"))) };
    rule(!header.filter.is_empty() && header.filter.windows(2).all(|w| w[0] < w[1]), "F must be ascending")?;
    rule(header.filter.contains(&header.sender), "the sender is not a member of F")?;
    rule(header.run >= 1, "runs are numbered from 1")?;
    match kind_round {
        Some(r) => rule(header.round == *r, "the round is not the kind's")?,
        None => rule(header.round <= 12, "an abort names a round of 0 … 12")?,
    }
    match header.kind.as_str() {
        "keys" => rule(header.style.is_empty(), "round 0 has no style")?,
        "abort" => {}
        _ => rule(!header.style.is_empty(), "a message of rounds 2 … 12 names its style")?,
    }
    let sig = field(v, "signature", "signed header")?;
    exact(sig, &["r", "s"], "signature")?;
    Ok(Signed {
        header,
        r: point(field(sig, "r", "signature")?, "signature.r")?,
        s: scalar(field(sig, "s", "signature")?, "signature.s")?,
    })
}

fn header_transcript(context: &[u8; 32], h: &Header) -> Transcript {
    let mut t = transcript::new(b"filter-message");
    t.append_message(b"context", context);
    t.append_message(b"kind", h.kind.as_bytes());
    t.append_u64(b"sender", h.sender);
    t.append_u64(b"run", h.run);
    t.append_message(b"opening", &h.opening);
    t.append_u64(b"filter", h.filter.len() as u64);
    for j in &h.filter {
        t.append_u64(b"member", *j);
    }
    t.append_u64(b"round", h.round);
    t.append_message(b"style", h.style.as_bytes());
    t.append_message(b"previous", &h.previous);
    t.append_u64(b"body-size", h.body_size);
    t.append_message(b"body", &h.body);
    t
}

/// Whether the signature holds under the sender's signing key `key` (the package's, by index).
pub fn verify(context: &[u8; 32], m: &Signed, key: &Point) -> bool {
    let mut eqs = Equations::direct();
    signature(&mut header_transcript(context, &m.header), key, &m.r, &m.s, &mut eqs) && eqs.check()
}

/// Whether `body` is the one the header names.
pub fn body_matches(h: &Header, body: &[u8]) -> bool {
    body.len() as u64 == h.body_size && <[u8; 32]>::from(Sha256::digest(body)) == h.body
}

/// `digest(sid, r, prev)` (§6.3) over the messages of one round of one style, senders ascending
/// (they may come in any order; a sender twice is refused).
pub fn round_digest(run: u64, style: &str, round: u64, previous: &[u8; 32], messages: &[&Signed]) -> Decoded<[u8; 32]> {
    let mut sorted: Vec<&Signed> = messages.to_vec();
    sorted.sort_by_key(|m| m.header.sender);
    if sorted.windows(2).any(|w| w[0].header.sender == w[1].header.sender) {
        return Err(Invalid("a member sent two messages in one round".into()));
    }
    let mut h = Sha256::new();
    h.update(b"dobush/v2/filter-round");
    h.update(previous);
    h.update(run.to_be_bytes());
    h.update((style.len() as u64).to_be_bytes());
    h.update(style.as_bytes());
    h.update(round.to_be_bytes());
    h.update((sorted.len() as u64).to_be_bytes());
    for m in sorted {
        let sender = u32::try_from(m.header.sender).map_err(|_| Invalid("sender out of range".into()))?;
        h.update(sender.to_be_bytes());
        h.update(m.header.body);
        h.update(m.r.bytes);
        h.update(m.s.as_bytes());
    }
    Ok(h.finalize().into())
}

#[cfg(test)]
mod tests {
    //! Against `vectors/filter-messages.json`, which `dobush-crypto` wrote (`gen_vectors`).

    use super::*;

    fn vector() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/filter-messages.json");
        crate::json::parse_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_vectors_signed_headers_verify_and_chain_and_forgeries_do_not() {
        let v = vector();
        let ctx = hex_n::<32>(&v["context"], "context").unwrap();
        let keys: Vec<Point> = v["signing_keys"].as_array().unwrap().iter().map(|k| point(k, "key").unwrap()).collect();
        let messages: Vec<Signed> = v["messages"].as_array().unwrap().iter().map(|m| parse(m).unwrap()).collect();
        for (m, body) in messages.iter().zip(v["bodies"].as_array().unwrap()) {
            let key = &keys[m.header.sender as usize - 1];
            assert!(verify(&ctx, m, key), "{:?}", m.header);
            assert!(body_matches(&m.header, body.as_str().unwrap().as_bytes()));
            assert!(!verify(&[0; 32], m, key), "another context");
            for change in
                [|h: &mut Header| h.previous[0] ^= 1, |h: &mut Header| h.opening[0] ^= 1, |h: &mut Header| h.run += 1]
            {
                let mut forged = m.clone();
                change(&mut forged.header);
                assert!(!verify(&ctx, &forged, key), "a changed header verifies: {:?}", forged.header);
            }
        }
        let refs: Vec<&Signed> = messages.iter().collect();
        let previous = hex_n::<32>(&v["previous"], "previous").unwrap();
        let h = &messages[0].header;
        let d = round_digest(h.run, &h.style, h.round, &previous, &refs).unwrap();
        assert_eq!(hex::encode(d), v["round_digest"].as_str().unwrap());
        for bad in v["malformed"].as_array().unwrap() {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
