//! The closed vocabularies of the API: roles, read access and credential modes.

use std::fmt;

/// A member's role in a team, lowest to highest; `Ord` follows that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Editor,
    TeamAdmin,
}

impl Role {
    pub const NAMES: &'static str = "VIEWER, EDITOR, TEAM_ADMIN";

    pub fn parse(text: &str) -> Option<Role> {
        match text.to_ascii_uppercase().as_str() {
            "VIEWER" => Some(Role::Viewer),
            "EDITOR" => Some(Role::Editor),
            "TEAM_ADMIN" => Some(Role::TeamAdmin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "VIEWER",
            Role::Editor => "EDITOR",
            Role::TeamAdmin => "TEAM_ADMIN",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a credential may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAccess {
    Team,
    Global,
    SpecificTeams,
}

impl ReadAccess {
    pub const NAMES: &'static str = "TEAM, GLOBAL, SPECIFIC_TEAMS";

    pub fn parse(text: &str) -> Option<ReadAccess> {
        match text.to_ascii_uppercase().as_str() {
            "TEAM" => Some(ReadAccess::Team),
            "GLOBAL" => Some(ReadAccess::Global),
            "SPECIFIC_TEAMS" => Some(ReadAccess::SpecificTeams),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReadAccess::Team => "TEAM",
            ReadAccess::Global => "GLOBAL",
            ReadAccess::SpecificTeams => "SPECIFIC_TEAMS",
        }
    }
}

impl fmt::Display for ReadAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of credential (Tines' `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Text,
    Jwt,
    Oauth,
    Aws,
    Mtls,
    HttpRequestAgent,
    MultiRequest,
}

impl Mode {
    pub const NAMES: &'static str =
        "TEXT, JWT, OAUTH, AWS, MTLS, HTTP_REQUEST_AGENT, MULTI_REQUEST";

    pub fn parse(text: &str) -> Option<Mode> {
        match text.to_ascii_uppercase().as_str() {
            "TEXT" => Some(Mode::Text),
            "JWT" => Some(Mode::Jwt),
            "OAUTH" => Some(Mode::Oauth),
            "AWS" => Some(Mode::Aws),
            "MTLS" => Some(Mode::Mtls),
            "HTTP_REQUEST_AGENT" => Some(Mode::HttpRequestAgent),
            "MULTI_REQUEST" => Some(Mode::MultiRequest),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Text => "TEXT",
            Mode::Jwt => "JWT",
            Mode::Oauth => "OAUTH",
            Mode::Aws => "AWS",
            Mode::Mtls => "MTLS",
            Mode::HttpRequestAgent => "HTTP_REQUEST_AGENT",
            Mode::MultiRequest => "MULTI_REQUEST",
        }
    }

    /// Modes whose fields credvault validates and stores; the rest are refused.
    pub fn is_supported(self) -> bool {
        matches!(self, Mode::Text | Mode::Jwt)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a notification is delivered (API.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    pub fn parse(text: &str) -> Option<Channel> {
        match text {
            "EMAIL" => Some(Channel::Email),
            "WEBHOOK" => Some(Channel::Webhook),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "EMAIL",
            Channel::Webhook => "WEBHOOK",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a notification is on its way (API.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationStatus {
    /// Not sent yet: waiting for its time, a retry, or a configured channel.
    Pending,
    Sent,
    /// Given up after retrying for the whole retry window.
    Failed,
    /// No longer wanted: the credential changed, or the recipient may no longer receive it.
    Cancelled,
}

impl NotificationStatus {
    pub fn parse(text: &str) -> Option<NotificationStatus> {
        match text {
            "PENDING" => Some(NotificationStatus::Pending),
            "SENT" => Some(NotificationStatus::Sent),
            "FAILED" => Some(NotificationStatus::Failed),
            "CANCELLED" => Some(NotificationStatus::Cancelled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "PENDING",
            NotificationStatus::Sent => "SENT",
            NotificationStatus::Failed => "FAILED",
            NotificationStatus::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for NotificationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Editor && Role::Editor < Role::TeamAdmin);
        assert_eq!(Role::parse("team_admin"), Some(Role::TeamAdmin));
        assert_eq!(Role::parse("OWNER"), None);
    }

    #[test]
    fn names_round_trip() {
        for m in Mode::NAMES.split(", ") {
            assert_eq!(Mode::parse(m).unwrap().as_str(), m);
        }
        for r in ReadAccess::NAMES.split(", ") {
            assert_eq!(ReadAccess::parse(r).unwrap().as_str(), r);
        }
        for c in [Channel::Email, Channel::Webhook] {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        for s in ["PENDING", "SENT", "FAILED", "CANCELLED"] {
            assert_eq!(NotificationStatus::parse(s).unwrap().as_str(), s);
        }
    }
}
