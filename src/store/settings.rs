//! The shop settings document.

use super::codec::{decode, encode};
use super::tables::SETTINGS;
use super::{Reads, Result, WriteTx};
use crate::model::ShopSettings;
use redb::{ReadableTable, TableHandle};

const SHOP: &str = "shop";

fn settings_in(t: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<ShopSettings> {
    Ok(t.get(SHOP)?
        .map(|v| decode(SETTINGS.name(), v.value()))
        .transpose()?
        .unwrap_or_default())
}

/// Reads of this file's tables, in a read or a write transaction.
pub trait SettingsReads: Reads {
    /// The shop settings (defaults until the owner saves them).
    fn get_settings(&self) -> Result<ShopSettings> {
        settings_in(&*self.table(SETTINGS)?)
    }
}

impl<T: Reads> SettingsReads for T {}

impl WriteTx<'_> {
    /// Replaces the shop settings.
    pub fn put_settings(&self, s: &ShopSettings) -> Result<()> {
        self.table(SETTINGS)?.insert(SHOP, encode(s)?.as_slice())?;
        self.config_changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::model::ShopSettings;
    use crate::store::prelude::*;
    use crate::store::testing::temp_store;

    #[actix_web::test]
    async fn settings_default_then_round_trip() {
        let (_dir, store) = temp_store();
        assert_eq!(
            store.read().unwrap().get_settings().unwrap(),
            ShopSettings::default()
        );
        let s = ShopSettings {
            shop_name: "小二的店".into(),
            ..ShopSettings::default()
        };
        let s2 = s.clone();
        store.write(move |tx| tx.put_settings(&s2)).await.unwrap();
        assert_eq!(store.read().unwrap().get_settings().unwrap(), s);
    }
}
