//! Driving the web console in a real headless Chromium: `tests/console_e2e.py` runs one
//! scenario with Playwright against Debian's `/usr/bin/chromium` (`scripts/test` installs it),
//! given the world the Rust test set up.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::python::test_python;
use super::server::{on_postgres, Server};

/// The browser the scenarios drive.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs `scenario` of `tests/console_e2e.py` against `server`, with `world` (merged with the
/// server's base URL) on its stdin. Panics with everything it printed unless every check
/// passed; returns what it reported with `RESULT`, or Null.
///
/// The SQLite run keeps its screenshots in `docs/console/` (the README shows them).
pub fn drive_console(server: &Server, scenario: &str, mut world: Value) -> Value {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install chromium (scripts/test does this as root)"
    );
    world["base"] = server.base.clone().into();
    world["failure_dir"] = std::env::temp_dir().to_string_lossy().into();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console_e2e.py");
    let mut cmd = Command::new(test_python());
    cmd.arg(&script)
        .arg(scenario)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !on_postgres() {
        cmd.env("CONSOLE_SCREENSHOTS", screenshot_dir());
    }
    let mut child = cmd.spawn().expect("cannot start console_e2e.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(world.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "console scenario {scenario} failed ({}):\n{stdout}{}\n--- server log ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        server.logs()
    );
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .map_or(Value::Null, |json| serde_json::from_str(json).unwrap())
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/console")
}
