//! Casting a ballot, in the order a cast goes through: [`gate`], the checks of who may cast what,
//! now; [`batch`], the ballot's proofs verified in batches with the casts arriving at the same
//! time; [`commit`], the verified casts recorded in groups, one transaction and one signed head
//! each, with the voters' [`issuance`] (docs/server.md §Casting).

pub mod batch;
pub mod commit;
pub mod gate;
pub mod issuance;
