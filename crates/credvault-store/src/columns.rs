//! Reading a result row's columns by name, one trait for every row type the store reads:
//! sqlx's SQLite and PostgreSQL rows and the inline reader's rusqlite row. The row mappers in
//! `rows.rs` are written once against it.

use serde::de::DeserializeOwned;
use sqlx::Row;

use crate::{Result, StoreError};

/// The column types the schema uses. A column that is missing or holds another type is a
/// [`StoreError::Corrupt`] naming it.
pub(crate) trait Columns {
    fn int(&self, name: &str) -> Result<i64>;
    fn opt_int(&self, name: &str) -> Result<Option<i64>>;
    fn text(&self, name: &str) -> Result<String>;
    fn opt_text(&self, name: &str) -> Result<Option<String>>;
    fn blob(&self, name: &str) -> Result<Vec<u8>>;
    fn flag(&self, name: &str) -> Result<bool>;

    /// A TEXT column holding JSON.
    fn json<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        serde_json::from_str(&self.text(name)?).map_err(|e| corrupt(name, e))
    }

    /// A TEXT column holding one of a closed set of names (a mode, a role).
    fn named<T>(&self, name: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
        let text = self.text(name)?;
        parse(&text).ok_or_else(|| corrupt(name, format!("unknown value {text:?}")))
    }
}

pub(crate) fn corrupt(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {column}: {e}"))
}

/// Every sqlx row whose database decodes the schema's column types: SQLite's and
/// PostgreSQL's.
impl<R> Columns for R
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn int(&self, name: &str) -> Result<i64> {
        get(self, name)
    }
    fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        get(self, name)
    }
    fn text(&self, name: &str) -> Result<String> {
        get(self, name)
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>> {
        get(self, name)
    }
    fn blob(&self, name: &str) -> Result<Vec<u8>> {
        get(self, name)
    }
    fn flag(&self, name: &str) -> Result<bool> {
        get(self, name)
    }
}

/// One column of a sqlx row.
fn get<'r, R, T>(row: &'r R, name: &str) -> Result<T>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    row.try_get(name).map_err(|e| corrupt(name, e))
}
