//! The command-line client (API.md §10), run as a subprocess against a real server: login
//! from stdin into a private profile, environment overrides, each command's output as a table
//! and as JSON, a minted token usable from `$(…)`, and the exit statuses of refusals (1) and
//! usage errors (2).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::*;

/// The client with its configuration in `home` (`XDG_CONFIG_HOME`) and no server in the
/// environment unless `env` gives one; `stdin` is piped in.
fn cli(home: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_credvault"));
    cmd.args(args)
        .env("XDG_CONFIG_HOME", home)
        .env_remove("CREDVAULT_URL")
        .env_remove("CREDVAULT_API_KEY")
        .env_remove("CREDVAULT_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    // A command that fails before it reads stdin (a usage error) may have exited already.
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing stdin: {e}"
        );
    }
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A server, and a configuration directory logged in to it as the owner.
fn logged_in() -> (Server, TempDir) {
    let server = Server::start();
    let home = TempDir::new().unwrap();
    let out = cli(
        home.path(),
        &["login", "--url", &server.base],
        &[],
        OWNER_KEY,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (server, home)
}

#[tokio::test]
async fn login_reads_the_key_from_stdin_into_a_profile_only_the_user_can_read() {
    let (server, home) = logged_in();
    let file = home.path().join("credvault/config.toml");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains(&format!("url = \"{}\"", server.base)),
        "{text}"
    );
    let out = cli(home.path(), &["teams", "list"], &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test]
async fn login_with_an_unknown_key_fails_with_the_apis_message_and_saves_nothing() {
    let server = Server::start();
    let home = TempDir::new().unwrap();
    let out = cli(
        home.path(),
        &["login", "--url", &server.base],
        &[],
        "cvk_wrong",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the API key is unknown or revoked"),
        "{}",
        stderr(&out)
    );
    assert!(!home.path().join("credvault/config.toml").exists());
}

#[tokio::test]
async fn the_api_key_is_never_taken_as_an_argument() {
    let server = Server::start();
    let home = TempDir::new().unwrap();
    for args in [
        vec!["login", "--url", &server.base, "--api-key", OWNER_KEY],
        vec!["login", "--url", &server.base, OWNER_KEY],
    ] {
        let out = cli(home.path(), &args, &[], "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!stderr(&out).contains(OWNER_KEY), "the key is not echoed");
    }
    assert!(!home.path().join("credvault/config.toml").exists());
}

#[tokio::test]
async fn the_environment_overrides_any_profile() {
    let server = Server::start();
    let home = TempDir::new().unwrap();
    let env = [
        ("CREDVAULT_URL", server.base.as_str()),
        ("CREDVAULT_API_KEY", OWNER_KEY),
    ];
    let out = cli(home.path(), &["teams", "create", "Ops"], &env, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "1");
}

#[tokio::test]
async fn profiles_keep_several_servers_apart() {
    let (first, home) = logged_in();
    let second = Server::start();
    let out = cli(
        home.path(),
        &["login", "--url", &second.base, "--profile", "other"],
        &[],
        OWNER_KEY,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    second.team("Only on the second").await;
    first.team("Only on the first").await;
    let listed = |profile: &str| {
        stdout(&cli(
            home.path(),
            &["--profile", profile, "teams", "list"],
            &[],
            "",
        ))
    };
    assert!(listed("other").contains("Only on the second"));
    assert!(listed("default").contains("Only on the first"));
    let out = cli(
        home.path(),
        &["--profile", "missing", "teams", "list"],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("credvault login --url URL --profile missing"));
}

#[tokio::test]
async fn credentials_are_listed_as_a_table_and_as_the_apis_json() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await;
    let id = create_ok(&server, jwt_body(team, "stripe")).await;
    let table = stdout(&cli(home.path(), &["credentials", "list"], &[], ""));
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].split_whitespace().eq([
            "ID",
            "NAME",
            "MODE",
            "TEAM",
            "RESTRICTED",
            "EXPIRES",
            "LAST",
            "USED"
        ]),
        "{table}"
    );
    assert!(
        lines[1].split_whitespace().take(4).eq([
            id.to_string().as_str(),
            "stripe",
            "JWT",
            team.to_string().as_str()
        ]),
        "{table}"
    );
    let out = cli(home.path(), &["--json", "credentials", "list"], &[], "");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (_, api) = server.get(CREDENTIALS, OWNER_KEY).await;
    assert_eq!(json["user_credentials"], api["user_credentials"]);
    assert_eq!(json["meta"]["count"], 1);
}

#[tokio::test]
async fn a_credential_is_shown_field_by_field_or_as_json() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await;
    let id = create_ok(&server, jwt_body(team, "stripe")).await;
    let text = stdout(&cli(
        home.path(),
        &["credentials", "get", &id.to_string()],
        &[],
        "",
    ));
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().eq(["name", "stripe"])),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().eq(["mode", "JWT"])),
        "{text}"
    );
    let out = cli(
        home.path(),
        &["--json", "credentials", "get", &id.to_string()],
        &[],
        "",
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (_, api) = server.get(&cred_path(id), OWNER_KEY).await;
    assert_eq!(json, api);
}

#[tokio::test]
async fn token_prints_only_a_token_that_verifies_with_the_credentials_key() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let id = create_ok(&server, jwt_credential(team, "signing", "ES256", &key, 600)).await;
    let out = cli(
        home.path(),
        &["credentials", "token", &id.to_string()],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    assert_eq!(printed.lines().count(), 1, "{printed}");
    let token = printed.trim();
    assert!(verifies_with_jwk(
        token,
        &jwk_of(&server, id).await,
        "ES256"
    ));
}

#[tokio::test]
async fn an_api_refusal_exits_1_with_the_apis_message_and_field() {
    let (server, home) = logged_in();
    let out = cli(home.path(), &["credentials", "get", "999"], &[], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: credential 999 not found (HTTP 404)"
    );
    let out = cli(home.path(), &["teams", "create", "   "], &[], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("(field: name; HTTP 422)"),
        "{}",
        stderr(&out)
    );
    drop(server);
}

#[tokio::test]
async fn a_usage_error_exits_2() {
    let home = TempDir::new().unwrap();
    for args in [
        vec!["credentials", "list", "--bogus"],
        vec!["credentials", "get", "not-a-number"],
        vec!["login", "--url", "vault.example.com"],
    ] {
        let out = cli(home.path(), &args, &[], "cvk_x");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn an_unreachable_server_is_named_with_a_hint_to_log_in() {
    let home = TempDir::new().unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let env = [
        ("CREDVAULT_URL", url.as_str()),
        ("CREDVAULT_API_KEY", "cvk_x"),
    ];
    let out = cli(home.path(), &["teams", "list"], &env, "");
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(
        text.contains(&format!("cannot reach the credvault server at {url}")),
        "{text}"
    );
    assert!(text.contains("credvault login"), "{text}");
}

#[tokio::test]
async fn every_command_has_help_with_examples() {
    let home = TempDir::new().unwrap();
    for args in [
        vec!["login", "--help"],
        vec!["credentials", "list", "--help"],
        vec!["credentials", "get", "--help"],
        vec!["credentials", "token", "--help"],
        vec!["credentials", "delete", "--help"],
        vec!["teams", "list", "--help"],
        vec!["teams", "create", "--help"],
    ] {
        let out = cli(home.path(), &args, &[], "");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            stdout(&out).contains("Example"),
            "{args:?}: {}",
            stdout(&out)
        );
    }
}

/// `credvault credentials create …` in `home`, with `stdin`; returns the created credential's
/// JSON (`--json`).
fn create_via_cli(home: &Path, args: &[&str], stdin: &str) -> Value {
    let mut all = vec!["--json", "credentials", "create"];
    all.extend_from_slice(args);
    let out = cli(home, &all, &[], stdin);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn create_takes_a_key_file_a_payload_file_a_team_name_an_expiry_and_hosts() {
    let (server, home) = logged_in();
    server.team("Security Ops").await;
    let payload = home.path().join("payload.json");
    std::fs::write(&payload, r#"{"iss": "svc", "aud": "stripe"}"#).unwrap();
    let key = fixture_path("ec-p256-pkcs8.pem");
    let created = create_via_cli(
        home.path(),
        &[
            "--name",
            "stripe",
            "--team",
            "Security Ops",
            "--alg",
            "ES256",
            "--key-file",
            key.to_str().unwrap(),
            "--payload",
            &format!("@{}", payload.display()),
            "--expires-in",
            "90d",
            "--allowed-host",
            "api.stripe.com",
            "--allowed-host",
            "*.stripe.com",
        ],
        "",
    );
    assert_eq!(created["name"], "stripe");
    assert_eq!(created["jwt_algorithm"], "ES256");
    assert_eq!(
        created["jwt_payload"],
        serde_json::json!({"iss": "svc", "aud": "stripe"})
    );
    assert_eq!(
        created["allowed_hosts"],
        serde_json::json!(["api.stripe.com", "*.stripe.com"])
    );
    let days = (rfc3339_millis(&created["expires_at"]) - now_secs() * 1000) / 86_400_000;
    assert!((89..=90).contains(&days), "{}", created["expires_at"]);
    let id = id_of(&created);
    let out = cli(
        home.path(),
        &[
            "credentials",
            "token",
            &id.to_string(),
            "--url",
            "https://api.stripe.com/v1",
        ],
        &[],
        "",
    );
    assert!(verifies_with_jwk(
        stdout(&out).trim(),
        &jwk_of(&server, id).await,
        "ES256"
    ));
}

#[tokio::test]
async fn create_reads_a_key_from_stdin() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await.to_string();
    let key = fixture_key("rsa2048-pkcs8.pem");
    let created = create_via_cli(
        home.path(),
        &["--name", "gh", "--team", &team, "--key-file", "-"],
        &key,
    );
    assert_eq!(created["jwt_algorithm"], "RS256");
    mint_ok(&server, id_of(&created), None).await;
}

#[tokio::test]
async fn create_can_have_the_server_generate_the_key() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await.to_string();
    let created = create_via_cli(
        home.path(),
        &[
            "--name",
            "signer",
            "--team",
            &team,
            "--alg",
            "ES256",
            "--generate-key",
        ],
        "",
    );
    assert!(
        created["jwt_key_id"]
            .as_str()
            .is_some_and(|k| !k.is_empty()),
        "{created}"
    );
    mint_ok(&server, id_of(&created), None).await;
}

#[tokio::test]
async fn no_progress_line_is_drawn_when_stderr_is_not_a_terminal() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await.to_string();
    let args = [
        "credentials",
        "create",
        "--name",
        "rsa",
        "--team",
        &team,
        "--generate-key",
        "--key-size",
        "3072",
    ];
    let out = cli(home.path(), &args, &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "nothing on a piped stderr");
}

#[tokio::test]
async fn create_makes_a_text_credential_from_stdin_without_echoing_it() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await.to_string();
    let out = cli(
        home.path(),
        &[
            "credentials",
            "create",
            "--name",
            "token",
            "--team",
            &team,
            "--mode",
            "TEXT",
            "--value",
            "-",
        ],
        &[],
        "s3cret-text-value",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains("s3cret-text-value"));
    let (_, listed) = server.get(CREDENTIALS, OWNER_KEY).await;
    assert_eq!(listed["user_credentials"][0]["mode"], "TEXT");
}

#[tokio::test]
async fn create_refuses_bad_input_before_or_from_the_server() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await.to_string();
    let key = fixture_path("ec-p256-pkcs8.pem");
    let key = key.to_str().unwrap();
    let base = [
        "credentials",
        "create",
        "--name",
        "x",
        "--team",
        &team,
        "--key-file",
        key,
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        cli(home.path(), &args, &[], "")
    };
    let out = run(&["--payload", "{not json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--payload is not valid JSON"));
    let out = run(&["--expires-in", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["--alg", "XS256"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("field: jwt_algorithm; HTTP 422"),
        "{}",
        stderr(&out)
    );
    let out = cli(
        home.path(),
        &[
            "credentials",
            "create",
            "--name",
            "x",
            "--team",
            "Nobody",
            "--key-file",
            key,
        ],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no team named \"Nobody\""));
    let (_, listed) = server.get(CREDENTIALS, OWNER_KEY).await;
    assert_eq!(listed["meta"]["count"], 0, "nothing was created");
}

#[tokio::test]
async fn update_rotate_and_jwks_work_on_a_credential() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let id = create_ok(&server, jwt_credential(team, "signing", "ES256", &key, 600)).await;
    let id_text = id.to_string();
    let out = cli(
        home.path(),
        &[
            "--json",
            "credentials",
            "update",
            &id_text,
            "--description",
            "prod",
            "--allowed-host",
            "api.example.com",
        ],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let updated: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(updated["description"], "prod");
    assert_eq!(
        updated["allowed_hosts"],
        serde_json::json!(["api.example.com"])
    );
    let before = updated["jwt_key_id"].clone();
    let out = cli(
        home.path(),
        &["--json", "credentials", "rotate", &id_text],
        &[],
        "",
    );
    let rotated: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(rotated["jwt_key_id"], before, "a new key");
    let out = cli(home.path(), &["credentials", "jwks", &id_text], &[], "");
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (_, api) = server.get(&jwks_path(id), OWNER_KEY).await;
    assert_eq!(printed, api);
    assert_eq!(
        printed["keys"].as_array().unwrap().len(),
        2,
        "the old key stays published"
    );
}

#[tokio::test]
async fn users_are_created_and_invited_to_teams() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await.to_string();
    let out = cli(
        home.path(),
        &[
            "users",
            "create",
            "--email",
            "ada@example.com",
            "--first-name",
            "Ada",
        ],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let user = stdout(&out).trim().to_string();
    let out = cli(
        home.path(),
        &[
            "--json", "teams", "invite", &team, "--user", &user, "--role", "EDITOR",
        ],
        &[],
        "",
    );
    let member: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (member["email"].as_str(), member["role"].as_str()),
        (Some("ada@example.com"), Some("EDITOR"))
    );
    let out = cli(
        home.path(),
        &["teams", "invite", &team, "--user", &user, "--role", "OWNER"],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "a role clap knows is not one");
}

#[tokio::test]
async fn the_audit_log_is_listed_with_its_filters() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await;
    let id = create_ok(&server, jwt_body(team, "stripe")).await;
    server.delete(&cred_path(id), OWNER_KEY).await;
    let out = cli(
        home.path(),
        &["audit", "list", "--operation", "CredentialDestruction"],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].contains("CredentialDestruction") && lines[1].contains("owner@localhost"),
        "{text}"
    );
    let out = cli(
        home.path(),
        &[
            "--json",
            "audit",
            "list",
            "--operation",
            "CredentialSave",
            "--operation",
            "TeamCreation",
        ],
        &[],
        "",
    );
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ops: Vec<&str> = page["audit_logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation_name"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["CredentialSave", "TeamCreation"]);
    let out = cli(
        home.path(),
        &["audit", "list", "--after", "yesterday"],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("field: after; HTTP 422"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn completions_are_printed_for_each_shell() {
    let home = TempDir::new().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = cli(home.path(), &["completions", shell], &[], "");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(stdout(&out).contains("credentials"), "{shell}");
    }
}

#[tokio::test]
async fn create_reminds_users_given_by_id_or_email() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await;
    let (ada, _) = server.user("ada@example.com", Some((team, "EDITOR"))).await;
    let (bob, _) = server.user("bob@example.com", Some((team, "EDITOR"))).await;
    let key = fixture_path("ec-p256-pkcs8.pem");
    let created = create_via_cli(
        home.path(),
        &[
            "--name",
            "reminded",
            "--team",
            &team.to_string(),
            "--alg",
            "ES256",
            "--key-file",
            key.to_str().unwrap(),
            "--expires-in",
            "30d",
            "--notify",
            "ADA@example.com",
            "--notify",
            &bob.to_string(),
        ],
        "",
    );
    assert_eq!(created["expiry_notifications_enabled"], true);
    assert_eq!(
        created["credential_notification_recipient_user_ids"],
        serde_json::json!([ada, bob])
    );
}

#[tokio::test]
async fn delete_removes_a_credential_and_a_second_delete_is_refused() {
    let (server, home) = logged_in();
    let team = server.team("Ops").await;
    let id = create_ok(&server, jwt_body(team, "gone")).await.to_string();
    let out = cli(home.path(), &["credentials", "delete", &id], &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim(), format!("deleted credential {id}"));
    let out = cli(home.path(), &["credentials", "delete", &id], &[], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        format!("error: credential {id} not found (HTTP 404)")
    );
}
