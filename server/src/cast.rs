//! Casting a ballot, in the order a cast goes through: [`gate`], the checks of who may cast what,
//! now; then the ballot's proofs are verified and the cast recorded (docs/server.md §Casting).

pub mod gate;
