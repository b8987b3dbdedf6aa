//! cargo-fuzz entry point of target `verifier`: the plain function `dobush_fuzz::verifier` (see its
//! documentation in `fuzz/src/lib.rs`), also run on stable by `fuzz_smoke`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dobush_fuzz::verifier(data);
});
