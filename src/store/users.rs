//! Users and the login-name index.

use super::codec::{decode, encode};
use super::tables::{USER_NAMES, USERS};
use super::{Error, Reads, Result, WriteTx};
use crate::model::user::{name_key, name_taken};
use crate::model::{Role, User, UserId};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, ReadableTableMetadata, TableHandle};

/// A user to create; the password is already hashed.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub name: String,
    pub nickname: String,
    pub role: Role,
    pub password_hash: String,
}

fn get_in(t: &impl ReadableTable<u64, &'static [u8]>, id: UserId) -> Result<Option<User>> {
    t.get(id.0)?
        .map(|v| decode(USERS.name(), v.value()))
        .transpose()
}

fn list_in(t: &impl ReadableTable<u64, &'static [u8]>) -> Result<Vec<User>> {
    t.iter()?
        .map(|row| {
            let (_, v) = row?;
            decode(USERS.name(), v.value())
        })
        .collect()
}

fn id_by_name(t: &impl ReadableTable<&'static str, u64>, name: &str) -> Result<Option<UserId>> {
    Ok(t.get(name_key(name).as_str())?.map(|v| UserId(v.value())))
}

/// Reads of this file's tables, in a read or a write transaction.
pub trait UserReads: Reads {
    /// The user with `id`.
    fn get_user(&self, id: UserId) -> Result<Option<User>> {
        get_in(&*self.table(USERS)?, id)
    }

    /// The user whose login name is `name` (ASCII case ignored).
    fn get_user_by_name(&self, name: &str) -> Result<Option<User>> {
        match id_by_name(&*self.table(USER_NAMES)?, name)? {
            Some(id) => self.get_user(id),
            None => Ok(None),
        }
    }

    /// Every user, by id.
    fn list_users(&self) -> Result<Vec<User>> {
        list_in(&*self.table(USERS)?)
    }

    /// How many users exist.
    fn count_users(&self) -> Result<u64> {
        Ok(self.table(USERS)?.len()?)
    }
}

impl<T: Reads> UserReads for T {}

impl WriteTx<'_> {
    /// Creates a user; fails with `Conflict` when the login name is taken.
    pub fn insert_user(&self, rec: &UserRecord, now: DateTime<Utc>) -> Result<User> {
        let mut names = self.table(USER_NAMES)?;
        if id_by_name(&*names, &rec.name)?.is_some() {
            return Err(Error::Conflict(name_taken(&rec.name)));
        }
        let id = UserId(self.next_id("users")?);
        if self.table(USERS)?.get(id.0)?.is_some() {
            return Err(Error::Conflict(format!("用户编号 {id} 已存在")));
        }
        let user = User {
            id,
            name: rec.name.clone(),
            nickname: rec.nickname.clone(),
            role: rec.role,
            disabled: false,
            password_hash: rec.password_hash.clone(),
            created_at: now,
            updated_at: now,
        };
        names.insert(name_key(&rec.name).as_str(), id.0)?;
        self.table(USERS)?.insert(id.0, encode(&user)?.as_slice())?;
        Ok(user)
    }

    /// Stores changes to an existing user (the login name never changes).
    pub fn put_user(&self, user: &User) -> Result<()> {
        let mut users = self.table(USERS)?;
        if users.get(user.id.0)?.is_none() {
            return Err(Error::NotFound);
        }
        users.insert(user.id.0, encode(user)?.as_slice())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    fn rec(name: &str, role: Role) -> UserRecord {
        UserRecord {
            name: name.into(),
            nickname: format!("{name}昵称"),
            role,
            password_hash: "$argon2id$fake".into(),
        }
    }

    #[actix_web::test]
    async fn users_round_trip_and_names_are_unique() {
        let (dir, store) = temp_store();
        let now = Utc::now();
        let a = store
            .write(move |tx| tx.insert_user(&rec("Alice", Role::Owner), now))
            .await
            .unwrap();
        let b = store
            .write(move |tx| tx.insert_user(&rec("小王", Role::Agent), now))
            .await
            .unwrap();
        assert_ne!(a.id, b.id);
        let dup = store
            .write(move |tx| tx.insert_user(&rec("alice", Role::Agent), now))
            .await;
        assert!(matches!(dup, Err(Error::Conflict(_))));

        let mut changed = b.clone();
        changed.role = Role::Trainer;
        changed.disabled = true;
        let c2 = changed.clone();
        store.write(move |tx| tx.put_user(&c2)).await.unwrap();
        drop(store);

        let store = crate::store::Store::open(dir.path()).unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.get_user_by_name("ALICE").unwrap(), Some(a));
        assert_eq!(r.get_user(b.id).unwrap(), Some(changed));
        assert_eq!(r.count_users().unwrap(), 2);
        assert_eq!(r.list_users().unwrap().len(), 2);
        assert_eq!(r.get_user_by_name("nobody").unwrap(), None);
    }

    #[actix_web::test]
    async fn put_user_of_unknown_id_is_not_found() {
        let (_dir, store) = temp_store();
        let now = Utc::now();
        let mut u = store
            .write(move |tx| tx.insert_user(&rec("a", Role::Owner), now))
            .await
            .unwrap();
        u.id = UserId(99);
        let res = store.write(move |tx| tx.put_user(&u)).await;
        assert!(matches!(res, Err(Error::NotFound)));
    }
}
