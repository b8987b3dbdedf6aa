//! The server's modules form layers and import one way (docs/server.md §Layout).
//!
//! Every module of `server/src` (a file; its inline `mod tests` belong to it) is read with its
//! comments and string literals removed, and every path it names is collected: `crate::…`,
//! `super::…`, `self::…` and paths through the child modules it declares, in `use` trees and in
//! expressions alike. A path is resolved to the deepest module file it names. Then:
//!
//! * each top-level module has a layer ([`LAYERS`], lowest first: foundation, storage, services,
//!   http, application), inherited by its submodules, and no module names a module of a layer
//!   above its own;
//! * the modules form no cycle: neither the top-level modules (a module with its submodules is
//!   one node) nor the module files.
//!
//! A new top-level module must be given a layer here; a module listed here that no longer exists
//! fails the test as well.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first; a module may name modules of its own layer and of those below.
const LAYERS: &[(&str, &[&str])] = &[
    // what every layer uses: the error type, settings, time, logging, domain values
    ("foundation", &["error", "configuration", "clock", "telemetry", "domain"]),
    // the database: table definitions, the connection pool, rows
    ("storage", &["schema", "db", "models"]),
    // the services: what the server does, on the database, without HTTP
    (
        "services",
        &[
            "alert_push",
            "audit",
            "webapp",
            "ceremony",
            "commission",
            "package",
            "credentials",
            "board_log",
            "close",
            "cast",
            "lifecycle",
            "tally",
            "filter",
            "election_protocol",
            "shmt",
            "export",
            "demo",
        ],
    ),
    // requests and answers: state, extractors, refusals, routes
    (
        "http",
        &[
            "metrics",
            "connection",
            "ratelimit",
            "refusal_counts",
            "state",
            "client_address",
            "read_cache",
            "refusal",
            "auth",
            "extract",
            "routes",
            "fuzzing",
        ],
    ),
    // building and running the server
    ("application", &["startup"]),
];

type Module = Vec<String>;

/// Where a module names another: the file's module, the line.
#[derive(Debug, Clone)]
struct Use {
    from: Module,
    to: Module,
    line: usize,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every module file under `src` (not `lib.rs`, `main.rs`) with its module path.
fn module_files(dir: &Path, prefix: &[String], out: &mut Vec<(Module, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            let mut p = prefix.to_vec();
            p.push(name);
            module_files(&path, &p, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            if prefix.is_empty() && (name == "lib" || name == "main") {
                continue;
            }
            assert_ne!(name, "mod", "{}: the crate uses `x.rs` + `x/`, not `mod.rs`", path.display());
            let mut p = prefix.to_vec();
            p.push(name);
            out.push((p, path));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Path,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Other,
}

/// The tokens that matter for paths, with their line; comments, strings and characters dropped.
fn tokens(text: &str) -> Vec<(Tok, usize)> {
    let b: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| b.get(i).copied().unwrap_or('\0');
    while i < b.len() {
        let c = b[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if at(i + 1) == '/' => {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 0;
                loop {
                    if i >= b.len() {
                        break;
                    }
                    if b[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if b[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if b[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => i = skip_string(&b, i + 1, &mut line),
            'r' | 'b' if is_raw_string(&b, i) => {
                let mut j = i + 1;
                if b[i] == 'b' {
                    j += 1;
                }
                let mut hashes = 0;
                while at(j) == '#' {
                    hashes += 1;
                    j += 1;
                }
                j += 1; // the opening quote
                loop {
                    if j >= b.len() {
                        break;
                    }
                    if b[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#') {
                        j += 1 + hashes;
                        break;
                    }
                    if b[j] == '\n' {
                        line += 1;
                    }
                    j += 1;
                }
                i = j;
            }
            'b' if at(i + 1) == '"' => i = skip_string(&b, i + 2, &mut line),
            'b' if at(i + 1) == '\'' => i = skip_char(&b, i + 1),
            '\'' => {
                // a character literal, or a lifetime / label (left as an identifier)
                if at(i + 1) == '\\' || at(i + 2) == '\'' {
                    i = skip_char(&b, i);
                } else {
                    i += 1;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                    i += 1;
                }
                out.push((Tok::Ident(b[start..i].iter().collect()), line));
            }
            ':' if at(i + 1) == ':' => {
                out.push((Tok::Path, line));
                i += 2;
            }
            c if c.is_whitespace() => i += 1,
            c => {
                let tok = match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    ',' => Tok::Comma,
                    ';' => Tok::Semi,
                    '*' => Tok::Star,
                    _ => Tok::Other,
                };
                out.push((tok, line));
                i += 1;
            }
        }
    }
    out
}

fn is_raw_string(b: &[char], i: usize) -> bool {
    let mut j = i + 1;
    if b[i] == 'b' {
        if b.get(j) != Some(&'r') {
            return false;
        }
        j += 1;
    }
    while b.get(j) == Some(&'#') {
        j += 1;
    }
    // not the tail of an identifier such as `bar"`
    let boundary = i == 0 || !(b[i - 1].is_alphanumeric() || b[i - 1] == '_');
    boundary && b.get(j) == Some(&'"')
}

fn skip_string(b: &[char], mut i: usize, line: &mut usize) -> usize {
    while i < b.len() {
        match b[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            '\n' => {
                *line += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    i
}

fn skip_char(b: &[char], i: usize) -> usize {
    // `i` is the opening quote
    let mut j = i + 1;
    if b.get(j) == Some(&'\\') {
        j += 2;
        while j < b.len() && b[j] != '\'' {
            j += 1;
        }
        j + 1
    } else {
        j + 2
    }
}

/// The paths a file names, as module paths from the crate root (not yet resolved to a file).
fn paths(file: &[String], toks: &[(Tok, usize)]) -> Vec<(Vec<String>, usize)> {
    // the child modules this file declares (`mod x;`)
    let mut children = BTreeSet::new();
    for w in toks.windows(3) {
        if let [(Tok::Ident(m), _), (Tok::Ident(name), _), (Tok::Semi, _)] = w
            && m == "mod"
        {
            children.insert(name.clone());
        }
    }
    let mut out = Vec::new();
    // inline modules (`mod tests { … }`): (name, brace depth inside it)
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let (tok, line) = &toks[i];
        let after_path = i > 0 && toks[i - 1].0 == Tok::Path;
        match tok {
            Tok::Open => depth += 1,
            Tok::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(m) if m == "mod" => {
                if let (Some((Tok::Ident(name), _)), Some((Tok::Open, _))) = (toks.get(i + 1), toks.get(i + 2)) {
                    inline.push((name.clone(), depth + 1));
                }
            }
            Tok::Ident(word) if !after_path && toks.get(i + 1).is_some_and(|t| t.0 == Tok::Path) => {
                let mut here: Vec<String> = file.to_vec();
                here.extend(inline.iter().map(|(n, _)| n.clone()));
                let base = match word.as_str() {
                    "crate" => Some((Vec::new(), i + 2)),
                    "self" => Some((here, i + 2)),
                    "super" => {
                        let mut base = here;
                        let mut j = i;
                        while let (Some((Tok::Ident(s), _)), Some((Tok::Path, _))) = (toks.get(j), toks.get(j + 1)) {
                            if s != "super" {
                                break;
                            }
                            base.pop();
                            j += 2;
                        }
                        Some((base, j))
                    }
                    w if inline.is_empty() && children.contains(w) => Some((here, i)),
                    _ => None,
                };
                if let Some((base, start)) = base {
                    i = use_tree(toks, start, &base, *line, &mut out);
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Reads the use tree (or path) at `toks[i]` under `prefix`; returns the index after it.
fn use_tree(
    toks: &[(Tok, usize)],
    mut i: usize,
    prefix: &[String],
    line: usize,
    out: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let mut path = prefix.to_vec();
    loop {
        match toks.get(i) {
            Some((Tok::Ident(name), _)) if name == "self" => i += 1,
            Some((Tok::Ident(name), _)) => {
                path.push(name.clone());
                i += 1;
            }
            Some((Tok::Open, _)) => {
                i += 1;
                loop {
                    match toks.get(i) {
                        Some((Tok::Close, _)) => return i + 1,
                        Some((Tok::Comma, _)) => i += 1,
                        Some(_) => i = use_tree(toks, i, &path, line, out),
                        None => return i,
                    }
                }
            }
            Some((Tok::Star, _)) => {
                i += 1;
                break;
            }
            _ => break,
        }
        if toks.get(i).map(|t| &t.0) == Some(&Tok::Path) {
            i += 1;
        } else {
            break;
        }
    }
    out.push((path, line));
    i
}

/// The deepest module file that `path` names.
fn resolve(path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p))
}

fn uses() -> (BTreeSet<Module>, Vec<Use>) {
    let mut files = Vec::new();
    module_files(&src_dir(), &[], &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut all = Vec::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        for (p, line) in paths(module, &tokens(&text)) {
            if let Some(to) = resolve(&p, &modules)
                && &to != module
            {
                all.push(Use { from: module.clone(), to, line });
            }
        }
    }
    (modules, all)
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&top))
}

fn name(m: &[String]) -> String {
    m.join("::")
}

fn file_of(m: &[String]) -> String {
    format!("server/src/{}.rs", m.join("/"))
}

/// The strongly connected components with more than one node (Tarjan).
fn cycles(nodes: &BTreeSet<String>, edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on: BTreeSet<String>,
        out: Vec<Vec<String>>,
    }
    fn visit(t: &mut T<'_>, v: &str) {
        let n = t.index.len();
        t.index.insert(v.to_string(), n);
        t.low.insert(v.to_string(), n);
        t.stack.push(v.to_string());
        t.on.insert(v.to_string());
        for w in t.edges.get(v).cloned().unwrap_or_default() {
            if !t.index.contains_key(&w) {
                visit(t, &w);
                let l = t.low[&w].min(t.low[v]);
                t.low.insert(v.to_string(), l);
            } else if t.on.contains(&w) {
                let l = t.index[&w].min(t.low[v]);
                t.low.insert(v.to_string(), l);
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(&w);
                let done = w == v;
                scc.push(w);
                if done {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in nodes {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// Describes each cycle with the lines that close it.
fn report_cycles(what: &str, uses: &[Use], key: impl Fn(&Module) -> String, nodes: BTreeSet<String>) -> Vec<String> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for u in uses {
        let (a, b) = (key(&u.from), key(&u.to));
        if a != b {
            edges.entry(a).or_default().insert(b);
        }
    }
    cycles(&nodes, &edges)
        .into_iter()
        .map(|scc| {
            let mut lines = vec![format!("{what} form a cycle: {}", scc.join(", "))];
            let mut seen = BTreeSet::new();
            for u in uses {
                let (a, b) = (key(&u.from), key(&u.to));
                if a != b && scc.contains(&a) && scc.contains(&b) && seen.insert((a.clone(), b.clone())) {
                    lines.push(format!("    {a} → {b}  ({}:{})", file_of(&u.from), u.line));
                }
            }
            lines.join("\n")
        })
        .collect()
}

#[test]
fn every_top_level_module_has_one_layer() {
    let (modules, _) = uses();
    let tops: BTreeSet<&str> = modules.iter().map(|m| m[0].as_str()).collect();
    let mut problems = Vec::new();
    for t in &tops {
        if LAYERS.iter().filter(|(_, ms)| ms.contains(t)).count() != 1 {
            problems.push(format!("module {t} must be in exactly one layer of tests/layers.rs"));
        }
    }
    for (layer, ms) in LAYERS {
        for m in *ms {
            if !tops.contains(m) {
                problems.push(format!("layer {layer} lists {m}, which is not a module of server/src"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let (_, uses) = uses();
    let mut problems = Vec::new();
    for u in &uses {
        let (Some(from), Some(to)) = (layer_of(&u.from[0]), layer_of(&u.to[0])) else { continue };
        if to > from {
            problems.push(format!(
                "{} ({}) names {} ({}), a layer above: {}:{}",
                name(&u.from),
                LAYERS[from].0,
                name(&u.to),
                LAYERS[to].0,
                file_of(&u.from),
                u.line
            ));
        }
    }
    assert!(problems.is_empty(), "upward imports:\n{}", problems.join("\n"));
}

#[test]
fn the_modules_form_no_cycle() {
    let (modules, uses) = uses();
    let tops: BTreeSet<String> = modules.iter().map(|m| m[0].clone()).collect();
    let files: BTreeSet<String> = modules.iter().map(|m| name(m)).collect();
    let mut problems = report_cycles("top-level modules", &uses, |m| m[0].clone(), tops);
    problems.extend(report_cycles("module files", &uses, |m| name(m), files));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The reader itself: what it must find and what it must not.
#[test]
fn the_reader_finds_paths_and_ignores_comments_and_strings() {
    let text = r###"
        //! `crate::a::b` in a doc comment
        use crate::a::{self, b::{C, d}};
        use super::sibling;
        mod child;
        pub use child::Thing;
        /* crate::nested /* crate::deeper */ crate::still */
        fn f() -> &'static str { let _ = crate::x::y(); let _ = 'c'; "crate::in_string" }
        fn g<'a>() { let _ = r#"crate::raw"#; let _ = br"crate::raw_bytes"; }
        mod tests { use super::*; use crate::t::u; }
    "###;
    let found: BTreeSet<String> =
        paths(&["p".into(), "q".into()], &tokens(text)).into_iter().map(|(p, _)| p.join("::")).collect();
    let want: BTreeSet<String> =
        ["a", "a::b::C", "a::b::d", "p::sibling", "p::q::child::Thing", "x::y", "p::q", "t::u"]
            .into_iter()
            .map(String::from)
            .collect();
    assert_eq!(found, want);
}
