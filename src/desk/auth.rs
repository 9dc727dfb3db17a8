//! Passwords, the one-time owner setup, login, logout and sessions.

use super::{Actor, Desk, Error, Result};
use crate::model::{NewUser, Role, Session, User};
use crate::store::prelude::*;
use crate::store::users::UserRecord;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session ends this long after login, whatever the activity.
    pub lifetime: Duration,
    /// A session unused this long ends.
    pub idle: Duration,
    /// `last_seen` is written at most this often.
    pub touch_every: Duration,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            lifetime: Duration::days(30),
            idle: Duration::days(7),
            touch_every: Duration::hours(1),
        }
    }
}

/// A fresh login: the user and the secret cookie token of the new session.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: User,
    pub token: String,
    pub session: Session,
}

/// 32 random bytes as 64 hex characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The key a session is stored under: the hex SHA-256 of its token.
pub fn session_key(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Hashes `password` with argon2id (OWASP parameters: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash(e.to_string()))
}

/// Whether `password` matches the stored `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash no password matches, checked for unknown login names so that they take as long
/// as wrong passwords (no user enumeration by timing). Built by `warm_up` at start-up.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// Computes the decoy hash now (call from a blocking context at start-up).
pub fn warm_up() {
    decoy_hash();
}

/// Password hashing runs at most this many at a time: each argon2 run takes ~19 MiB and
/// a core, so a flood of logins queues here instead of exhausting memory.
const HASHING_SLOTS: usize = 2;

/// Runs password hashing or checking off the async workers, a few at a time.
pub(crate) async fn hashing<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_SLOTS);
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|e| Error::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Hash(e.to_string()))
}

impl Desk {
    /// Whether the one-time owner setup is still open (no user exists yet).
    pub fn needs_setup(&self) -> Result<bool> {
        Ok(self.store.read()?.count_users()? == 0)
    }

    /// Creates the first user, the owner, and logs them in. Refused once any user exists,
    /// even when two setups race.
    pub async fn setup_owner(&self, new: NewUser) -> Result<Login> {
        let new = NewUser {
            role: Role::Owner,
            ..new.normalized()
        };
        new.validate()?;
        let password = new.password.clone();
        let hash = hashing(move || hash_password(&password)).await??;
        let rec = UserRecord {
            name: new.name.clone(),
            nickname: new.nickname.clone(),
            role: Role::Owner,
            password_hash: hash,
        };
        let now = self.clock.now();
        let audit = self.audit(
            &Actor::cli(),
            "owner.setup",
            &new.name,
            "首次启动创建店主账号".into(),
        );
        let user = self
            .store
            .write(move |tx| {
                if tx.count_users()? > 0 {
                    return Err(crate::store::Error::Conflict("店主账号已经创建过了".into()));
                }
                let user = tx.insert_user(&rec, now)?;
                let mut a = audit.clone();
                a.actor_id = Some(user.id);
                a.actor_name = user.name.clone();
                tx.append_audit(&a)?;
                Ok(user)
            })
            .await
            .map_err(|e| match e {
                crate::store::Error::Conflict(m) => Error::Refused(m),
                other => other.into(),
            })?;
        self.start_session(user).await
    }

    /// Checks a login name and password and opens a session.
    pub async fn login(&self, name: &str, password: &str) -> Result<Login> {
        let user = self.store.read()?.get_user_by_name(name)?;
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| decoy_hash().to_string());
        let pw = password.to_string();
        let ok = hashing(move || verify_password(&pw, &hash)).await?;
        match user {
            Some(u) if ok && u.disabled => Err(Error::Disabled),
            Some(u) if ok => self.start_session(u).await,
            _ => Err(Error::BadCredentials),
        }
    }

    pub(crate) async fn start_session(&self, user: User) -> Result<Login> {
        let now = self.clock.now();
        let token = random_token();
        let session = Session {
            user_id: user.id,
            csrf: random_token(),
            created_at: now,
            last_seen: now,
            expires_at: now + self.sessions.lifetime,
        };
        let (key, s) = (session_key(&token), session.clone());
        self.store.write(move |tx| tx.put_session(&key, &s)).await?;
        Ok(Login {
            user,
            token,
            session,
        })
    }

    /// Ends the session of `token`.
    pub async fn logout(&self, token: &str) -> Result<()> {
        let key = session_key(token);
        Ok(self.store.write(move |tx| tx.delete_session(&key)).await?)
    }

    /// The user and session behind a cookie token, if the session is live and the user
    /// enabled. Expired sessions are deleted on sight.
    pub async fn authenticate(&self, token: &str) -> Result<Option<(User, Session)>> {
        let key = session_key(token);
        let (session, user) = {
            let r = self.store.read()?;
            let Some(s) = r.get_session(&key)? else {
                return Ok(None);
            };
            let u = r.get_user(s.user_id)?;
            (s, u)
        };
        let now = self.clock.now();
        let live = session.expires_at > now && session.last_seen + self.sessions.idle > now;
        match user {
            Some(u) if live && !u.disabled => {
                if now - session.last_seen >= self.sessions.touch_every {
                    let mut s = session.clone();
                    s.last_seen = now;
                    self.store.write(move |tx| tx.put_session(&key, &s)).await?;
                }
                Ok(Some((u, session)))
            }
            _ => {
                self.store.write(move |tx| tx.delete_session(&key)).await?;
                Ok(None)
            }
        }
    }

    /// Deletes every ended session; returns how many.
    pub async fn purge_sessions(&self) -> Result<usize> {
        let now = self.clock.now();
        let idle_cutoff = now - self.sessions.idle;
        Ok(self
            .store
            .write(move |tx| tx.purge_sessions(now, idle_cutoff))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::testing::desk;

    #[test]
    fn hex_is_two_lowercase_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
        assert_eq!(
            session_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn owner() -> NewUser {
        NewUser {
            name: "boss".into(),
            nickname: "老板".into(),
            role: Role::Agent, // setup forces owner
            password: "correct horse".into(),
        }
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("秘密密码123").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("秘密密码123", &h));
        assert!(!verify_password("秘密密码124", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[actix_web::test]
    async fn owner_setup_happens_once() {
        let (_d, desk, _c) = desk();
        assert!(desk.needs_setup().unwrap());
        let login = desk.setup_owner(owner()).await.unwrap();
        assert_eq!(login.user.role, Role::Owner);
        assert!(!desk.needs_setup().unwrap());
        let again = desk
            .setup_owner(NewUser {
                name: "intruder".into(),
                ..owner()
            })
            .await;
        assert!(matches!(again, Err(Error::Refused(_))));
        let audit = desk.store().read().unwrap().list_audit(None, 10).unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "owner.setup");
        assert_eq!(audit[0].actor_name, "boss");
    }

    #[actix_web::test]
    async fn racing_setups_create_exactly_one_owner() {
        let (_d, desk, _c) = desk();
        let mut tasks = Vec::new();
        for i in 0..4 {
            let d = desk.clone();
            tasks.push(actix_web::rt::spawn(async move {
                d.setup_owner(NewUser {
                    name: format!("owner{i}"),
                    ..owner()
                })
                .await
                .is_ok()
            }));
        }
        let mut wins = 0;
        for t in tasks {
            wins += t.await.unwrap() as usize;
        }
        assert_eq!(wins, 1);
        assert_eq!(desk.store().read().unwrap().count_users().unwrap(), 1);
    }

    #[actix_web::test]
    async fn login_checks_password_and_sessions_expire() {
        let (_d, desk, clock) = desk();
        desk.setup_owner(owner()).await.unwrap();
        assert!(matches!(
            desk.login("boss", "wrong password").await,
            Err(Error::BadCredentials)
        ));
        assert!(matches!(
            desk.login("nobody", "correct horse").await,
            Err(Error::BadCredentials)
        ));
        let login = desk.login("BOSS", "correct horse").await.unwrap();
        let (u, s) = desk.authenticate(&login.token).await.unwrap().unwrap();
        assert_eq!(u.name, "boss");
        assert_eq!(s.csrf, login.session.csrf);
        assert!(desk.authenticate("forged").await.unwrap().is_none());

        // Used every few days, the session lives until its hard end at 30 days.
        for _ in 0..9 {
            clock.advance(Duration::days(3));
            assert!(desk.authenticate(&login.token).await.unwrap().is_some());
        }
        clock.advance(Duration::days(3) + Duration::minutes(1));
        assert!(desk.authenticate(&login.token).await.unwrap().is_none());

        // Idle for more than 7 days ends a session too.
        let login = desk.login("boss", "correct horse").await.unwrap();
        clock.advance(Duration::days(7) + Duration::minutes(1));
        assert!(desk.authenticate(&login.token).await.unwrap().is_none());

        let login = desk.login("boss", "correct horse").await.unwrap();
        desk.logout(&login.token).await.unwrap();
        assert!(desk.authenticate(&login.token).await.unwrap().is_none());
    }

    #[actix_web::test]
    async fn purge_removes_ended_sessions_only() {
        let (_d, desk, clock) = desk();
        desk.setup_owner(owner()).await.unwrap();
        let old = desk.login("boss", "correct horse").await.unwrap();
        clock.advance(Duration::days(8));
        let fresh = desk.login("boss", "correct horse").await.unwrap();
        // The setup session and `old` are both idle for 8 days.
        assert_eq!(desk.purge_sessions().await.unwrap(), 2);
        assert!(desk.authenticate(&old.token).await.unwrap().is_none());
        assert!(desk.authenticate(&fresh.token).await.unwrap().is_some());
    }
}
