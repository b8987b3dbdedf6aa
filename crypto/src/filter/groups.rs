//! Groups (`docs/protocol/13-revoting.md` §7.7), a public function of the tags: the list tags,
//! the pointers, roots, chains, unrooted chains and forks, the rows dropped as `unlisted` or
//! `unrooted`, one group per chain, and the validity interval of each tag given the order of
//! its chain's pointers (which the coordinator names and proves with `order` comparisons, §7.10).

use std::collections::HashMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::IsIdentity;
use thiserror::Error;

/// A fault that makes the run invalid (§7.7).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GroupError {
    /// A list tag is the identity: `k = 0`.
    #[error("list tag {0} is the identity (the tag key is 0)")]
    IdentityTag(usize),
    /// Two list rows with one tag.
    #[error("list rows {0} and {1} have the same tag")]
    DuplicateListTag(usize, usize),
    /// A pointer's `τ_new` is not a list tag.
    #[error("pointer {0}: its new tag is not a list tag")]
    NewNotListed(usize),
    /// A pointer's `τ_old` is not a list tag (sanitation failed).
    #[error("pointer {0}: its old tag is not a list tag")]
    OldNotListed(usize),
    /// Two pointers with one `τ_new`.
    #[error("pointers {0} and {1} have the same new tag")]
    DuplicateNew(usize, usize),
    /// The order named for a chain's pointers is not a permutation of them, or puts a
    /// replacement before the one that created its old credential.
    #[error("chain {chain}: {why}")]
    Order {
        /// The chain (position in [`Groups::chains`]).
        chain: usize,
        /// What is wrong.
        why: String,
    },
}

/// A shuffled pointer row's tags: `(τ_new, τ_old)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pointer {
    /// `τ_new`.
    pub new: RistrettoPoint,
    /// `τ_old`.
    pub old: RistrettoPoint,
}

/// Why a shuffled row is in no group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Its tag is not a list tag.
    Unlisted,
    /// Its tag belongs to a chain that loops.
    Unrooted,
}

/// A chain: a root and every list tag that reaches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    /// The root's list row.
    pub root: usize,
    /// The chain's list rows (the root's included), ascending.
    pub tags: Vec<usize>,
    /// The chain's pointers, ascending (their board order is the coordinator's to name).
    pub pointers: Vec<usize>,
    /// The group: the shuffled rows whose tag is one of `tags`, ascending. Empty if no row.
    pub rows: Vec<usize>,
}

/// The public structure of §7.7.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Groups {
    /// The chains, by the encoding of their root tag, ascending (the order of §7.10).
    pub chains: Vec<Chain>,
    /// List rows whose pointers loop (unrooted), ascending.
    pub unrooted_tags: Vec<usize>,
    /// Pointers of unrooted chains, ascending.
    pub unrooted_pointers: Vec<usize>,
    /// Forks: the pointers (ascending) that share one `τ_old`, one entry per such `τ_old`, by its
    /// list row. A finding.
    pub forks: Vec<Vec<usize>>,
    /// Rows in no group, ascending.
    pub dropped: Vec<(usize, DropReason)>,
    /// For each shuffled row, the list row with its tag (`None` if unlisted): `ℓ` of §7.8.
    pub list_row: Vec<Option<usize>>,
}

/// Where following pointers from a list tag ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    Unknown,
    Visiting,
    Root(usize),
    Loop,
}

/// Computes the groups from the tags of the shuffled list rows, pointer rows and rows.
pub fn groups(
    list_tags: &[RistrettoPoint],
    pointers: &[Pointer],
    row_tags: &[RistrettoPoint],
) -> Result<Groups, GroupError> {
    let mut index: HashMap<[u8; 32], usize> = HashMap::with_capacity(list_tags.len());
    let enc: Vec<[u8; 32]> = list_tags.iter().map(|t| t.compress().to_bytes()).collect();
    for (i, (t, e)) in list_tags.iter().zip(&enc).enumerate() {
        if t.is_identity() {
            return Err(GroupError::IdentityTag(i));
        }
        if let Some(j) = index.insert(*e, i) {
            return Err(GroupError::DuplicateListTag(j, i));
        }
    }
    let find = |p: &RistrettoPoint| index.get(p.compress().as_bytes()).copied();
    // parent[τ_new] = (pointer, τ_old)
    let mut parent: Vec<Option<(usize, usize)>> = vec![None; list_tags.len()];
    let mut by_old: HashMap<usize, Vec<usize>> = HashMap::new();
    for (a, p) in pointers.iter().enumerate() {
        let new = find(&p.new).ok_or(GroupError::NewNotListed(a))?;
        let old = find(&p.old).ok_or(GroupError::OldNotListed(a))?;
        if let Some((b, _)) = parent[new] {
            return Err(GroupError::DuplicateNew(b, a));
        }
        parent[new] = Some((a, old));
        by_old.entry(old).or_default().push(a);
    }
    // Follow pointers from every list tag to its root, or find that it loops.
    let mut reach = vec![Reach::Unknown; list_tags.len()];
    for start in 0..list_tags.len() {
        let mut path = Vec::new();
        let mut cur = start;
        let end = loop {
            match reach[cur] {
                Reach::Unknown => {}
                Reach::Visiting => break Reach::Loop,
                done => break done,
            }
            reach[cur] = Reach::Visiting;
            path.push(cur);
            match parent[cur] {
                None => break Reach::Root(cur),
                Some((_, old)) => cur = old,
            }
        };
        for t in path {
            reach[t] = end;
        }
    }
    let mut chains: Vec<Chain> = (0..list_tags.len())
        .filter(|i| parent[*i].is_none())
        .map(|root| Chain { root, tags: Vec::new(), pointers: Vec::new(), rows: Vec::new() })
        .collect();
    chains.sort_by(|a, b| enc[a.root].cmp(&enc[b.root]));
    let chain_of: HashMap<usize, usize> = chains.iter().enumerate().map(|(c, ch)| (ch.root, c)).collect();
    let mut unrooted_tags = Vec::new();
    let mut unrooted_pointers = Vec::new();
    for (t, r) in reach.iter().enumerate() {
        match (r, parent[t]) {
            (Reach::Root(root), p) => {
                if let Some(ch) = chain_of.get(root).and_then(|c| chains.get_mut(*c)) {
                    ch.tags.push(t);
                    ch.pointers.extend(p.map(|(a, _)| a));
                }
            }
            (_, p) => {
                unrooted_tags.push(t);
                unrooted_pointers.extend(p.map(|(a, _)| a));
            }
        }
    }
    for ch in &mut chains {
        ch.pointers.sort_unstable();
    }
    unrooted_pointers.sort_unstable();
    let mut forks: Vec<(usize, Vec<usize>)> = by_old.into_iter().filter(|(_, v)| v.len() > 1).collect();
    forks.sort_unstable();
    let mut dropped = Vec::new();
    let mut list_row = Vec::with_capacity(row_tags.len());
    for (q, t) in row_tags.iter().enumerate() {
        let l = find(t);
        list_row.push(l);
        match l.map(|l| reach[l]) {
            None => dropped.push((q, DropReason::Unlisted)),
            Some(Reach::Root(root)) => {
                if let Some(ch) = chain_of.get(&root).and_then(|c| chains.get_mut(*c)) {
                    ch.rows.push(q);
                }
            }
            Some(_) => dropped.push((q, DropReason::Unrooted)),
        }
    }
    Ok(Groups {
        chains,
        unrooted_tags,
        unrooted_pointers,
        forks: forks.into_iter().map(|(_, v)| v).collect(),
        dropped,
        list_row,
    })
}

/// A tag's validity interval (§7.7): the pointers whose I columns bound it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// The pointer whose `τ_new` is the tag (`None` for the root).
    pub start: Option<usize>,
    /// The chain's next pointer after `start` in board order (`None` if `start` is the last).
    pub end: Option<usize>,
}

/// The validity interval of each tag of chain `c`, given its pointers in increasing board index
/// (`order`, as the coordinator names them). `order` must hold exactly the chain's pointers, and
/// every pointer must come after the one that created its old tag. Returns `(list row,
/// interval)` in the order of `Chain::tags`.
pub fn validity(
    groups: &Groups,
    c: usize,
    pointers: &[Pointer],
    list_tags: &[RistrettoPoint],
    order: &[usize],
) -> Result<Vec<(usize, Validity)>, GroupError> {
    let bad = |why: String| GroupError::Order { chain: c, why };
    let ch = groups.chains.get(c).ok_or_else(|| bad("no such chain".into()))?;
    let mut sorted = order.to_vec();
    sorted.sort_unstable();
    if sorted != ch.pointers {
        return Err(bad(format!("the order names {order:?}, the chain's pointers are {:?}", ch.pointers)));
    }
    let tag_of = |p: &RistrettoPoint| ch.tags.iter().copied().find(|l| list_tags.get(*l) == Some(p));
    // position in board order of the pointer creating each tag
    let mut start: HashMap<usize, usize> = HashMap::new();
    for (pos, a) in order.iter().enumerate() {
        let p = pointers.get(*a).ok_or_else(|| bad(format!("no pointer {a}")))?;
        let (Some(new), Some(old)) = (tag_of(&p.new), tag_of(&p.old)) else {
            return Err(bad(format!("pointer {a} is not of this chain")));
        };
        if old != ch.root && !start.contains_key(&old) {
            return Err(bad(format!("pointer {a} comes before the replacement that created its old credential")));
        }
        start.insert(new, pos);
    }
    Ok(ch
        .tags
        .iter()
        .map(|l| {
            let s = start.get(l).copied();
            let next = s.map_or(0, |s| s + 1);
            (*l, Validity { start: s.and_then(|s| order.get(s).copied()), end: order.get(next).copied() })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::hash_to_group;

    fn t(i: u8) -> RistrettoPoint {
        hash_to_group(&[b't', i])
    }

    fn ptr(new: u8, old: u8) -> Pointer {
        Pointer { new: t(new), old: t(old) }
    }

    #[test]
    fn chains_roots_and_dropped_rows() {
        // List tags t0 … t5. Chain t0 ← t1 ← t2 (pointers 0: t1→t0, 1: t2→t1); t3 alone;
        // t4 ↔ t5 loop (pointers 2: t4→t5, 3: t5→t4).
        let list: Vec<_> = (0..6).map(t).collect();
        let pointers = vec![ptr(1, 0), ptr(2, 1), ptr(4, 5), ptr(5, 4)];
        // Rows: t2, t9 (unlisted), t0, t4 (unrooted), t3, t1.
        let rows = vec![t(2), t(9), t(0), t(4), t(3), t(1)];
        let g = groups(&list, &pointers, &rows).unwrap();
        assert_eq!(g.dropped, vec![(1, DropReason::Unlisted), (3, DropReason::Unrooted)]);
        assert_eq!(g.unrooted_tags, vec![4, 5]);
        assert_eq!(g.unrooted_pointers, vec![2, 3]);
        assert!(g.forks.is_empty());
        assert_eq!(g.list_row, vec![Some(2), None, Some(0), Some(4), Some(3), Some(1)]);
        assert_eq!(g.chains.len(), 2, "roots t0 and t3");
        let c0 = g.chains.iter().position(|c| c.root == 0).unwrap();
        let c3 = g.chains.iter().position(|c| c.root == 3).unwrap();
        assert_eq!(g.chains[c0], Chain { root: 0, tags: vec![0, 1, 2], pointers: vec![0, 1], rows: vec![0, 2, 5] });
        assert_eq!(g.chains[c3], Chain { root: 3, tags: vec![3], pointers: vec![], rows: vec![4] });
        let encs: Vec<_> = g.chains.iter().map(|c| list[c.root].compress().to_bytes()).collect();
        assert!(encs.windows(2).all(|w| w[0] < w[1]), "chains by root encoding");

        // Validity: t0 [−, p0), t1 [p0, p1), t2 [p1, −).
        let v = validity(&g, c0, &pointers, &list, &[0, 1]).unwrap();
        assert_eq!(
            v,
            vec![
                (0, Validity { start: None, end: Some(0) }),
                (1, Validity { start: Some(0), end: Some(1) }),
                (2, Validity { start: Some(1), end: None }),
            ]
        );
        assert_eq!(validity(&g, c3, &pointers, &list, &[]).unwrap(), vec![(3, Validity { start: None, end: None })]);
        assert!(validity(&g, c0, &pointers, &list, &[1, 0]).is_err(), "t2 replaced before t1 existed");
        assert!(validity(&g, c0, &pointers, &list, &[0]).is_err(), "a pointer left out");
        assert!(validity(&g, c0, &pointers, &list, &[0, 1, 2]).is_err(), "a foreign pointer");
        assert!(validity(&g, c0, &pointers, &list, &[0, 0]).is_err(), "repeated");
    }

    #[test]
    fn forks_and_validity_across_branches() {
        // t1 → t0 and t2 → t0 (a fork), then t3 → t1. Board order p0 (t1), p1 (t2), p2 (t3).
        let list: Vec<_> = (0..4).map(t).collect();
        let pointers = vec![ptr(1, 0), ptr(2, 0), ptr(3, 1)];
        let g = groups(&list, &pointers, &[t(3), t(2)]).unwrap();
        assert_eq!(g.forks, vec![vec![0, 1]]);
        assert_eq!(g.chains.len(), 1);
        assert_eq!(g.chains[0].rows, vec![0, 1]);
        let v = validity(&g, 0, &pointers, &list, &[0, 1, 2]).unwrap();
        // A credential stops being valid at the chain's next replacement, whichever it names.
        assert_eq!(v[1], (1, Validity { start: Some(0), end: Some(1) }));
        assert_eq!(v[2], (2, Validity { start: Some(1), end: Some(2) }));
        assert_eq!(v[3], (3, Validity { start: Some(2), end: None }));
    }

    #[test]
    fn run_faults_are_refused() {
        let list: Vec<_> = (0..3).map(t).collect();
        let mut dup = list.clone();
        dup[2] = t(0);
        assert_eq!(groups(&dup, &[], &[]), Err(GroupError::DuplicateListTag(0, 2)));
        let mut id = list.clone();
        id[1] = RistrettoPoint::default();
        assert_eq!(groups(&id, &[], &[]), Err(GroupError::IdentityTag(1)));
        assert_eq!(groups(&list, &[ptr(7, 0)], &[]), Err(GroupError::NewNotListed(0)));
        assert_eq!(groups(&list, &[ptr(1, 7)], &[]), Err(GroupError::OldNotListed(0)));
        assert_eq!(groups(&list, &[ptr(1, 0), ptr(1, 2)], &[]), Err(GroupError::DuplicateNew(0, 1)));
        // A pointer to itself loops: unrooted, not an error.
        let g = groups(&list, &[ptr(1, 1)], &[t(1)]).unwrap();
        assert_eq!(g.dropped, vec![(0, DropReason::Unrooted)]);
        assert_eq!(g.chains.len(), 2);
    }
}
