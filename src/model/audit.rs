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

/// Every audited action and its name in the UI.
const ACTIONS: &[(&str, &str)] = &[
    ("owner.setup", "创建店主账号"),
    ("user.create", "添加账号"),
    ("user.role", "修改角色"),
    ("user.disable", "停用账号"),
    ("user.enable", "启用账号"),
    ("user.password", "重置密码"),
    ("user.nickname", "修改昵称"),
    ("account.password", "修改自己的密码"),
    ("settings.update", "修改店铺设置"),
    ("targets.update", "修改数据看板目标"),
    ("kb.save", "保存知识库问题"),
    ("kb.delete", "删除知识库问题"),
    ("kb.bulk", "批量修改知识库问题"),
    ("kb.import", "导入知识库"),
    ("product.save", "保存商品"),
    ("product.delete", "删除商品"),
    ("product.import", "导入商品"),
    ("lexicon.save", "修改同义词/店铺词"),
    ("token.create", "创建 API 令牌"),
    ("token.revoke", "撤销 API 令牌"),
    ("webhook.save", "设置 Webhook"),
    ("webhook.delete", "删除 Webhook"),
    ("webhook.retry", "重发失败的 Webhook"),
    ("scene.set", "切换场景开关"),
    ("reception.set", "修改接待设置"),
    ("group.save", "保存客服分组"),
    ("group.delete", "删除客服分组"),
    ("buyer.notes", "修改买家标签备注"),
    ("quick_reply.save", "修改快捷回复"),
    ("ticket_type.save", "修改工单类型"),
    ("qa.red_lines", "修改质检红线词"),
    ("qa.rubric", "修改质检评分项"),
    ("history.import", "导入历史会话"),
    ("backup.download", "下载备份"),
];

/// The UI name of `action`, if it is one of ours.
pub fn action_label(action: &str) -> Option<&'static str> {
    ACTIONS.iter().find(|(a, _)| *a == action).map(|(_, l)| *l)
}

impl AuditEntry {
    /// The action's name in the UI (the code itself for an action no longer made).
    pub fn action_label(&self) -> &str {
        action_label(&self.action).unwrap_or(&self.action)
    }
}
