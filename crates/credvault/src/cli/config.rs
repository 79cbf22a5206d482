//! Where the command-line client finds its server and key: a named profile in
//! `$XDG_CONFIG_HOME/credvault/config.toml` (mode 0600), which `CREDVAULT_URL` and
//! `CREDVAULT_API_KEY` override.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use etcetera::BaseStrategy;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::CliError;

pub const DEFAULT_PROFILE: &str = "default";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    pub url: String,
    pub api_key: String,
}

/// The server and key a command uses.
pub struct Target {
    pub url: String,
    pub api_key: Zeroizing<String>,
}

/// `$XDG_CONFIG_HOME/credvault/config.toml` (`~/.config/…` when the variable is unset).
pub fn path() -> Result<PathBuf, CliError> {
    let base = etcetera::choose_base_strategy()
        .map_err(|e| CliError::Local(format!("cannot find the configuration directory: {e}")))?;
    Ok(base.config_dir().join("credvault").join("config.toml"))
}

pub fn load() -> Result<Config, CliError> {
    let path = path()?;
    match fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| CliError::Local(format!("{} is not valid: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(CliError::Local(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Writes the configuration for the user only: the directory 0700, the file 0600.
pub fn save(config: &Config) -> Result<PathBuf, CliError> {
    let path = path()?;
    let local =
        |e: std::io::Error| CliError::Local(format!("cannot write {}: {e}", path.display()));
    let dir = path.parent().expect("the path has a directory");
    fs::create_dir_all(dir).map_err(local)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(local)?;
    let text = Zeroizing::new(
        toml::to_string(config)
            .map_err(|e| CliError::Local(format!("cannot write the configuration: {e}")))?,
    );
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(local)?;
    // An existing file keeps its mode on open; make sure it is the user's only.
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(local)?;
    file.write_all(text.as_bytes()).map_err(local)?;
    Ok(path)
}

/// The target of `profile`, with `CREDVAULT_URL` and `CREDVAULT_API_KEY` taking precedence.
pub fn target(profile: &str) -> Result<Target, CliError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (url, key) = (env("CREDVAULT_URL"), env("CREDVAULT_API_KEY"));
    let stored = if url.is_none() || key.is_none() {
        load()?.profiles.remove(profile)
    } else {
        None
    };
    let url = url
        .or_else(|| stored.as_ref().map(|p| p.url.clone()))
        .ok_or_else(|| not_logged_in(profile))?;
    let api_key = key
        .or_else(|| stored.map(|p| p.api_key))
        .ok_or_else(|| not_logged_in(profile))?;
    Ok(Target {
        url: url.trim_end_matches('/').to_string(),
        api_key: Zeroizing::new(api_key),
    })
}

fn not_logged_in(profile: &str) -> CliError {
    let flag = if profile == DEFAULT_PROFILE {
        String::new()
    } else {
        format!(" --profile {profile}")
    };
    CliError::Local(format!(
        "no server configured: run `credvault login --url URL{flag}`, or set CREDVAULT_URL and \
         CREDVAULT_API_KEY"
    ))
}
