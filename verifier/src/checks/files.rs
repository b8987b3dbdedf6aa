//! V01 `files` (`docs/record-format.md` §Election record): a record is a directory holding
//! `record.json` and `board.jsonl` and, once a v2 campaign's filter has run, the transcripts
//! under `filter/` (`filter/<i>.json`, `filter/<i>.<board index>.json`). Run by `verify_dir` only,
//! and reported only when a file cannot be read (nothing else can then be checked). Which
//! transcript files a record must hold, and that it holds no other, is V20's (`filtered.rs`).

use std::io::Read;
use std::path::Path;

use crate::checks::Check;
use crate::filtered::{FILTER_DIR, MAX_FILTER_FILE};
use crate::report::Running;

/// What a record directory holds: `record.json`, `board.jsonl` and every file under `filter/`
/// (name relative to the record directory, e.g. `filter/0.json`; by name ascending).
pub struct Opened {
    /// `record.json`.
    pub record: String,
    /// `board.jsonl`.
    pub board: Vec<u8>,
    /// The files under `filter/`.
    pub filter: Vec<(String, Vec<u8>)>,
}

/// How it runs: the record directory in; its files' contents out when they are read.
pub type Run = fn(&Path, &mut Running) -> Option<Opened>;

/// The check.
pub const CHECK: Check<Run> = Check {
    id: "V01",
    name: "files",
    description: "record.json, board.jsonl and the filter transcripts are readable",
    run,
};

fn run(dir: &Path, c: &mut Running) -> Option<Opened> {
    let filter = filter_files(dir, c);
    match (std::fs::read_to_string(dir.join("record.json")), std::fs::read(dir.join("board.jsonl")), filter) {
        (Ok(record), Ok(board), Some(filter)) => Some(Opened { record, board, filter }),
        (r, b, _) => {
            if let Err(e) = r {
                c.fail(format!("record.json: {e}"));
            }
            if let Err(e) = b {
                c.fail(format!("board.jsonl: {e}"));
            }
            None
        }
    }
}

/// Whether `name` has the form of a transcript file's name: `<decimal>.json` or
/// `<decimal>.<decimal>.json`, without leading zeros.
pub fn transcript_name(name: &str) -> bool {
    let decimal = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    match name.strip_suffix(".json").map(|s| s.split('.').collect::<Vec<_>>()).as_deref() {
        Some([i]) => decimal(i),
        Some([i, at]) => decimal(i) && decimal(at),
        _ => false,
    }
}

/// Reads every file under the record directory's `filter/` (none when it is absent), by name
/// ascending; `Err` with every located reason when anything there is not a transcript file (a
/// directory, a link, another name) or a file is over [`MAX_FILTER_FILE`].
pub fn read_filter_dir(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, Vec<String>> {
    let mut c = crate::report::Report::start(CHECK.id, CHECK.name, CHECK.description);
    let read = filter_files(dir, &mut c);
    let mut rep = crate::report::Report::default();
    rep.finish(c);
    read.ok_or_else(|| rep.failures_of(CHECK.name))
}

fn filter_files(dir: &Path, c: &mut Running) -> Option<Vec<(String, Vec<u8>)>> {
    let path = dir.join(FILTER_DIR);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Vec::new()),
        Err(e) => {
            c.fail(format!("{FILTER_DIR}/: {e}"));
            return None;
        }
        Ok(m) if !m.is_dir() => {
            c.fail(format!(
                "{FILTER_DIR}: not a directory (a record's filter transcripts are in the directory filter/)"
            ));
            return None;
        }
        Ok(_) => {}
    }
    let listing = match std::fs::read_dir(&path) {
        Ok(l) => l,
        Err(e) => {
            c.fail(format!("{FILTER_DIR}/: {e}"));
            return None;
        }
    };
    let mut out = Vec::new();
    let mut candidates = Vec::new();
    let mut ok = true;
    for item in listing {
        let item = match item {
            Ok(i) => i,
            Err(e) => {
                c.fail(format!("{FILTER_DIR}/: {e}"));
                ok = false;
                continue;
            }
        };
        let Some(name) = item.file_name().to_str().map(str::to_owned) else {
            c.fail(format!("{FILTER_DIR}/{}: a name that is not UTF-8", item.file_name().to_string_lossy()));
            ok = false;
            continue;
        };
        let shown = format!("{FILTER_DIR}/{name}");
        match item.file_type() {
            Ok(t) if t.is_file() => {}
            Ok(_) => {
                c.fail(format!("{shown}: not a regular file (filter/ holds only the transcripts' files)"));
                ok = false;
                continue;
            }
            Err(e) => {
                c.fail(format!("{shown}: {e}"));
                ok = false;
                continue;
            }
        }
        if !transcript_name(&name) {
            c.fail(format!(
                "{shown}: not the name of a filter transcript (filter/<i>.json or filter/<i>.<board index>.json)"
            ));
            ok = false;
            continue;
        }
        match item.metadata() {
            Ok(m) => candidates.push((shown, item.path(), m.len())),
            Err(e) => {
                c.fail(format!("{shown}: {e}"));
                ok = false;
            }
        }
    }
    // bounded before anything is read (review 19-filtered-verifier M1): a hostile record of many
    // large files must be refused, not read until the verifier runs out of memory
    let total: u64 = candidates.iter().map(|(_, _, len)| *len).fold(0, u64::saturating_add);
    if candidates.len() > MAX_FILTER_FILES || total > MAX_FILTER_TOTAL {
        c.fail(format!(
            "{FILTER_DIR}/: {} files of {total} bytes in all; this version reads at most {MAX_FILTER_FILES} files and \
             {MAX_FILTER_TOTAL} bytes (a streaming reader is not built yet)",
            candidates.len()
        ));
        return None;
    }
    for (shown, path, _) in candidates {
        match read_bounded(&path) {
            Ok(bytes) => out.push((shown, bytes)),
            Err(e) => {
                c.fail(format!("{shown}: {e}"));
                ok = false;
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    ok.then_some(out)
}

/// The most files under `filter/` this version reads (a record has one per style, or a few more
/// after a refilter).
pub const MAX_FILTER_FILES: usize = 1024;
/// The most bytes under `filter/` this version reads into memory, in all.
pub const MAX_FILTER_TOTAL: u64 = 4 << 30;

/// The file's bytes, refused when they are more than [`MAX_FILTER_FILE`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let too_large = |n: u64| {
        format!(
            "{n} bytes or more, over the {MAX_FILTER_FILE} bytes this version reads into memory (a streaming reader \
             is not built yet)"
        )
    };
    if len > MAX_FILTER_FILE {
        return Err(too_large(len));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(MAX_FILTER_FILE + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILTER_FILE {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Report;

    #[test]
    fn transcript_names() {
        for ok in ["0.json", "12.json", "1.40.json", "0.0.json"] {
            assert!(transcript_name(ok), "{ok}");
        }
        for bad in ["json", ".json", "01.json", "a.json", "1.json.bak", "1..json", "1.2.3.json", "1.02.json", "1.JSON"]
        {
            assert!(!transcript_name(bad), "{bad}");
        }
    }

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("dobush-verifier-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("record.json"), "{}").unwrap();
        std::fs::write(d.join("board.jsonl"), "").unwrap();
        d
    }

    fn open(d: &Path) -> (Option<Opened>, Vec<String>) {
        let mut c = Report::start("V01", "files", "-");
        let o = run(d, &mut c);
        let mut rep = Report::default();
        rep.finish(c);
        (o, rep.failures_of("files"))
    }

    #[test]
    fn the_filter_directory_is_read_and_anything_unexpected_refused() {
        let d = dir("read");
        let (o, f) = open(&d);
        assert!(o.is_some_and(|o| o.filter.is_empty()) && f.is_empty(), "no filter/: no transcript");
        std::fs::create_dir(d.join("filter")).unwrap();
        std::fs::write(d.join("filter/1.json"), b"b").unwrap();
        std::fs::write(d.join("filter/0.7.json"), b"a").unwrap();
        let (o, f) = open(&d);
        let files = o.unwrap().filter;
        assert_eq!(
            files,
            vec![("filter/0.7.json".to_owned(), b"a".to_vec()), ("filter/1.json".to_owned(), b"b".to_vec())]
        );
        assert!(f.is_empty());
        std::fs::write(d.join("filter/notes.txt"), b"x").unwrap();
        let (o, f) = open(&d);
        assert!(o.is_none() && f.iter().any(|m| m.starts_with("filter/notes.txt: not the name")), "{f:?}");
        std::fs::remove_file(d.join("filter/notes.txt")).unwrap();
        std::fs::create_dir(d.join("filter/2.json")).unwrap();
        let (o, f) = open(&d);
        assert!(o.is_none() && f.iter().any(|m| m.starts_with("filter/2.json: not a regular file")), "{f:?}");
        std::fs::remove_dir(d.join("filter/2.json")).unwrap();
        // a sparse file over the bound: refused before anything is read
        std::fs::File::create(d.join("filter/3.json")).unwrap().set_len(MAX_FILTER_FILE + 1).unwrap();
        let (o, f) = open(&d);
        assert!(o.is_none() && f.iter().any(|m| m.starts_with("filter/3.json: 1073741825 bytes")), "{f:?}");
        std::fs::remove_file(d.join("filter/3.json")).unwrap();
        // many files each within the bound, over it in all: refused before any is read
        for i in 3..8 {
            std::fs::File::create(d.join(format!("filter/{i}.json"))).unwrap().set_len(MAX_FILTER_FILE).unwrap();
        }
        let (o, f) = open(&d);
        assert!(o.is_none() && f.iter().any(|m| m.contains("7 files of 5368709122 bytes in all")), "{f:?}");
        for i in 3..8 {
            std::fs::remove_file(d.join(format!("filter/{i}.json"))).unwrap();
        }
        // and more files than any record holds
        for i in 10..(10 + MAX_FILTER_FILES) {
            std::fs::write(d.join(format!("filter/{i}.json")), b"{}").unwrap();
        }
        let (o, f) = open(&d);
        assert!(o.is_none() && f.iter().any(|m| m.contains("this version reads at most 1024 files")), "{f:?}");
        std::fs::remove_dir_all(d.join("filter")).unwrap();
        std::fs::write(d.join("filter"), b"").unwrap();
        let (o, f) = open(&d);
        assert!(o.is_none() && f.iter().any(|m| m.contains("not a directory")), "{f:?}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
