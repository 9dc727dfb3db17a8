//! The owner's user administration: add, change role, disable, reset passwords; and a
//! user changing their own password.

use super::agents::conflict;
use super::auth::{Login, hash_password, hashing, verify_password};
use super::{Actor, Desk, Error, Result};
use crate::model::user::{name_taken, nickname_problem, password_problem};
use crate::model::{Invalid, NewUser, Role, User, UserId, UserPatch};
use crate::store::prelude::*;
use crate::store::{self, WriteTx, users::UserRecord};

/// One change the owner makes to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    Role(Role),
    Disabled(bool),
    /// A new password in clear text (hashed by the desk).
    Password(String),
    Nickname(String),
}

/// Refuses a change that would leave the shop without an enabled owner.
fn keep_an_owner(tx: &WriteTx) -> store::Result<()> {
    let owners = tx
        .list_users()?
        .into_iter()
        .filter(|u| u.role == Role::Owner && !u.disabled)
        .count();
    if owners == 0 {
        return Err(store::Error::Conflict(
            "至少需要保留一个启用中的店主账号".into(),
        ));
    }
    Ok(())
}

impl Desk {
    /// Every user, by id.
    pub fn list_users(&self) -> Result<Vec<User>> {
        Ok(self.store.read()?.list_users()?)
    }

    /// The user with `id`.
    pub fn get_user(&self, id: UserId) -> Result<User> {
        self.store.read()?.get_user(id)?.ok_or(Error::NotFound)
    }

    /// Adds a user.
    pub async fn add_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        let new = new.normalized();
        let mut inv = new.validate().err().unwrap_or_default();
        if inv.get("name").is_none() && self.store.read()?.get_user_by_name(&new.name)?.is_some() {
            inv.add("name", name_taken(&new.name));
        }
        inv.into_result()?;
        let password = new.password.clone();
        let hash = hashing(move || hash_password(&password)).await??;
        let rec = UserRecord {
            name: new.name.clone(),
            nickname: new.nickname.clone(),
            role: new.role,
            password_hash: hash,
        };
        let now = self.clock.now();
        let audit = self.audit(
            actor,
            "user.create",
            &new.name,
            format!("角色：{}，昵称：{}", new.role.label(), new.nickname),
        );
        self.store
            .write(move |tx| {
                let u = tx.insert_user(&rec, now)?;
                tx.append_audit(&audit)?;
                Ok(u)
            })
            .await
            .map_err(|e| match e {
                store::Error::Conflict(m) => {
                    let mut inv = Invalid::default();
                    inv.add("name", m);
                    Error::Invalid(inv)
                }
                other => conflict(other),
            })
    }

    /// Applies one change to user `id`, audited. Disabling a user or resetting their
    /// password ends their sessions.
    pub async fn change_user(&self, actor: &Actor, id: UserId, change: UserChange) -> Result<User> {
        if actor.id == Some(id) && change == UserChange::Disabled(true) {
            return Err(Error::Refused("不能停用自己的账号".into()));
        }
        let (patch, action, detail) = match change {
            UserChange::Role(r) => (
                UserPatch {
                    role: Some(r),
                    ..UserPatch::default()
                },
                "user.role",
                format!("改为{}", r.label()),
            ),
            UserChange::Disabled(d) => (
                UserPatch {
                    disabled: Some(d),
                    ..UserPatch::default()
                },
                if d { "user.disable" } else { "user.enable" },
                String::new(),
            ),
            UserChange::Password(pw) => {
                if let Some(msg) = password_problem(&pw) {
                    let mut inv = Invalid::default();
                    inv.add("password", msg);
                    return Err(inv.into());
                }
                let hash = hashing(move || hash_password(&pw)).await??;
                let patch = UserPatch {
                    password_hash: Some(hash),
                    ..UserPatch::default()
                };
                (patch, "user.password", String::new())
            }
            UserChange::Nickname(n) => {
                let n = n.trim().to_string();
                if let Some(msg) = nickname_problem(&n) {
                    let mut inv = Invalid::default();
                    inv.add("nickname", msg);
                    return Err(inv.into());
                }
                let detail = format!("改为“{n}”");
                let patch = UserPatch {
                    nickname: Some(n),
                    ..UserPatch::default()
                };
                (patch, "user.nickname", detail)
            }
        };
        let ends_sessions = patch.disabled == Some(true) || patch.password_hash.is_some();
        let now = self.clock.now();
        let mut audit = self.audit(actor, action, "", detail);
        self.store
            .write(move |tx| {
                let mut user = tx.get_user(id)?.ok_or(store::Error::NotFound)?;
                patch.apply(&mut user, now);
                tx.put_user(&user)?;
                keep_an_owner(tx)?;
                if ends_sessions {
                    tx.delete_sessions_of(id)?;
                }
                audit.target = user.name.clone();
                tx.append_audit(&audit)?;
                Ok(user)
            })
            .await
            .map_err(conflict)
    }

    /// Changes the user's own password after checking the current one; every session of
    /// the user ends and a new one is returned for the browser in use.
    pub async fn change_own_password(&self, user: &User, old: &str, new: &str) -> Result<Login> {
        let hash = user.password_hash.clone();
        let old = old.to_string();
        let ok = hashing(move || verify_password(&old, &hash)).await?;
        let mut inv = Invalid::default();
        if !ok {
            inv.add("old_password", "当前密码不正确");
        }
        if let Some(msg) = password_problem(new) {
            inv.add("new_password", msg);
        }
        inv.into_result()?;
        let new = new.to_string();
        let hash = hashing(move || hash_password(&new)).await??;
        let (id, now) = (user.id, self.clock.now());
        let audit = self.audit(
            &Actor::user(user),
            "account.password",
            &user.name,
            String::new(),
        );
        let updated = self
            .store
            .write(move |tx| {
                let mut u = tx.get_user(id)?.ok_or(store::Error::NotFound)?;
                u.password_hash = hash.clone();
                u.updated_at = now;
                tx.put_user(&u)?;
                tx.delete_sessions_of(id)?;
                tx.append_audit(&audit)?;
                Ok(u)
            })
            .await
            .map_err(conflict)?;
        self.start_session(updated).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::testing::desk;

    fn new_user(name: &str, role: Role) -> NewUser {
        NewUser {
            name: name.into(),
            nickname: String::new(),
            role,
            password: "password1".into(),
        }
    }

    async fn with_owner() -> (tempfile::TempDir, Desk, Actor) {
        let (dir, desk, _clock) = desk();
        let login = desk
            .setup_owner(new_user("boss", Role::Owner))
            .await
            .unwrap();
        (dir, desk, Actor::user(&login.user))
    }

    #[actix_web::test]
    async fn add_user_validates_and_rejects_taken_names() {
        let (_d, desk, boss) = with_owner().await;
        let u = desk
            .add_user(&boss, new_user("小美", Role::Agent))
            .await
            .unwrap();
        assert_eq!(u.nickname, "小美");
        let dup = desk.add_user(&boss, new_user("小美", Role::Trainer)).await;
        let Err(Error::Invalid(inv)) = dup else {
            panic!("expected invalid, got {dup:?}");
        };
        assert!(inv.get("name").unwrap().contains("已被使用"));
        let weak = desk
            .add_user(
                &boss,
                NewUser {
                    password: "123".into(),
                    ..new_user("x", Role::Agent)
                },
            )
            .await;
        assert!(matches!(weak, Err(Error::Invalid(_))));
        assert_eq!(desk.list_users().unwrap().len(), 2);
    }

    #[actix_web::test]
    async fn disabling_ends_sessions_and_blocks_login() {
        let (_d, desk, boss) = with_owner().await;
        let u = desk
            .add_user(&boss, new_user("agent1", Role::Agent))
            .await
            .unwrap();
        let login = desk.login("agent1", "password1").await.unwrap();
        desk.change_user(&boss, u.id, UserChange::Disabled(true))
            .await
            .unwrap();
        assert!(desk.authenticate(&login.token).await.unwrap().is_none());
        assert!(matches!(
            desk.login("agent1", "password1").await,
            Err(Error::Disabled)
        ));
        desk.change_user(&boss, u.id, UserChange::Disabled(false))
            .await
            .unwrap();
        assert!(desk.login("agent1", "password1").await.is_ok());
    }

    #[actix_web::test]
    async fn the_last_owner_cannot_be_removed() {
        let (_d, desk, boss) = with_owner().await;
        let me = boss.id.unwrap();
        let own = desk
            .change_user(&boss, me, UserChange::Disabled(true))
            .await;
        assert!(matches!(own, Err(Error::Refused(_))));
        let demote = desk
            .change_user(&boss, me, UserChange::Role(Role::Agent))
            .await;
        assert!(matches!(demote, Err(Error::Refused(m)) if m.contains("店主")));
        assert_eq!(desk.get_user(me).unwrap().role, Role::Owner);

        // With a second owner, the first may step down.
        let o2 = desk
            .add_user(&boss, new_user("boss2", Role::Owner))
            .await
            .unwrap();
        desk.change_user(&boss, me, UserChange::Role(Role::Supervisor))
            .await
            .unwrap();
        assert_eq!(desk.get_user(o2.id).unwrap().role, Role::Owner);
    }

    #[actix_web::test]
    async fn password_reset_and_own_change() {
        let (_d, desk, boss) = with_owner().await;
        let u = desk
            .add_user(&boss, new_user("agent1", Role::Agent))
            .await
            .unwrap();
        let before = desk.login("agent1", "password1").await.unwrap();
        desk.change_user(&boss, u.id, UserChange::Password("newpassword".into()))
            .await
            .unwrap();
        assert!(desk.authenticate(&before.token).await.unwrap().is_none());
        assert!(desk.login("agent1", "password1").await.is_err());
        let login = desk.login("agent1", "newpassword").await.unwrap();

        let wrong = desk
            .change_own_password(&login.user, "nope", "another-one")
            .await;
        assert!(matches!(wrong, Err(Error::Invalid(i)) if i.get("old_password").is_some()));
        let fresh = desk
            .change_own_password(&login.user, "newpassword", "another-one")
            .await
            .unwrap();
        assert!(desk.authenticate(&login.token).await.unwrap().is_none());
        assert!(desk.authenticate(&fresh.token).await.unwrap().is_some());
        assert!(desk.login("agent1", "another-one").await.is_ok());

        let actions: Vec<String> = desk
            .store()
            .read()
            .unwrap()
            .list_audit(None, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "account.password",
                "user.password",
                "user.create",
                "owner.setup"
            ]
        );
    }

    #[actix_web::test]
    async fn unknown_user_is_not_found() {
        let (_d, desk, boss) = with_owner().await;
        let res = desk
            .change_user(&boss, UserId(42), UserChange::Role(Role::Agent))
            .await;
        assert!(matches!(res, Err(Error::NotFound)));
    }
}
