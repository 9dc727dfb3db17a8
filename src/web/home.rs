//! The console home page: who you are, the shop, and whether humans are on duty now.

use super::extract::{AnyUser, Require};
use super::page::PageCtx;
use crate::AppState;
use crate::error::AppError;
use crate::model::{Role, ShopSettings};
use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;

/// One step of the owner's getting-started list.
pub struct Step {
    pub label: &'static str,
    pub href: &'static str,
    pub done: bool,
}

/// Work waiting for the user: a count and where to do it.
pub struct Todo {
    pub label: &'static str,
    pub count: usize,
    pub href: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub ctx: PageCtx,
    pub staffed_now: bool,
    pub staffed_label: String,
    pub time_zone: String,
    pub steps: Vec<Step>,
    pub todo: Vec<Todo>,
}

/// GET /
pub async fn home(
    state: web::Data<AppState>,
    me: Require<AnyUser>,
    ctx: PageCtx,
) -> Result<HomePage, AppError> {
    let settings = state.desk.settings()?;
    let now = state.desk.clock().now();
    let steps = if me.user.role == Role::Owner {
        let users = state.desk.list_users()?.len();
        vec![
            Step {
                label: "填写店铺名称、客服时间和欢迎语",
                href: "/settings",
                done: settings != ShopSettings::default(),
            },
            Step {
                label: "为客服、训练师添加账号",
                href: "/settings/users",
                done: users > 1,
            },
            Step {
                label: "建立技能组（售前、售后……），转人工的买家按组分配",
                href: "/settings/groups",
                done: !state.desk.groups()?.is_empty(),
            },
            Step {
                label: "录入商品资料，机器人按商品回答尺码、材质、价格",
                href: "/kb/products",
                done: !state.desk.list_products()?.is_empty(),
            },
            Step {
                label: "接入渠道：在店铺页面挂上聊天挂件，或为平台桥接创建 API 令牌",
                href: "/settings/channels",
                done: !state.desk.tokens()?.is_empty(),
            },
        ]
    } else {
        Vec::new()
    };
    let mut todo = Vec::new();
    if me.user.role != Role::Trainer {
        let lists = state.desk.workspace(&me.user)?;
        todo.push(Todo {
            label: "排队等待接待的买家",
            count: lists.queue.len(),
            href: "/desk",
        });
        todo.push(Todo {
            label: "我正在接待的会话",
            count: lists.mine.len(),
            href: "/desk",
        });
        let mine = crate::desk::tickets::TicketFilter {
            status: "open".into(),
            assignee: "me".into(),
            ..Default::default()
        };
        todo.push(Todo {
            label: "指派给我、尚未解决的工单",
            count: state.desk.tickets(&me.user, &mine)?.len(),
            href: "/tickets?status=open&assignee=me",
        });
    }
    if me.user.role == Role::Owner {
        // Buyers' bridges not getting the shop's answers is only seen on 渠道接入.
        let stuck = state.desk.undelivered_count()?;
        if stuck > 0 {
            todo.push(Todo {
                label: "Webhook 未送达买家的消息",
                count: stuck,
                href: "/settings/channels",
            });
        }
    }
    if matches!(me.user.role, Role::Owner | Role::Trainer) {
        todo.push(Todo {
            label: "问答训练待处理的问题",
            count: usize::try_from(state.desk.open_training_count()?).unwrap_or(usize::MAX),
            href: "/kb/training",
        });
    }
    Ok(HomePage {
        ctx,
        staffed_now: settings.is_staffed(now),
        staffed_label: settings.staffed.label(),
        time_zone: settings.time_zone.clone(),
        steps,
        todo,
    })
}
