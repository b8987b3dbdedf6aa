//! The filter's tag building blocks (docs/protocol/13-revoting.md §7.1, §7.6–7.8, §9.3) made by
//! `dobush-crypto` and checked by both `dobush-crypto` and the independent `dobush-verifier`.

use std::path::Path;

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use dobush_crypto::filter::dleq::{BatchStatement, BatchedDleqProof, Purpose, RunContext, weights};
use dobush_crypto::group::GroupElement;
use dobush_crypto::proofs::DirectCheck;
use dobush_verifier::filter::dleq as vdleq;
use serde_json::Value;

fn vector() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/filter-dleq.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn points(v: &Value) -> Vec<RistrettoPoint> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let b: [u8; 32] = hex::decode(p.as_str().unwrap()).unwrap().try_into().unwrap();
            CompressedRistretto(b).decompress().unwrap()
        })
        .collect()
}

fn crypto_accepts(d: &Value) -> bool {
    let ctx: [u8; 32] = hex::decode(d["context"].as_str().unwrap()).unwrap().try_into().unwrap();
    let key: GroupElement = serde_json::from_value(d["key"].clone()).unwrap();
    let Some(purpose) = Purpose::from_name(d["purpose"].as_str().unwrap()) else { return false };
    let (bases, images) = (points(&d["bases"]), points(&d["images"]));
    let proof: BatchedDleqProof = serde_json::from_value(d["proof"].clone()).unwrap();
    let st = BatchStatement {
        run: RunContext { context: &ctx, run: d["run"].as_u64().unwrap(), style: d["style"].as_str().unwrap() },
        purpose,
        member: d["member"].as_u64().unwrap() as u32,
        key: &key,
        bases: &bases,
        images: &images,
    };
    proof.verify(&st, &mut DirectCheck::default()).is_ok()
}

fn verifier_accepts(d: &Value) -> bool {
    let Ok(purpose) = vdleq::Purpose::parse(d["purpose"].as_str().unwrap()) else { return false };
    let (bases, images) = (points(&d["bases"]), points(&d["images"]));
    let st = vdleq::Statement {
        context: hex::decode(d["context"].as_str().unwrap()).unwrap().try_into().unwrap(),
        run: d["run"].as_u64().unwrap(),
        style: d["style"].as_str().unwrap(),
        purpose,
        member: d["member"].as_u64().unwrap(),
        key: dobush_verifier::encoding::point(&d["key"], "key").unwrap(),
        bases: &bases,
        images: &images,
    };
    let proof = vdleq::parse_proof(&d["proof"], "proof").unwrap();
    vdleq::check(&st, &proof).is_ok()
}

#[test]
fn batched_dleq_vector_is_checked_by_both() {
    let d = vector();
    assert!(crypto_accepts(&d), "crypto refuses the vector");
    assert!(verifier_accepts(&d), "the verifier refuses the vector");
    let seed: [u8; 32] = hex::decode(d["weights_seed"].as_str().unwrap()).unwrap().try_into().unwrap();
    let listed: Vec<String> = d["weights"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_owned()).collect();
    let enc = |e: Vec<curve25519_dalek::Scalar>| e.iter().map(|x| hex::encode(x.as_bytes())).collect::<Vec<_>>();
    assert_eq!(enc(weights(&seed, listed.len())), listed);
    assert_eq!(enc(vdleq::weights(&seed, listed.len())), listed);

    // Each alteration is refused by both.
    let other_point = d["bases"][0].clone();
    type Alteration = Box<dyn Fn(&mut Value)>;
    let alterations: Vec<(&str, Alteration)> = vec![
        ("an image", Box::new(move |d: &mut Value| d["images"][3] = other_point.clone())),
        ("a base", Box::new(|d: &mut Value| d["bases"].as_array_mut().unwrap().swap(0, 1))),
        ("Y", Box::new(|d: &mut Value| d["key"] = d["bases"][2].clone())),
        ("the purpose", Box::new(|d: &mut Value| d["purpose"] = "tag-list".into())),
        ("an unknown purpose", Box::new(|d: &mut Value| d["purpose"] = "tag".into())),
        ("the run", Box::new(|d: &mut Value| d["run"] = 2.into())),
        ("the style", Box::new(|d: &mut Value| d["style"] = "all".into())),
        ("the member", Box::new(|d: &mut Value| d["member"] = 3.into())),
        ("the context", Box::new(|d: &mut Value| d["context"] = hex::encode([0u8; 32]).into())),
        (
            "the count",
            Box::new(|d: &mut Value| {
                d["bases"].as_array_mut().unwrap().pop();
                d["images"].as_array_mut().unwrap().pop();
            }),
        ),
        ("the proof", Box::new(|d: &mut Value| d["proof"]["a"] = d["proof"]["b"].clone())),
    ];
    for (what, alter) in alterations {
        let mut bad = vector();
        alter(&mut bad);
        assert!(!crypto_accepts(&bad), "crypto accepts an altered {what}");
        assert!(!verifier_accepts(&bad), "the verifier accepts an altered {what}");
    }
}

mod building_blocks {
    use curve25519_dalek::ristretto::RistrettoPoint;
    use curve25519_dalek::scalar::Scalar;
    use dobush_crypto::elgamal::RawCiphertext;
    use dobush_crypto::filter::dleq::{Purpose, RunContext};
    use dobush_crypto::filter::groups::{DropReason, Pointer, groups, validity};
    use dobush_crypto::filter::keys::{FilterKeys, FilterSecrets, KeyPurpose, MemberKeys, ProvedKey, Quorum, generate};
    use dobush_crypto::filter::pet;
    use dobush_crypto::filter::tags::{
        ShareBatch, blinding_shares, combine_blinding, combine_decryption, decryption_shares,
    };
    use dobush_crypto::group::{GroupElement, hash_to_group, mul_base, random_scalar};
    use dobush_crypto::threshold::local::{Ceremony, run_ceremony};
    use dobush_verifier::encoding::Point;
    use dobush_verifier::filter::{dleq as vdleq, groups as vgroups, keys as vkeys, pet as vpet, tags as vtags};
    use dobush_verifier::sigma::Equations;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const CTX: [u8; 32] = [0x13; 32];
    const RUN: RunContext<'static> = RunContext { context: &CTX, run: 1, style: "s" };
    const VRUN: vtags::Run<'static> = vtags::Run { context: CTX, run: 1, style: "s" };
    const STATIONS: [&str; 2] = ["station/a", "station-b"];

    fn pt(g: &GroupElement) -> Point {
        Point { p: *g.point(), bytes: *g.as_bytes() }
    }

    fn vshares(b: &ShareBatch) -> vtags::Shares {
        let p = &b.proof.0;
        vtags::Shares {
            member: u64::from(b.member),
            images: b.images.clone(),
            proof: vdleq::Proof { a: pt(&p.a), b: pt(&p.b), z: p.response },
        }
    }

    fn vpurpose(p: Purpose) -> vdleq::Purpose {
        vdleq::Purpose::parse(p.as_str()).unwrap()
    }

    fn pairs(cts: &[RawCiphertext]) -> Vec<vtags::Pair> {
        cts.iter().map(|c| (c.alpha, c.beta)).collect()
    }

    fn enc(k: &RistrettoPoint, p: &RistrettoPoint, rng: &mut ChaCha20Rng) -> RawCiphertext {
        let r = random_scalar(rng);
        RawCiphertext { alpha: mul_base(&r), beta: p + r * k }
    }

    struct Setup {
        c: Ceremony,
        quorum: Quorum,
        vquorum: vkeys::Quorum,
        secrets: Vec<FilterSecrets>,
        members: Vec<MemberKeys>,
        keys: FilterKeys,
    }

    fn setup(rng: &mut ChaCha20Rng) -> Setup {
        let c = run_ceremony(rng, &[7; 32], 5, 3).unwrap();
        let f = [1u32, 3, 4];
        let quorum = Quorum::new(&c.params, &f).unwrap();
        let vquorum = vkeys::Quorum::parse(5, 3, &[1, 3, 4]).unwrap();
        let (mut secrets, mut members) = (vec![], vec![]);
        for j in f {
            let (s, k) = generate(&CTX, 1, &quorum, j, &STATIONS, rng).unwrap();
            secrets.push(s);
            members.push(k);
        }
        let keys = FilterKeys::combine(&CTX, 1, &quorum, &STATIONS, &members).unwrap();
        Setup { c, quorum, vquorum, secrets, members, keys }
    }

    fn verifier_accepts_key(s: &Setup, m: &MemberKeys, purpose: KeyPurpose) -> bool {
        verifier_accepts(s, m.member, purpose.as_str(), None, m.key(purpose))
    }

    fn verifier_accepts(s: &Setup, member: u32, purpose: &str, station: Option<&str>, k: &ProvedKey) -> bool {
        let vk = vkeys::ProvedKey { key: pt(&k.key), a: pt(&k.proof.commitment), z: k.proof.response };
        let mut eqs = Equations::direct();
        matches!(vkeys::check_key(&CTX, 1, &s.vquorum, u64::from(member), purpose, station, &vk, &mut eqs), Ok(true))
            && eqs.check()
    }

    /// Rounds 6–7 made by crypto, checked and combined by the verifier.
    fn verifier_tags(
        s: &Setup,
        cts: &[RawCiphertext],
        r6: &[ShareBatch],
        r7: &[ShareBatch],
    ) -> Result<Vec<RistrettoPoint>, String> {
        let mut eqs = Equations::batched();
        for b in r6 {
            let kj = pt(s.keys.member_key(b.member, KeyPurpose::Tag).unwrap());
            vtags::check_blinding(VRUN, vpurpose(Purpose::TagRows), &kj, &pairs(cts), &vshares(b), &mut eqs)?;
        }
        let r6v: Vec<_> = r6.iter().map(vshares).collect();
        let combined = vtags::combine_blinding(&s.vquorum, cts.len(), &r6v)?;
        let alphas: Vec<_> = combined.iter().map(|c| c.0).collect();
        for b in r7 {
            let vk = pt(s.c.outcome.verification_key(b.member).unwrap());
            let vk2 = vtags::scaled_vk(&s.vquorum, u64::from(b.member), &vk).unwrap();
            vtags::check_decryption(VRUN, vpurpose(Purpose::TagDecryptRows), &vk2, &alphas, &vshares(b), &mut eqs)?;
        }
        if !eqs.check() {
            return Err("a batched proof fails".into());
        }
        let r7v: Vec<_> = r7.iter().map(vshares).collect();
        vtags::combine_decryption(&s.vquorum, &combined.iter().map(|c| c.1).collect::<Vec<_>>(), &r7v)
    }

    #[test]
    fn keys_and_tags_made_by_crypto_are_checked_by_the_verifier() {
        let mut rng = ChaCha20Rng::seed_from_u64(1919);
        let s = setup(&mut rng);
        for m in &s.members {
            for p in KeyPurpose::ALL {
                assert!(verifier_accepts_key(&s, m, p));
            }
            // One station tag key per station (§7.1), its proof bound to its station's id.
            assert_eq!(m.station_tags.len(), STATIONS.len());
            for (i, id) in STATIONS.iter().enumerate() {
                let k = &m.station_tags[i];
                assert!(verifier_accepts(&s, m.member, "station-tag", Some(id), k));
                assert!(!verifier_accepts(&s, m.member, "station-tag", Some(STATIONS[1 - i]), k), "another station");
                assert!(!verifier_accepts(&s, m.member, "station-tag", None, k), "no station");
                assert!(!verifier_accepts(&s, m.member, "tag", Some(id), k), "a tag key with a station");
                assert!(!verifier_accepts(&s, m.member, "tag", None, k), "as a tag key");
                let combined: RistrettoPoint = s.members.iter().map(|m| *m.station_tags[i].key.point()).sum();
                assert_eq!(combined, *s.keys.combined_station(i).unwrap().point());
            }
            assert_ne!(m.station_tags[0].key, m.station_tags[1].key);
        }
        let mut forged = s.members[1].clone();
        forged.pet.key = forged.tag.key;
        assert!(!verifier_accepts_key(&s, &forged, KeyPurpose::Pet), "a proof for another key");
        let mut forged = s.members[1].clone();
        forged.tag.proof.response += Scalar::ONE;
        assert!(!verifier_accepts_key(&s, &forged, KeyPurpose::Tag));
        assert!(vkeys::Quorum::parse(5, 3, &[1, 4, 3]).is_err());
        let sum = vkeys::combine(&s.members.iter().map(|m| pt(&m.tag.key)).collect::<Vec<_>>()).unwrap();
        assert_eq!(sum, *s.keys.combined(KeyPurpose::Tag).point());

        let k_el = *s.c.joint_key.point();
        let (v1, v2) = (hash_to_group(b"TB1"), hash_to_group(b"TB2"));
        let cts = vec![enc(&k_el, &v1, &mut rng), enc(&k_el, &v2, &mut rng), enc(&k_el, &v1, &mut rng)];
        let r6: Vec<ShareBatch> = s
            .secrets
            .iter()
            .map(|x| blinding_shares(RUN, Purpose::TagRows, x, KeyPurpose::Tag, &cts, &mut rng).unwrap())
            .collect();
        let combined = combine_blinding(&s.quorum, cts.len(), &r6).unwrap();
        let alphas: Vec<_> = combined.iter().map(|c| c.alpha).collect();
        let r7: Vec<ShareBatch> = s
            .quorum
            .members()
            .iter()
            .map(|j| {
                decryption_shares(
                    RUN,
                    Purpose::TagDecryptRows,
                    &s.quorum,
                    &s.c.shares[*j as usize - 1],
                    &alphas,
                    &mut rng,
                )
                .unwrap()
            })
            .collect();
        let tags = combine_decryption(&s.quorum, &combined.iter().map(|c| c.beta).collect::<Vec<_>>(), &r7).unwrap();
        assert_eq!(verifier_tags(&s, &cts, &r6, &r7), Ok(tags.clone()));
        assert_eq!(tags[0], tags[2]);
        assert_ne!(tags[0], tags[1]);

        // A wrong tag share, a wrong decryption share, a missing member: refused by the verifier.
        let mut bad6 = r6.clone();
        bad6[2].images[1] += v2;
        assert!(verifier_tags(&s, &cts, &bad6, &r7).is_err());
        let mut bad7 = r7.clone();
        bad7[0].images[2] += v2;
        assert!(verifier_tags(&s, &cts, &r6, &bad7).is_err());
        assert!(verifier_tags(&s, &cts, &r6[..2], &r7).is_err());
    }

    #[test]
    fn groups_agree_between_crypto_and_verifier() {
        let t = |i: u8| hash_to_group(&[b'g', i]);
        // Chains: t0 ← t1 ← t2, t0 ← t6 (a fork), t3 alone, t4 ↔ t5 (a loop), t7 → t4 (unrooted).
        let list: Vec<_> = (0..8).map(t).collect();
        let ptrs = [(1, 0), (6, 0), (2, 1), (4, 5), (5, 4), (7, 4)];
        let pointers: Vec<Pointer> = ptrs.iter().map(|(n, o)| Pointer { new: t(*n), old: t(*o) }).collect();
        let vpointers: Vec<vgroups::Pointer> = ptrs.iter().map(|(n, o)| (t(*n), t(*o))).collect();
        let rows: Vec<_> = [2, 9, 0, 7, 3, 1, 6, 5, 2].iter().map(|i| t(*i)).collect();
        let g = groups(&list, &pointers, &rows).unwrap();
        let v = vgroups::groups(&list, &vpointers, &rows).unwrap();
        assert_eq!(g.chains.len(), v.chains.len());
        for (a, b) in g.chains.iter().zip(&v.chains) {
            assert_eq!((a.root, &a.tags, &a.pointers, &a.rows), (b.root, &b.tags, &b.pointers, &b.rows));
        }
        assert_eq!(g.unrooted_tags, v.unrooted_tags);
        assert_eq!(g.unrooted_pointers, v.unrooted_pointers);
        assert_eq!(g.forks, v.forks);
        assert_eq!(g.list_row, v.list_row);
        let unlisted: Vec<usize> = g.dropped.iter().filter(|d| d.1 == DropReason::Unlisted).map(|d| d.0).collect();
        let unrooted: Vec<usize> = g.dropped.iter().filter(|d| d.1 == DropReason::Unrooted).map(|d| d.0).collect();
        assert_eq!((unlisted, unrooted), (v.unlisted.clone(), v.unrooted.clone()));
        assert_eq!(v.unlisted, vec![1]);
        assert_eq!(v.unrooted, vec![3, 7]);
        assert_eq!(v.forks, vec![vec![0, 1], vec![4, 5]], "t1, t6 on t0; t5, t7 on t4");
        let c0 = g.chains.iter().position(|c| c.root == 0).unwrap();
        for order in [vec![0, 1, 2], vec![0, 2, 1], vec![1, 0, 2], vec![2, 0, 1], vec![0, 1]] {
            let a = validity(&g, c0, &pointers, &list, &order)
                .map(|x| x.iter().map(|(_, v)| (v.start, v.end)).collect::<Vec<_>>());
            let b = vgroups::validity(&v, c0, &list, &vpointers, &order);
            assert_eq!(a.is_ok(), b.is_ok(), "order {order:?}");
            if let (Ok(a), Ok(b)) = (a, b) {
                assert_eq!(a, b);
            }
        }
        // The faults that make a run invalid: both refuse.
        let mut dup = list.clone();
        dup[3] = t(0);
        assert!(groups(&dup, &pointers, &rows).is_err() && vgroups::groups(&dup, &vpointers, &rows).is_err());
        let bad = vec![(t(1), t(9))];
        assert!(vgroups::groups(&list, &bad, &rows).is_err());
        assert!(groups(&list, &[Pointer { new: t(1), old: t(9) }], &rows).is_err());
    }

    #[test]
    fn pet_made_by_crypto_is_checked_by_the_verifier() {
        let mut rng = ChaCha20Rng::seed_from_u64(1920);
        let s = setup(&mut rng);
        let k = *s.c.joint_key.point();
        let (x1, x2) = (hash_to_group(b"X1"), hash_to_group(b"X2"));
        let list = enc(&k, &x1, &mut rng);
        let deltas = [pet::difference(&enc(&k, &x1, &mut rng), &list), pet::difference(&enc(&k, &x2, &mut rng), &list)];
        let r8: Vec<ShareBatch> = s
            .secrets
            .iter()
            .map(|x| blinding_shares(RUN, Purpose::Pet, x, KeyPurpose::Pet, &deltas, &mut rng).unwrap())
            .collect();
        let d2 = pet::blinded(&s.quorum, 2, &r8).unwrap();
        let alphas: Vec<_> = d2.iter().map(|d| d.alpha).collect();
        let r9: Vec<ShareBatch> = s
            .quorum
            .members()
            .iter()
            .map(|j| {
                decryption_shares(RUN, Purpose::PetDecrypt, &s.quorum, &s.c.shares[*j as usize - 1], &alphas, &mut rng)
                    .unwrap()
            })
            .collect();
        assert_eq!(pet::decide(&s.quorum, &d2, &r9), Ok(vec![true, false]));

        let verify = |r9: &[ShareBatch]| -> Result<Vec<bool>, String> {
            let mut eqs = Equations::batched();
            let vdeltas = pairs(&deltas);
            for b in &r8 {
                let zj = pt(s.keys.member_key(b.member, KeyPurpose::Pet).unwrap());
                vtags::check_blinding(VRUN, vpurpose(Purpose::Pet), &zj, &vdeltas, &vshares(b), &mut eqs)?;
            }
            let vd2 = vpet::blinded(&s.vquorum, 2, &r8.iter().map(vshares).collect::<Vec<_>>())?;
            let va: Vec<_> = vd2.iter().map(|d| d.0).collect();
            for b in r9 {
                let vk = vtags::scaled_vk(
                    &s.vquorum,
                    u64::from(b.member),
                    &pt(s.c.outcome.verification_key(b.member).unwrap()),
                )
                .unwrap();
                vtags::check_decryption(VRUN, vpurpose(Purpose::PetDecrypt), &vk, &va, &vshares(b), &mut eqs)?;
            }
            if !eqs.check() {
                return Err("a batched proof fails".into());
            }
            vpet::decide(&s.vquorum, &vd2, &r9.iter().map(vshares).collect::<Vec<_>>())
        };
        assert_eq!(verify(&r9), Ok(vec![true, false]));
        // A member forges its share so that the mismatch passes: the verifier refuses it.
        let mut forged = r9.clone();
        let others: RistrettoPoint = forged[..2].iter().map(|b| b.images[1]).sum();
        forged[2].images[1] = d2[1].beta - others;
        assert_eq!(pet::decide(&s.quorum, &d2, &forged), Ok(vec![true, true]));
        assert!(verify(&forged).is_err());
        // Public decisions when Δ.α is the identity.
        let same_nonce = RawCiphertext { alpha: list.alpha, beta: list.beta + x2 - x1 };
        assert_eq!(vpet::public_decision(&(list.alpha - list.alpha, list.beta - list.beta)), Some(true));
        let d = pet::difference(&same_nonce, &list);
        assert_eq!(vpet::public_decision(&(d.alpha, d.beta)), Some(false));
        assert_eq!(pet::classify(&d), pet::Test::Public(false));
        assert_eq!(vpet::public_decision(&(deltas[0].alpha, deltas[0].beta)), None);
    }
}
