//! The server's JSON API bodies and the register import (`dobush_server::fuzzing`, feature
//! `fuzzing`): decoded and checked as the handlers do before they touch the database. Nothing may
//! panic; every defect must become a 4xx error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dobush_server::fuzzing::api_bodies(data);
});
