//! cargo-fuzz entry point of target `record`: the plain function `dobush_fuzz::record` (see its
//! documentation in `fuzz/src/lib.rs`), also run on stable by `fuzz_smoke`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dobush_fuzz::record(data);
});
