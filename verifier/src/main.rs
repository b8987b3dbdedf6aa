//! The independent Dobush verifier. Written from `docs/protocol/` and `docs/record-format.md`
//! only; it must never depend on a crate of this workspace. Built under issue 5.

fn main() {
    println!("dobush-verifier {}", env!("CARGO_PKG_VERSION"));
}
