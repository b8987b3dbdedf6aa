//! Writes the seed corpora of the fuzz targets (`dobush_tests::fuzz_seeds`). Run from the
//! repository root: `cargo run -p dobush-tests --bin fuzz_seeds -- fuzz/seeds`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/seeds".into()));
    dobush_tests::fuzz_seeds::write_all(&out)?;
    println!("seed corpora written under {}", out.display());
    Ok(())
}
