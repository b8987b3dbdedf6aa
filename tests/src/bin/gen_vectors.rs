//! Writes the known-answer vectors to `vectors/` (run from the repository root:
//! `cargo run -p dobush-tests --bin gen_vectors`). Existing vectors are a contract: change them
//! only together with the protocol version.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    std::fs::create_dir_all(&dir)?;
    for (name, contents) in dobush_tests::vectors::generate() {
        std::fs::write(dir.join(name), contents)?;
        println!("wrote vectors/{name}");
    }
    Ok(())
}
