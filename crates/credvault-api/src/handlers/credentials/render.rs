//! The Tines credential object, rendered as JSON text. Never any secret. `metadata` and the
//! mode's settings are copied from the stored text, never parsed into trees: a list page of
//! large credentials costs its size in memory, not many times that.

use credvault_core::jwt::{Algorithm, KeyFamily};
use credvault_core::model::Mode;
use credvault_core::timefmt::format_millis;
use credvault_store::{Credential, CredentialView};

use crate::issuer_url;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// The Tines response object, plus the mode's non-secret settings, as JSON text. Never any
/// secret. `metadata` and the settings are copied from the stored text, never parsed into
/// trees: a list page of large credentials costs its size in memory, not many times that.
/// `public_url` is the base of the issuer links of JWT credentials.
pub fn render(view: &CredentialView, public_url: &str) -> Box<RawValue> {
    let c = &view.credential;
    let mut head = json!({
        "id": c.id,
        "name": c.name,
        "mode": c.mode.as_str(),
        "team_id": c.team_id,
        "folder_id": c.folder_id,
        "read_access": c.read_access.as_str(),
        "shared_team_slugs": c.shared_team_slugs,
        "description": c.description,
        "slug": c.slug,
        "created_at": format_millis(c.created_at),
        "updated_at": format_millis(c.updated_at),
        "allowed_hosts": c.allowed_hosts,
        "restriction_type": if c.allowed_hosts.is_empty() { "UNRESTRICTED" } else { "RESTRICTED" },
        "test_credential_enabled": c.test_credential_enabled,
        "test_credential": view.test.as_ref().map(|t| json!({
            "created_at": format_millis(t.created_at),
            "updated_at": format_millis(t.updated_at),
            "expires_at": t.expires_at.map(format_millis),
            "expiry_notifications_enabled": t.expiry_notifications_enabled,
            "credential_notification_recipient_user_ids": t.notification_recipient_ids,
        })),
        "owner": view.owner.as_ref().map(|o| json!({
            "user_id": o.id,
            "first_name": o.first_name,
            "last_name": o.last_name,
            "email": o.email,
        })),
        "expires_at": c.expires_at.map(format_millis),
        "expiry_notifications_enabled": c.expiry_notifications_enabled,
        "credential_notification_recipient_user_ids": c.notification_recipient_ids,
        // credvault: when a token was last minted from it (recorded within seconds).
        "last_used_at": c.last_used_at.map(format_millis),
    });
    // The settings' own keys (jwt_algorithm, jwt_payload, …) join the object's top level; a
    // config that is not an object (never written so) adds nothing.
    let settings: Vec<(String, &RawValue)> = serde_json::from_str::<TopLevel>(c.config.as_str())
        .map(|t| t.0)
        .unwrap_or_default();
    if c.mode == Mode::Jwt {
        let fields = issuer_fields(c, &settings, public_url);
        if let (Value::Object(head), Value::Object(fields)) = (&mut head, fields) {
            head.extend(fields);
        }
    }
    let rendered = Rendered {
        head,
        metadata: c.metadata.as_raw(),
        settings,
    };
    serde_json::value::to_raw_value(&rendered).expect("JSON always serialises")
}

/// API.md §6: the public issuer of an asymmetric JWT credential; all null for HS*.
fn issuer_fields(c: &Credential, settings: &[(String, &RawValue)], public_url: &str) -> Value {
    let algorithm = settings
        .iter()
        .find(|(name, _)| name == "jwt_algorithm")
        .and_then(|(_, raw)| serde_json::from_str::<Algorithm>(raw.get()).ok());
    if algorithm.is_none_or(|a| a.family() == KeyFamily::Hmac) {
        return json!({
            "issuer_id": null,
            "issuer_url": null,
            "jwks_url": null,
            "jwt_key_id": null,
            "jwt_key_rotated_at": null,
        });
    }
    let issuer_url = issuer_url(public_url, &c.issuer_id);
    json!({
        "issuer_id": c.issuer_id,
        "jwks_url": format!("{issuer_url}/jwks.json"),
        "issuer_url": issuer_url,
        "jwt_key_id": c.key_id,
        "jwt_key_rotated_at": c.key_rotated_at.map(format_millis),
    })
}

struct Rendered<'a> {
    head: Value,
    metadata: &'a RawValue,
    settings: Vec<(String, &'a RawValue)>,
}

impl Serialize for Rendered<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Value::Object(head) = &self.head {
            for (k, v) in head {
                map.serialize_entry(k, v)?;
            }
        }
        map.serialize_entry("metadata", self.metadata)?;
        for (k, v) in &self.settings {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The members of a JSON object in order, each value left as text.
struct TopLevel<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for TopLevel<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Members<'a> {
            type Value = TopLevel<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(TopLevel(members))
            }
        }
        deserializer.deserialize_map(Members(std::marker::PhantomData))
    }
}
