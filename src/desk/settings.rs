//! Saving the shop settings, with an audit entry listing what changed.

use super::{Actor, Desk, Result};
use crate::model::ShopSettings;
use crate::model::settings::SettingsInput;
use crate::store::prelude::*;

impl Desk {
    /// The current shop settings.
    pub fn settings(&self) -> Result<ShopSettings> {
        Ok(self.store.read()?.get_settings()?)
    }

    /// Validates and saves the settings form; returns the saved settings.
    pub async fn save_settings(
        &self,
        actor: &Actor,
        input: &SettingsInput,
    ) -> Result<ShopSettings> {
        let old = self.settings()?;
        let new = ShopSettings {
            targets: old.targets,
            ..input.validate()?
        };
        let detail = describe_changes(&old, &new);
        if detail.is_empty() {
            return Ok(new);
        }
        let audit = self.audit(actor, "settings.update", "店铺设置", detail);
        let saved = new.clone();
        self.store
            .write(move |tx| {
                tx.put_settings(&saved)?;
                tx.append_audit(&audit)?;
                Ok(())
            })
            .await?;
        Ok(new)
    }

    /// Records that `actor` downloaded a backup (it holds every buyer's messages).
    pub async fn note_backup(&self, actor: &Actor, file: &str) -> Result<()> {
        let audit = self.audit(actor, "backup.download", file, String::new());
        self.store.write(move |tx| tx.append_audit(&audit)).await?;
        Ok(())
    }
}

fn describe_changes(old: &ShopSettings, new: &ShopSettings) -> String {
    let mut parts = Vec::new();
    if old.shop_name != new.shop_name {
        parts.push(format!("店铺名称：{} → {}", old.shop_name, new.shop_name));
    }
    if old.staffed != new.staffed {
        parts.push(format!(
            "客服时间：{} → {}",
            old.staffed.label(),
            new.staffed.label()
        ));
    }
    if old.time_zone != new.time_zone {
        parts.push(format!("时区：{} → {}", old.time_zone, new.time_zone));
    }
    if old.greeting != new.greeting {
        parts.push("修改了欢迎语".to_string());
    }
    if old.off_hours_text != new.off_hours_text {
        parts.push("修改了非工作时间回复".to_string());
    }
    for (label, a, b) in [
        ("合作快递", &old.couriers, &new.couriers),
        ("发货时效", &old.ship_within, &new.ship_within),
        ("包邮规则", &old.free_shipping, &new.free_shipping),
        ("退货地址", &old.return_address, &new.return_address),
    ] {
        if a != b {
            parts.push(format!("{label}：{a} → {b}"));
        }
    }
    parts.join("；")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::Error;
    use crate::desk::testing::desk;

    #[actix_web::test]
    async fn save_validates_audits_changes_and_skips_no_ops() {
        let (_d, desk, _c) = desk();
        let actor = Actor::cli();
        let mut input = SettingsInput::from_settings(&ShopSettings::default());
        input.shop_name = "小二旗舰店".into();
        input.staffed_end = "22:00".into();
        let saved = desk.save_settings(&actor, &input).await.unwrap();
        assert_eq!(desk.settings().unwrap(), saved);
        // Saving the same values again records nothing.
        desk.save_settings(&actor, &input).await.unwrap();
        let log = desk.store().read().unwrap().list_audit(None, 10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(
            log[0].detail,
            "店铺名称：我的小店 → 小二旗舰店；客服时间：09:00-23:00 → 09:00-22:00"
        );

        input.time_zone = "Nowhere/City".into();
        let bad = desk.save_settings(&actor, &input).await;
        assert!(matches!(bad, Err(Error::Invalid(i)) if i.get("time_zone").is_some()));
        assert_eq!(desk.settings().unwrap(), saved, "nothing changed");
    }
}
