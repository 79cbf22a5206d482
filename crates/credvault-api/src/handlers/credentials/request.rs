//! The fields every mode shares, parsed from a create or update body and checked for form,
//! without I/O. A create starts from [`Common::defaults`], an update from the stored row;
//! [`Common::merged`] applies what the request carries (an absent field keeps the base's
//! value). Whether the caller may make those changes, and whether the folders, teams and
//! users they name exist, is `checks`' job.

use credvault_core::hosts::{parse_pattern, MAX_PATTERNS, MAX_PATTERN_LEN};
use credvault_core::limits::{
    check_object, MAX_DESCRIPTION_CHARS, MAX_DOCUMENT_BYTES, MAX_NAME_CHARS, MAX_SHARED_TEAMS,
};
use credvault_core::model::ReadAccess;
use credvault_core::slug::slugify;
use credvault_core::timefmt::{parse_rfc3339, Millis};
use credvault_store::{Credential, JsonText};
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::body::Fields;

pub const MAX_RECIPIENTS: usize = 5;
pub const RECIPIENTS: &str = "credential_notification_recipient_user_ids";

/// The fields every mode shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Common {
    pub name: String,
    pub slug: String,
    pub folder_id: Option<i64>,
    pub read_access: ReadAccess,
    pub shared_team_slugs: Vec<String>,
    pub description: String,
    pub metadata: Value,
    pub allowed_hosts: Vec<String>,
    pub expires_at: Option<Millis>,
    pub expiry_notifications_enabled: bool,
    pub recipient_ids: Vec<i64>,
}

/// What a request asks to change; `None` keeps the base value, `Some(None)` clears a
/// nullable one (the field was sent as `null`).
#[derive(Debug, Default)]
#[allow(clippy::option_option)]
pub struct Changes {
    pub name: Option<(String, String)>,
    pub folder_id: Option<Option<i64>>,
    pub read_access: Option<ReadAccess>,
    pub shared_team_slugs: Option<Vec<String>>,
    pub description: Option<String>,
    pub metadata: Option<Value>,
    pub allowed_hosts: Option<Vec<String>>,
    pub expires_at: Option<Option<Millis>>,
    pub expiry_notifications_enabled: Option<bool>,
    pub recipient_ids: Option<Vec<i64>>,
}

impl Changes {
    /// Every common field present in `body`, each checked for form and limits.
    pub fn parse(body: &Fields) -> ApiResult<Changes> {
        let expiry = ExpiryChanges::parse(body)?;
        Ok(Changes {
            name: body.has("name").then(|| name_and_slug(body)).transpose()?,
            folder_id: if body.is_null("folder_id") {
                Some(None)
            } else {
                body.int("folder_id")?.map(Some)
            },
            read_access: body.str("read_access")?.map(read_access).transpose()?,
            shared_team_slugs: shared_team_slugs(body)?,
            description: body
                .str_max("description", MAX_DESCRIPTION_CHARS)?
                .map(str::to_string),
            metadata: body.has("metadata").then(|| metadata(body)).transpose()?,
            allowed_hosts: body.str_array("allowed_hosts")?.map(hosts).transpose()?,
            expires_at: expiry.expires_at,
            expiry_notifications_enabled: expiry.enabled,
            recipient_ids: expiry.recipient_ids,
        })
    }
}

/// The expiry fields of a request: the date, whether reminders are sent, and to whom. A test
/// credential has these of its own (API.md §7) and nothing else of the common fields, so they
/// are parsed on their own too.
#[derive(Debug, Default)]
#[allow(clippy::option_option)]
pub struct ExpiryChanges {
    pub expires_at: Option<Option<Millis>>,
    pub enabled: Option<bool>,
    pub recipient_ids: Option<Vec<i64>>,
}

impl ExpiryChanges {
    pub fn parse(body: &Fields) -> ApiResult<ExpiryChanges> {
        Ok(ExpiryChanges {
            expires_at: if body.is_null("expires_at") {
                Some(None)
            } else {
                body.has("expires_at")
                    .then(|| expires_at(body))
                    .transpose()?
            },
            enabled: body.bool("expiry_notifications_enabled")?,
            recipient_ids: body.int_array(RECIPIENTS)?.map(recipients).transpose()?,
        })
    }
}

impl Common {
    /// The defaults of a new credential (the name comes from the request).
    pub fn defaults() -> Common {
        Common {
            name: String::new(),
            slug: String::new(),
            folder_id: None,
            read_access: ReadAccess::Team,
            shared_team_slugs: Vec::new(),
            description: String::new(),
            metadata: json!({}),
            allowed_hosts: Vec::new(),
            expires_at: None,
            expiry_notifications_enabled: false,
            recipient_ids: Vec::new(),
        }
    }

    pub fn of(c: &Credential) -> ApiResult<Common> {
        Ok(Common {
            name: c.name.clone(),
            slug: c.slug.clone(),
            folder_id: c.folder_id,
            read_access: c.read_access,
            shared_team_slugs: c.shared_team_slugs.clone(),
            description: c.description.clone(),
            metadata: c.metadata.parse().map_err(|e| {
                ApiError::internal(format!("reading the metadata of credential {}", c.id), e)
            })?,
            allowed_hosts: c.allowed_hosts.clone(),
            expires_at: c.expires_at,
            expiry_notifications_enabled: c.expiry_notifications_enabled,
            recipient_ids: c.notification_recipient_ids.clone(),
        })
    }

    pub fn write_to(self, c: &mut Credential) {
        c.name = self.name;
        c.slug = self.slug;
        c.folder_id = self.folder_id;
        c.read_access = self.read_access;
        c.shared_team_slugs = self.shared_team_slugs;
        c.description = self.description;
        c.metadata = JsonText::of(&self.metadata);
        c.allowed_hosts = self.allowed_hosts;
        c.expires_at = self.expires_at;
        c.expiry_notifications_enabled = self.expiry_notifications_enabled;
        c.notification_recipient_ids = self.recipient_ids;
    }

    /// `self` with `changes` applied. `read_access` and `shared_team_slugs` must agree.
    pub fn merged(&self, changes: Changes) -> ApiResult<Common> {
        let (read_access, shared_team_slugs) =
            self.sharing(changes.read_access, changes.shared_team_slugs)?;
        let (name, slug) = changes
            .name
            .unwrap_or_else(|| (self.name.clone(), self.slug.clone()));
        Ok(Common {
            name,
            slug,
            folder_id: changes.folder_id.unwrap_or(self.folder_id),
            read_access,
            shared_team_slugs,
            description: changes
                .description
                .unwrap_or_else(|| self.description.clone()),
            metadata: changes.metadata.unwrap_or_else(|| self.metadata.clone()),
            allowed_hosts: changes
                .allowed_hosts
                .unwrap_or_else(|| self.allowed_hosts.clone()),
            expires_at: changes.expires_at.unwrap_or(self.expires_at),
            expiry_notifications_enabled: changes
                .expiry_notifications_enabled
                .unwrap_or(self.expiry_notifications_enabled),
            recipient_ids: changes
                .recipient_ids
                .unwrap_or_else(|| self.recipient_ids.clone()),
        })
    }

    /// The sharing pair after a request: a new `read_access` keeps the stored slugs only if it
    /// is still SPECIFIC_TEAMS, and SPECIFIC_TEAMS needs at least one slug.
    fn sharing(
        &self,
        access: Option<ReadAccess>,
        slugs: Option<Vec<String>>,
    ) -> ApiResult<(ReadAccess, Vec<String>)> {
        if access.is_none() && slugs.is_none() {
            return Ok((self.read_access, self.shared_team_slugs.clone()));
        }
        let access = access.unwrap_or(self.read_access);
        let slugs = match slugs {
            Some(slugs) => slugs,
            None if access == ReadAccess::SpecificTeams => self.shared_team_slugs.clone(),
            None => Vec::new(),
        };
        match (access, slugs.is_empty()) {
            (ReadAccess::SpecificTeams, true) => Err(ApiError::invalid(
                "shared_team_slugs",
                "shared_team_slugs must list at least one team slug when read_access is SPECIFIC_TEAMS",
            )),
            (ReadAccess::Team | ReadAccess::Global, false) => Err(ApiError::invalid(
                "shared_team_slugs",
                "shared_team_slugs may only be given when read_access is SPECIFIC_TEAMS",
            )),
            _ => Ok((access, slugs)),
        }
    }
}

pub fn name_and_slug(body: &Fields) -> ApiResult<(String, String)> {
    let name = body.required_str_max("name", MAX_NAME_CHARS)?.trim();
    let slug = slugify(name);
    if slug.is_empty() {
        return Err(ApiError::invalid(
            "name",
            "name must contain at least one letter or digit",
        ));
    }
    Ok((name.to_string(), slug))
}

fn read_access(text: &str) -> ApiResult<ReadAccess> {
    ReadAccess::parse(text).ok_or_else(|| {
        ApiError::invalid(
            "read_access",
            format!("read_access must be one of {}", ReadAccess::NAMES),
        )
    })
}

fn shared_team_slugs(body: &Fields) -> ApiResult<Option<Vec<String>>> {
    let slugs = body.str_array("shared_team_slugs")?;
    if slugs.as_ref().is_some_and(|s| s.len() > MAX_SHARED_TEAMS) {
        return Err(ApiError::invalid(
            "shared_team_slugs",
            format!("shared_team_slugs may list at most {MAX_SHARED_TEAMS} teams"),
        ));
    }
    Ok(slugs)
}

/// A stored JSON object must stay readable: bounded in size and depth (API.md §12).
pub fn within_limits(
    field: &'static str,
    map: &Map<String, Value>,
    max_bytes: usize,
) -> ApiResult<()> {
    check_object(map, max_bytes).map_err(|limit| ApiError::invalid(field, limit.describe(field)))
}

/// `metadata`, bounded in size and depth so that it stays readable (API.md §12).
pub fn metadata(body: &Fields) -> ApiResult<Value> {
    let metadata = body.object("metadata")?.cloned().unwrap_or_default();
    within_limits("metadata", &metadata, MAX_DOCUMENT_BYTES)?;
    Ok(Value::Object(metadata))
}

fn hosts(hosts: Vec<String>) -> ApiResult<Vec<String>> {
    if hosts.len() > MAX_PATTERNS {
        return Err(ApiError::invalid(
            "allowed_hosts",
            format!("allowed_hosts may list at most {MAX_PATTERNS} entries"),
        ));
    }
    for (i, entry) in hosts.iter().enumerate() {
        if entry.chars().count() > MAX_PATTERN_LEN {
            return Err(ApiError::invalid(
                "allowed_hosts",
                format!("allowed_hosts entry {i} is longer than {MAX_PATTERN_LEN} characters"),
            ));
        }
        parse_pattern(entry).map_err(|problem| {
            ApiError::invalid(
                "allowed_hosts",
                format!("allowed_hosts entry {i} ({entry:?}) {problem}"),
            )
        })?;
    }
    Ok(hosts)
}

pub fn expires_at(body: &Fields) -> ApiResult<Option<Millis>> {
    body.str("expires_at")?
        .map(|text| {
            parse_rfc3339(text).ok_or_else(|| {
                ApiError::invalid(
                    "expires_at",
                    "expires_at must be an RFC 3339 timestamp such as 2030-01-31T12:00:00Z",
                )
            })
        })
        .transpose()
}

fn recipients(ids: Vec<i64>) -> ApiResult<Vec<i64>> {
    if ids.len() > MAX_RECIPIENTS {
        return Err(ApiError::invalid(
            RECIPIENTS,
            format!("{RECIPIENTS} may list at most {MAX_RECIPIENTS} users"),
        ));
    }
    Ok(ids)
}
