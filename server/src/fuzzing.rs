//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, never enabled in a server
//! build): every JSON request body and the register import, decoded and checked as the handlers
//! do before they touch the database. The request types stay private to their modules.

/// Feeds `bytes` to every request-body decoder of the API.
pub fn api_bodies(bytes: &[u8]) {
    crate::routes::campaigns::fuzz_bodies(bytes);
    crate::routes::ballots::fuzz_bodies(bytes);
    crate::routes::cabinet::fuzz_bodies(bytes);
    crate::routes::replacement::fuzz_bodies(bytes);
    crate::routes::staff::fuzz_bodies(bytes);
    crate::routes::ceremony::fuzz_bodies(bytes);
    crate::routes::register::fuzz_bodies(bytes);
}
