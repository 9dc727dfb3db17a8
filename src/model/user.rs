//! Console users (owner, supervisors, agents, trainers) and their login sessions.

use super::Invalid;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A console user's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub u64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a user may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The shop owner: everything, including users, settings and backups.
    Owner,
    /// Watches the live service, reassigns, inspects quality.
    Supervisor,
    /// Serves buyers (客服).
    Agent,
    /// Curates the knowledge base (训练师).
    Trainer,
}

impl Role {
    /// Every role, in the order the console lists them.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Supervisor, Role::Agent, Role::Trainer];

    /// The role's name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "店主",
            Role::Supervisor => "主管",
            Role::Agent => "客服",
            Role::Trainer => "训练师",
        }
    }

    /// The role's name in forms, the CLI and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
            Role::Trainer => "trainer",
        }
    }

    /// Parses `owner`, `supervisor`, `agent` or `trainer`.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored console user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    /// Login name, unique ignoring ASCII case.
    pub name: String,
    /// The name buyers and colleagues see (客服昵称).
    pub nickname: String,
    pub role: Role,
    /// A disabled user cannot log in and has no sessions.
    pub disabled: bool,
    /// argon2id PHC string.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The data needed to create a user; the password is hashed before it reaches the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: String,
    pub nickname: String,
    pub role: Role,
    pub password: String,
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 128;
const MAX_NAME_CHARS: usize = 32;

impl NewUser {
    /// Trims names and fills an empty nickname: 店主 for the owner (buyers read it:
    /// "人工客服「店主」", not a login like boss), else the login name.
    pub fn normalized(mut self) -> NewUser {
        self.name = self.name.trim().to_string();
        self.nickname = self.nickname.trim().to_string();
        if self.nickname.is_empty() {
            self.nickname = match self.role {
                Role::Owner => "店主".into(),
                _ => self.name.clone(),
            };
        }
        self
    }

    /// Checks the name, nickname and password rules.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut inv = Invalid::default();
        if let Some(msg) = name_problem(&self.name) {
            inv.add("name", msg);
        }
        if let Some(msg) = nickname_problem(&self.nickname) {
            inv.add("nickname", msg);
        }
        if let Some(msg) = password_problem(&self.password) {
            inv.add("password", msg);
        }
        inv.into_result()
    }
}

/// Why `name` is not a usable login name, if it is not.
pub fn name_problem(name: &str) -> Option<String> {
    let n = name.chars().count();
    if n == 0 {
        return Some("请填写登录名".into());
    }
    if n > MAX_NAME_CHARS {
        return Some(format!("登录名最多 {MAX_NAME_CHARS} 个字"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("登录名不能包含空格或控制字符".into());
    }
    None
}

/// Why `nickname` is not usable, if it is not.
pub fn nickname_problem(nickname: &str) -> Option<String> {
    let n = nickname.chars().count();
    if n == 0 {
        return Some("请填写昵称".into());
    }
    if n > MAX_NAME_CHARS {
        return Some(format!("昵称最多 {MAX_NAME_CHARS} 个字"));
    }
    if nickname.chars().any(char::is_control) {
        return Some("昵称不能包含控制字符".into());
    }
    None
}

/// Why `password` is too weak or too long, if it is.
pub fn password_problem(password: &str) -> Option<String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Some(format!("密码至少 {MIN_PASSWORD_CHARS} 位"));
    }
    if n > MAX_PASSWORD_CHARS {
        return Some(format!("密码最多 {MAX_PASSWORD_CHARS} 位"));
    }
    None
}

/// The message for a login name that another user already has.
pub fn name_taken(name: &str) -> String {
    format!("登录名“{name}”已被使用")
}

/// The key a login name is unique under.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A change to a user; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub nickname: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// A new argon2id hash (already hashed).
    pub password_hash: Option<String>,
}

impl UserPatch {
    /// Applies the patch to `user`, stamping `updated_at`.
    pub fn apply(&self, user: &mut User, now: DateTime<Utc>) {
        if let Some(n) = &self.nickname {
            user.nickname = n.clone();
        }
        if let Some(r) = self.role {
            user.role = r;
        }
        if let Some(d) = self.disabled {
            user.disabled = d;
        }
        if let Some(h) = &self.password_hash {
            user.password_hash = h.clone();
        }
        user.updated_at = now;
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == UserPatch::default()
    }
}

/// A server-side login session. Stored under the SHA-256 of its cookie token, so a copy
/// of the database does not hand out live sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: UserId,
    /// The CSRF token every form of this session must carry.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    /// Last time the session was used (updated at most hourly).
    pub last_seen: DateTime<Utc>,
    /// Hard end of the session, whatever the activity.
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_nickname_is_the_login_or_for_the_owner_dianzhu() {
        let new = |role| NewUser {
            name: " boss ".into(),
            nickname: " ".into(),
            role,
            password: "password-1".into(),
        };
        assert_eq!(new(Role::Owner).normalized().nickname, "店主");
        assert_eq!(new(Role::Agent).normalized().nickname, "boss");
    }

    #[test]
    fn role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn new_user_rules() {
        let ok = NewUser {
            name: " 小王 ".into(),
            nickname: "".into(),
            role: Role::Agent,
            password: "12345678".into(),
        }
        .normalized();
        assert_eq!(ok.name, "小王");
        assert_eq!(ok.nickname, "小王");
        assert!(ok.validate().is_ok());

        let bad = NewUser {
            name: "a b".into(),
            nickname: "x".into(),
            role: Role::Agent,
            password: "short".into(),
        };
        let inv = bad.validate().unwrap_err();
        assert!(inv.get("name").is_some());
        assert!(inv.get("password").is_some());
        assert!(inv.get("nickname").is_none());
    }

    #[test]
    fn name_key_ignores_ascii_case() {
        assert_eq!(name_key("Alice"), name_key("alice "));
    }
}
