//! Whether this caller may mint from this credential, for this destination, now: roles and
//! sharing, `allowed_hosts`, expiry. Pure functions of what the mint query read.

use credvault_core::hosts::{self, Target, TargetError, MAX_HOST_LEN, MAX_URL_LEN};
use credvault_core::model::{ReadAccess, Role};
use credvault_core::timefmt::format_millis;
use credvault_store::{Credential, Membership, MintContext};

use crate::error::{ApiError, ApiResult};

/// API.md §5: EDITOR+ of the owning team; with GLOBAL, EDITOR+ of any team; with
/// SPECIFIC_TEAMS, EDITOR+ of a listed team; tenant admins always. Someone related to the
/// credential without such a role gets 403; anyone else 404.
pub fn authorize(ctx: &MintContext) -> ApiResult<()> {
    if ctx.caller_admin {
        return Ok(());
    }
    let c = &ctx.credential;
    let related = |m: &&Membership| match c.read_access {
        _ if m.team_id == c.team_id => true,
        ReadAccess::Global => true,
        ReadAccess::SpecificTeams => c.shared_team_slugs.contains(&m.team_slug),
        ReadAccess::Team => false,
    };
    let roles: Vec<Role> = ctx
        .memberships
        .iter()
        .filter(related)
        .map(|m| m.role)
        .collect();
    if roles.iter().any(|r| *r >= Role::Editor) {
        Ok(())
    } else if roles.is_empty() {
        Err(ApiError::not_found(format!(
            "credential {} not found",
            c.id
        )))
    } else {
        Err(ApiError::forbidden(
            "minting needs EDITOR or higher in a team that may use this credential",
        ))
    }
}

/// `allowed_hosts` (API.md §4.5): when set, the request must say where the token goes. The
/// destination is checked for form even when the credential is unrestricted.
pub fn check_hosts(allowed: &[String], url: Option<&str>, host: Option<&str>) -> ApiResult<()> {
    let target = match (url, host) {
        (Some(url), _) => Some(Target::from_url(url).map_err(url_error)?),
        (None, Some(host)) => Some(Target::from_host(host).map_err(host_error)?),
        (None, None) => None,
    };
    if allowed.is_empty() {
        return Ok(());
    }
    match target {
        None => Err(ApiError::forbidden(
            "this credential is restricted to allowed_hosts: give the url or host the token is for",
        )),
        Some(target) if hosts::allowed(allowed, &target) => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            "the url or host is not in the credential's allowed_hosts",
        )),
    }
}

fn url_error(e: TargetError) -> ApiError {
    match e {
        TargetError::TooLong => ApiError::invalid(
            "url",
            format!("url must be at most {MAX_URL_LEN} characters"),
        ),
        TargetError::Ambiguous => ApiError::forbidden_field(
            "url",
            "url contains a backslash, a space or a control character, so HTTP clients \
             disagree on where its host ends; send the URL as the client will",
        ),
        TargetError::NotAHost | TargetError::Invalid => ApiError::invalid(
            "url",
            "url must be an absolute URL such as https://api.example.com/v1",
        ),
    }
}

fn host_error(e: TargetError) -> ApiError {
    match e {
        TargetError::TooLong => ApiError::invalid(
            "host",
            format!("host must be at most {MAX_HOST_LEN} characters"),
        ),
        TargetError::NotAHost | TargetError::Ambiguous => ApiError::invalid(
            "host",
            "host must be a host name, optionally with :port; / ? # \\ @ and spaces are not allowed",
        ),
        TargetError::Invalid => ApiError::invalid(
            "host",
            "host must be a host name, optionally with :port",
        ),
    }
}

/// 403 once `expires_at` has passed at `now_ms`.
pub fn check_expiry(c: &Credential, now_ms: i64) -> ApiResult<()> {
    match c.expires_at {
        Some(at) if at <= now_ms => Err(ApiError::forbidden(format!(
            "the credential expired at {}",
            format_millis(at)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credvault_store::JsonText;

    fn expiring(expires_at: Option<i64>) -> Credential {
        Credential {
            id: 7,
            uid: "u".into(),
            team_id: 1,
            live_id: None,
            name: "n".into(),
            slug: "n".into(),
            mode: credvault_core::model::Mode::Jwt,
            folder_id: None,
            read_access: ReadAccess::Team,
            shared_team_slugs: Vec::new(),
            description: String::new(),
            metadata: JsonText::of(&serde_json::json!({})),
            allowed_hosts: Vec::new(),
            owner_id: 1,
            expires_at,
            expiry_notifications_enabled: false,
            notification_recipient_ids: Vec::new(),
            config: JsonText::of(&serde_json::json!({})),
            secret: Vec::new(),
            issuer_id: "issuer".into(),
            key_id: None,
            key_rotated_at: None,
            rotate_at: None,
            notify_at: None,
            test_credential_enabled: false,
            version: 1,
            last_used_at: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_credential_mints_until_the_millisecond_it_expires() {
        let at = 1_900_000_000_000;
        let c = expiring(Some(at));
        assert!(check_expiry(&c, at - 1).is_ok());
        let refused = check_expiry(&c, at).unwrap_err();
        assert!(matches!(refused, ApiError::Forbidden { field: None, .. }));
        assert_eq!(
            refused.to_string(),
            "the credential expired at 2030-03-17T17:46:40.000Z"
        );
        assert!(check_expiry(&c, at + 1).is_err());
    }

    #[test]
    fn a_credential_without_expiry_always_mints() {
        assert!(check_expiry(&expiring(None), i64::MAX).is_ok());
    }
}
