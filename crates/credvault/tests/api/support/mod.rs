//! The test harness, by concern: starting and talking to a server ([`server`]), setting up
//! teams and users ([`world`]), request bodies and key files ([`fixtures`]), credential calls
//! ([`calls`]), assertions ([`assert`]) and checking tokens independently ([`jose`]); for
//! notifications, an SMTP relay ([`mail`]) and a webhook receiver ([`webhook`]) that record what
//! they get; the tests' Python ([`python`]); the web console in a real browser ([`browser`]).

mod assert;
mod browser;
mod calls;
mod fixtures;
mod in_process;
mod jose;
mod mail;
mod python;
mod server;
mod webhook;
mod world;

pub use assert::*;
pub use browser::*;
pub use calls::*;
pub use fixtures::*;
pub use jose::*;
pub use mail::*;
pub use python::*;
pub use server::*;
pub use webhook::*;
pub use world::*;
