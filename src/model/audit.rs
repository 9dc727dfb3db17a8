//! The audit log: who changed what, when.

use super::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One recorded admin action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log; grows by one per entry.
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// The acting user, or `None` for the command line.
    pub actor_id: Option<UserId>,
    /// The actor's login name at the time (kept even if the user is renamed).
    pub actor_name: String,
    /// What happened, a dotted key such as `user.create`.
    pub action: String,
    /// What it happened to (a user name, `shop`, …).
    pub target: String,
    /// Human-readable details in Chinese.
    pub detail: String,
}

/// An entry before the store numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    pub at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    pub actor_name: String,
    pub action: &'static str,
    pub target: String,
    pub detail: String,
}

impl AuditEntry {
    /// The action's name in the UI.
    pub fn action_label(&self) -> &str {
        match self.action.as_str() {
            "owner.setup" => "创建店主账号",
            "user.create" => "添加账号",
            "user.role" => "修改角色",
            "user.disable" => "停用账号",
            "user.enable" => "启用账号",
            "user.password" => "重置密码",
            "user.nickname" => "修改昵称",
            "account.password" => "修改自己的密码",
            "settings.update" => "修改店铺设置",
            "kb.save" => "保存知识库问题",
            "kb.delete" => "删除知识库问题",
            "kb.import" => "导入知识库",
            "product.save" => "保存商品",
            "lexicon.save" => "修改同义词/店铺词",
            "token.create" => "创建 API 令牌",
            "token.revoke" => "撤销 API 令牌",
            "webhook.save" => "设置 Webhook",
            "scene.set" => "切换场景开关",
            "reception.set" => "修改接待设置",
            "group.save" => "保存客服分组",
            "group.delete" => "删除客服分组",
            "buyer.notes" => "修改买家标签备注",
            other => other,
        }
    }
}
