//! cargo-fuzz entry point of target `ballot`: the plain function `dobush_fuzz::ballot` (see its
//! documentation in `fuzz/src/lib.rs`), also run on stable by `fuzz_smoke`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dobush_fuzz::ballot(data);
});
