//! How the client prints: the API's JSON with `--json`, else a table sized to the terminal.

use std::io::IsTerminal;

use comfy_table::{presets, ContentArrangement, Table};
use serde_json::Value;

/// Prints `value` as pretty JSON.
pub fn json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values always serialise")
    );
}

/// Prints rows under `headers`; on a terminal, wrapped to its width (`COLUMNS`, else 100).
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    if std::io::stdout().is_terminal() {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100);
        table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(width);
    }
    table.set_header(headers.to_vec());
    for row in rows {
        table.add_row(row);
    }
    println!("{table}");
}

/// A field for a table cell: text as it is, null as "-", anything else as JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(text) if text.is_empty() => "-".into(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// One object as a two-column table of its fields.
pub fn fields(value: &Value, names: &[&str]) {
    let rows = names
        .iter()
        .map(|name| vec![(*name).to_string(), cell(&value[*name])])
        .collect();
    table(&["FIELD", "VALUE"], rows);
}
