//! Light CRM: what the console's sidebar shows of a buyer — profile, orders from the
//! channel, previous conversations — and the agent's tags and notes.

use super::{Actor, Desk, Error, Result};
use crate::model::{Buyer, BuyerId, Conversation, Invalid, Order};
use crate::store::{self, prelude::*};

/// Previous conversations the sidebar lists.
const PREVIOUS: usize = 20;
/// Most tags per buyer, and characters per tag and for notes.
const MAX_TAGS: usize = 20;
const MAX_TAG_CHARS: usize = 12;
const MAX_NOTES_CHARS: usize = 1000;

/// A buyer as the console's sidebar shows them.
#[derive(Debug, Clone)]
pub struct BuyerProfile {
    pub buyer: Buyer,
    /// Newest first.
    pub orders: Vec<Order>,
    /// Newest first.
    pub conversations: Vec<Conversation>,
}

impl Desk {
    /// The buyer's profile, orders and latest conversations.
    pub fn buyer_profile(&self, id: BuyerId) -> Result<BuyerProfile> {
        let r = self.store.read()?;
        let buyer = r.get_buyer(id)?.ok_or(Error::NotFound)?;
        let mut orders = Vec::new();
        for key in &buyer.orders {
            if let Some(o) = r.get_order(key)? {
                orders.push(o);
            }
        }
        orders.sort_by_key(|o| std::cmp::Reverse(o.updated_at));
        let conversations = r.convs_of_buyer(id, PREVIOUS)?;
        Ok(BuyerProfile {
            buyer,
            orders,
            conversations,
        })
    }

    /// Sets the agent's tags and notes on a buyer.
    pub async fn save_buyer_notes(
        &self,
        actor: &Actor,
        id: BuyerId,
        tags: Vec<String>,
        notes: &str,
    ) -> Result<Buyer> {
        // Each tag once, in the order first given.
        let mut seen = std::collections::HashSet::new();
        let tags: Vec<String> = tags
            .into_iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty() && seen.insert(t.clone()))
            .collect();
        let notes = notes.trim().to_string();
        let mut inv = Invalid::default();
        if tags.len() > MAX_TAGS || tags.iter().any(|t| t.chars().count() > MAX_TAG_CHARS) {
            inv.add(
                "tags",
                format!("最多 {MAX_TAGS} 个标签，每个不超过 {MAX_TAG_CHARS} 个字"),
            );
        }
        if notes.chars().count() > MAX_NOTES_CHARS {
            inv.add("notes", format!("备注最多 {MAX_NOTES_CHARS} 个字"));
        }
        inv.into_result()?;
        let audit = self.audit(actor, "buyer.notes", &id.0.to_string(), tags.join("、"));
        Ok(self
            .store
            .write(move |tx| {
                let mut b = tx.get_buyer(id)?.ok_or(store::Error::NotFound)?;
                b.tags = tags.clone();
                b.notes = notes.clone();
                tx.put_buyer(&b)?;
                tx.append_audit(&audit)?;
                Ok(b)
            })
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::service::{Incoming, OrderInput};
    use crate::desk::testing::desk;
    use crate::model::Price;

    fn msg(buyer: &str, text: &str) -> Incoming {
        Incoming {
            channel: "qianniu".into(),
            buyer: buyer.into(),
            text: text.into(),
            product: None,
            client_msg_id: None,
            nickname: Some("小花".into()),
            region: Some("浙江杭州".into()),
            member_level: Some(2),
        }
    }

    #[actix_web::test]
    async fn the_sidebar_shows_profile_orders_and_previous_conversations() {
        let (_d, desk, _clock) = desk();
        let desk = desk
            .open_bot(crate::bot::index::Location::Ram)
            .await
            .unwrap();
        let first = desk.on_buyer_message(msg("tb-1", "在吗")).await.unwrap();
        let id = first.conv.buyer;
        // The conversation ends; the buyer comes back: a second conversation.
        desk.store()
            .write(move |tx| {
                let mut c = tx.get_conv(first.conv.id)?.unwrap();
                c.state = crate::model::ConvState::Closed;
                tx.put_conv(&c)
            })
            .await
            .unwrap();
        let second = desk
            .on_buyer_message(msg("tb-1", "发货了吗"))
            .await
            .unwrap();
        assert_ne!(second.conv.id, first.conv.id);
        for (order, status) in [("A1", "completed"), ("A2", "shipped")] {
            desk.record_order(OrderInput {
                channel: "qianniu".into(),
                order_id: order.into(),
                buyer: "tb-1".into(),
                status: status.into(),
                amount: Some(Price(5900)),
                ..OrderInput::default()
            })
            .await
            .unwrap();
        }
        let p = desk.buyer_profile(id).unwrap();
        assert_eq!(
            (
                p.buyer.nickname.as_str(),
                p.buyer.region.as_str(),
                p.buyer.member_level
            ),
            ("小花", "浙江杭州", 2)
        );
        assert_eq!(
            p.conversations.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![second.conv.id, first.conv.id]
        );
        assert_eq!(p.orders.len(), 2);
        assert!(matches!(
            desk.buyer_profile(BuyerId(99)),
            Err(Error::NotFound)
        ));

        let b = desk
            .save_buyer_notes(
                &Actor::cli(),
                id,
                vec!["老客".into(), " ".into(), "VIP".into(), " 老客".into()],
                "喜欢顺丰",
            )
            .await
            .unwrap();
        assert_eq!(b.tags, vec!["老客", "VIP"]);
        assert_eq!(desk.buyer_profile(id).unwrap().buyer.notes, "喜欢顺丰");
        assert!(matches!(
            desk.save_buyer_notes(
                &Actor::cli(),
                id,
                vec!["太长的标签名字超过十二个字了".into()],
                ""
            )
            .await,
            Err(Error::Invalid(_))
        ));
    }
}
