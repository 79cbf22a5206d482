//! One Python for every test that needs one: a virtualenv in the workspace's
//! `target/test-venv` with the packages the checkers, sinks and browser tests import
//! (`tests/openapi_check.py`, `tests/smtp_sink.py`, `tests/console_e2e.py`; Playwright drives
//! Debian's Chromium and never downloads a browser). Created and filled from PyPI the first
//! time (about half a minute), then reused by every later run while it has them all.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// What pip installs, and the modules that prove each is there.
const PACKAGES: &[&str] = &[
    "openapi-spec-validator",
    "jsonschema",
    "aiosmtpd",
    "playwright",
];
const IMPORTS: &str = "import openapi_spec_validator, jsonschema, aiosmtpd, playwright";

/// The virtualenv's `python`, ready to import [`PACKAGES`]. The first call of the run makes
/// sure of that (creating or completing the virtualenv); calls from other threads meanwhile
/// wait for it, and later calls return at once.
pub fn test_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(make_test_python).clone()
}

fn make_test_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv");
    let python = venv.join("bin/python");
    let ready = |python: &Path| {
        python.exists()
            && Command::new(python)
                .args(["-c", IMPORTS])
                .output()
                .is_ok_and(|out| out.status.success())
    };
    if ready(&python) {
        return python;
    }
    // A virtualenv left half-made (an interrupted run) is completed: venv and pip both
    // accept one that exists.
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PACKAGES));
    assert!(ready(&python), "{} lacks {PACKAGES:?}", python.display());
    python
}

/// Runs `cmd`, panicking with its output unless it succeeds.
fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
