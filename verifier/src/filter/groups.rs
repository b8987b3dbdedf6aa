//! Groups (`13-revoting.md` §7.7), recomputed from the tags: list tags distinct and not the
//! identity, pointers, roots, chains, unrooted chains, forks, the rows dropped as `unlisted` or
//! `unrooted`, and each tag's validity interval given its chain's pointers in board order.

use std::collections::{BTreeMap, BTreeSet};

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::IsIdentity;

/// A pointer's `(τ_new, τ_old)`.
pub type Pointer = (RistrettoPoint, RistrettoPoint);

/// A chain: its root's list row, its list rows and pointers (ascending), its group's rows.
#[derive(Debug, PartialEq, Eq)]
pub struct Chain {
    /// Root list row.
    pub root: usize,
    /// List rows, ascending.
    pub tags: Vec<usize>,
    /// Pointers, ascending.
    pub pointers: Vec<usize>,
    /// Shuffled rows of the group, ascending.
    pub rows: Vec<usize>,
}

/// The structure of §7.7.
#[derive(Debug, PartialEq, Eq)]
pub struct Groups {
    /// Chains by root tag encoding, ascending.
    pub chains: Vec<Chain>,
    /// List rows of unrooted chains.
    pub unrooted_tags: Vec<usize>,
    /// Pointers of unrooted chains.
    pub unrooted_pointers: Vec<usize>,
    /// Pointers sharing one `τ_old` (a finding), grouped.
    pub forks: Vec<Vec<usize>>,
    /// Rows whose tag is not a list tag.
    pub unlisted: Vec<usize>,
    /// Rows whose tag is in an unrooted chain.
    pub unrooted: Vec<usize>,
    /// Each row's list row (`ℓ` of §7.8).
    pub list_row: Vec<Option<usize>>,
}

/// Recomputes the groups; `Err` is a fault that makes the run invalid.
pub fn groups(list: &[RistrettoPoint], pointers: &[Pointer], rows: &[RistrettoPoint]) -> Result<Groups, String> {
    let mut at: BTreeMap<[u8; 32], usize> = BTreeMap::new();
    for (i, t) in list.iter().enumerate() {
        if t.is_identity() {
            return Err(format!("list tag {i} is the identity: the tag key is 0"));
        }
        if let Some(j) = at.insert(t.compress().to_bytes(), i) {
            return Err(format!("list rows {j} and {i} have the same tag"));
        }
    }
    let lookup = |t: &RistrettoPoint| at.get(&t.compress().to_bytes()).copied();
    let mut up: BTreeMap<usize, (usize, usize)> = BTreeMap::new(); // new → (pointer, old)
    let mut olds: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (a, (new, old)) in pointers.iter().enumerate() {
        let n = lookup(new).ok_or_else(|| format!("pointer {a}: its new tag is not a list tag"))?;
        let o = lookup(old).ok_or_else(|| format!("pointer {a}: its old tag is not a list tag"))?;
        if let Some((b, _)) = up.insert(n, (a, o)) {
            return Err(format!("pointers {b} and {a} have the same new tag"));
        }
        olds.entry(o).or_default().push(a);
    }
    // root_of[l]: Some(root) or None (unrooted). A walk longer than the list loops.
    let root_of: Vec<Option<usize>> = (0..list.len())
        .map(|l| {
            let mut cur = l;
            for _ in 0..=list.len() {
                match up.get(&cur) {
                    None => return Some(cur),
                    Some((_, o)) => cur = *o,
                }
            }
            None
        })
        .collect();
    let mut by_root: BTreeMap<[u8; 32], Chain> = BTreeMap::new();
    for (l, r) in root_of.iter().enumerate() {
        if *r == Some(l) {
            by_root
                .insert(list[l].compress().to_bytes(), Chain { root: l, tags: vec![], pointers: vec![], rows: vec![] });
        }
    }
    let mut unrooted_tags = vec![];
    let mut unrooted_pointers = BTreeSet::new();
    for (l, r) in root_of.iter().enumerate() {
        let ptr = up.get(&l).map(|(a, _)| *a);
        match r.and_then(|r| by_root.get_mut(&list[r].compress().to_bytes())) {
            Some(c) => {
                c.tags.push(l);
                c.pointers.extend(ptr);
            }
            None => {
                unrooted_tags.push(l);
                unrooted_pointers.extend(ptr);
            }
        }
    }
    let (mut unlisted, mut unrooted, mut list_row) = (vec![], vec![], vec![]);
    for (q, t) in rows.iter().enumerate() {
        let l = lookup(t);
        list_row.push(l);
        match l {
            None => unlisted.push(q),
            Some(l) => match root_of[l].and_then(|r| by_root.get_mut(&list[r].compress().to_bytes())) {
                Some(c) => c.rows.push(q),
                None => unrooted.push(q),
            },
        }
    }
    let mut chains: Vec<Chain> = by_root.into_values().collect();
    for c in &mut chains {
        c.pointers.sort_unstable();
    }
    Ok(Groups {
        chains,
        unrooted_tags,
        unrooted_pointers: unrooted_pointers.into_iter().collect(),
        forks: olds.into_values().filter(|v| v.len() > 1).collect(),
        unlisted,
        unrooted,
        list_row,
    })
}

/// A tag's validity interval: its `(start, end)` pointers (§7.7).
pub type Interval = (Option<usize>, Option<usize>);

/// `(start, end)` pointers of each tag of chain `c` (in the order of `Chain::tags`) given its
/// pointers in increasing board index; refuses an order that is not exactly the chain's
/// pointers or that puts a replacement before the one creating its old credential.
pub fn validity(
    g: &Groups,
    c: usize,
    list: &[RistrettoPoint],
    pointers: &[Pointer],
    order: &[usize],
) -> Result<Vec<Interval>, String> {
    let chain = g.chains.get(c).ok_or_else(|| format!("no chain {c}"))?;
    let mut named = order.to_vec();
    named.sort_unstable();
    if named != chain.pointers {
        return Err(format!("chain {c}: the pointer order {order:?} is not its pointers {:?}", chain.pointers));
    }
    let row = |t: &RistrettoPoint| chain.tags.iter().copied().find(|l| list[*l] == *t);
    let mut created: BTreeMap<usize, usize> = BTreeMap::new(); // list row → position in order
    for (i, a) in order.iter().enumerate() {
        let (new, old) = pointers.get(*a).ok_or_else(|| format!("chain {c}: no pointer {a}"))?;
        let (Some(n), Some(o)) = (row(new), row(old)) else {
            return Err(format!("chain {c}: pointer {a} is of another chain"));
        };
        if o != chain.root && !created.contains_key(&o) {
            return Err(format!("chain {c}: pointer {a} precedes the replacement creating its old credential"));
        }
        created.insert(n, i);
    }
    Ok(chain
        .tags
        .iter()
        .map(|l| match created.get(l) {
            None => (None, order.first().copied()),
            Some(i) => (Some(order[*i]), order.get(i + 1).copied()),
        })
        .collect())
}
