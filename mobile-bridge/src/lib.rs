//! Voter-side protocol for the mobile apps. Filled under issue 6; a thin layer over `dobush-crypto`.
