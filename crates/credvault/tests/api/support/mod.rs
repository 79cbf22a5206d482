//! The test harness, by concern: starting and talking to a server ([`server`]), setting up
//! teams and users ([`world`]), request bodies and key files ([`fixtures`]), credential calls
//! ([`calls`]), assertions ([`assert`]) and checking tokens independently ([`jose`]).

mod assert;
mod calls;
mod fixtures;
mod in_process;
mod jose;
mod server;
mod world;

pub use assert::*;
pub use calls::*;
pub use fixtures::*;
pub use jose::*;
pub use server::*;
pub use world::*;
