//! The buyer's side of the web chat: who the buyer is (a secret token only the buyer's
//! browser holds), what the chat page shows (greeting, hot questions, the latest
//! conversation with its queue place), suggestions while typing, and ratings.

use super::auth::session_key;
use super::routing::Picture;
use super::service::{Incoming, Outcome, RatingInput};
use super::{Desk, Error, Result};
use crate::bot::{Ctx, FollowUp};
use crate::model::conv::WEB_CHANNEL;
use crate::model::{BuyerId, ConvState, Conversation, Invalid, Message, Rating};
use crate::store::prelude::*;

/// Entries offered as hot questions until buyers have asked enough to rank them.
const STARTER_HOT: &[&str] = &[
    "ship-when",
    "ship-courier",
    "ship-free",
    "ship-arrive",
    "after-7day",
    "after-return-how",
    "promo-coupon-get",
    "inv-can",
];

/// Messages of the latest conversation a page loads at most.
const HISTORY: usize = 200;

/// A buyer of the web chat, known by the secret token in their browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebBuyer {
    token: String,
}

impl WebBuyer {
    /// The buyer holding `token`: 32–128 letters, digits, `-` or `_` (the chat page and
    /// the widget make 64 random hex digits).
    pub fn new(token: &str) -> Result<WebBuyer> {
        let ok = (32..=128).contains(&token.len())
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(Invalid::general("买家令牌格式不对").into());
        }
        Ok(WebBuyer {
            token: token.to_string(),
        })
    }

    /// A buyer with a fresh random token.
    pub fn fresh() -> WebBuyer {
        WebBuyer {
            token: super::auth::random_token(),
        }
    }

    /// The secret token (for the buyer's cookie).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The id the store knows the buyer by: a hash, so the store never holds a token
    /// that would let someone read the buyer's chat.
    pub fn external_id(&self) -> String {
        session_key(&self.token)
    }
}

/// What the chat page shows of a buyer's latest conversation.
#[derive(Debug, Clone, Default)]
pub struct ChatView {
    pub buyer: Option<BuyerId>,
    pub conv: Option<Conversation>,
    pub messages: Vec<Message>,
    /// The event log position this view was read at: live updates start after it.
    pub last_event: u64,
    /// Buyers ahead in the queue, while queued.
    pub queue_ahead: Option<usize>,
    /// The serving agent's name, while served by a human.
    pub agent: Option<String>,
}

impl Desk {
    /// The greeting from the shop settings, variables filled.
    pub fn greeting(&self) -> Result<String> {
        let settings = self.settings()?;
        Ok(crate::bot::compose::fill(
            &settings.greeting,
            &settings,
            None,
            &[],
        ))
    }

    /// The questions buyers ask most (answer hits), topped up with common starter
    /// questions; only entries that answer now.
    pub fn hot_questions(&self, limit: usize) -> Result<Vec<FollowUp>> {
        let hits = self.store.read()?.top_hits(limit)?;
        let ids = hits
            .iter()
            .map(|(id, _)| id.as_str())
            .chain(STARTER_HOT.iter().copied());
        let bot = self.bot()?;
        let mut out: Vec<FollowUp> = Vec::new();
        for id in ids {
            if out.len() >= limit {
                break;
            }
            // 在吗 is asked a lot and answers nothing worth a click.
            if out.iter().any(|f| f.id == id) || bot.small_talk(id) {
                continue;
            }
            if let Some(f) = bot.question(id, self.clock.now()) {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Standard questions for what the buyer is typing (预输入): questions containing
    /// the text first, then what the bot would match it to.
    pub fn suggest(&self, typed: &str, limit: usize) -> Result<Vec<FollowUp>> {
        let now = self.clock.now();
        let bot = self.bot()?;
        let mut out = bot.suggest(typed, limit, now);
        if out.len() < limit && typed.trim().chars().count() >= 2 {
            let settings = self.settings()?;
            let reply = bot.reply(&Ctx::new(&settings, now), typed);
            let matched = reply.entry.iter().filter_map(|id| {
                reply
                    .candidates
                    .iter()
                    .find(|c| &c.id == id)
                    .map(|c| FollowUp {
                        id: c.id.clone(),
                        question: c.question.clone(),
                    })
            });
            for f in matched.chain(reply.menu) {
                if out.len() < limit && !out.iter().any(|x| x.id == f.id) {
                    out.push(f);
                }
            }
        }
        Ok(out)
    }

    /// The buyer's latest conversation as the chat page shows it (empty for a buyer
    /// who never wrote).
    pub fn chat_view(&self, buyer: &WebBuyer) -> Result<ChatView> {
        let r = self.store.read()?;
        let last_event = r.last_event_seq()?;
        let Some(b) = r.find_buyer(WEB_CHANNEL, &buyer.external_id())? else {
            return Ok(ChatView {
                last_event,
                ..ChatView::default()
            });
        };
        let Some(conv) = r.convs_of_buyer(b.id, 1)?.into_iter().next() else {
            return Ok(ChatView {
                buyer: Some(b.id),
                last_event,
                ..ChatView::default()
            });
        };
        let first = conv.next_seq.saturating_sub(HISTORY as u64 + 1);
        let messages = r.messages_after(conv.id, first, HISTORY)?;
        let queue_ahead = queue_ahead(&r, &conv)?;
        let agent = match conv.agent {
            Some(a) if conv.state == ConvState::Human => r.get_user(a)?.map(|u| u.nickname),
            _ => None,
        };
        Ok(ChatView {
            buyer: Some(b.id),
            conv: Some(conv),
            messages,
            last_event,
            queue_ahead,
            agent,
        })
    }

    /// The web buyer's id in the store, once they have written.
    pub fn web_buyer_id(&self, buyer: &WebBuyer) -> Result<Option<BuyerId>> {
        Ok(self
            .store
            .read()?
            .find_buyer(WEB_CHANNEL, &buyer.external_id())?
            .map(|b| b.id))
    }

    /// Buyers ahead of `conv` in its queue, while it is queued.
    pub fn queue_ahead(&self, conv: &Conversation) -> Result<Option<usize>> {
        Ok(queue_ahead(&self.store.read()?, conv)?)
    }

    /// A message from the web chat page.
    pub async fn chat_send(
        &self,
        buyer: &WebBuyer,
        text: &str,
        client_msg_id: Option<String>,
        product: Option<String>,
    ) -> Result<Outcome> {
        self.on_buyer_message(Incoming {
            channel: WEB_CHANNEL.into(),
            buyer: buyer.external_id(),
            text: text.to_string(),
            product: product.filter(|p| !p.trim().is_empty()),
            client_msg_id,
            nickname: None,
            region: None,
            member_level: None,
        })
        .await
    }

    /// The web buyer's rating of their conversation `conv`.
    pub async fn chat_rate(
        &self,
        buyer: &WebBuyer,
        conv: crate::model::ConvId,
        input: RatingInput,
    ) -> Result<Rating> {
        let id = self.web_buyer_id(buyer)?.ok_or(Error::NotFound)?;
        self.rate(conv, id, input).await
    }
}

/// Buyers ahead of `conv` in its group's queue, when it is queued.
fn queue_ahead(r: &impl Reads, conv: &Conversation) -> crate::store::Result<Option<usize>> {
    if conv.state != ConvState::Queued {
        return Ok(None);
    }
    let groups = r.list_groups()?;
    let states = r.agent_states()?;
    let open = r.list_open_convs()?;
    let picture = Picture {
        groups: &groups,
        states: &states,
        open: &open,
        cap: r.get_reception()?.agent_cap,
    };
    Ok(Some(
        picture.position(conv.id, conv.group).saturating_sub(1),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::testing::desk;

    async fn bot_desk() -> (tempfile::TempDir, Desk) {
        let (dir, desk, _clock) = desk();
        let desk = desk
            .open_bot(crate::bot::index::Location::Ram)
            .await
            .unwrap();
        (dir, desk)
    }

    #[test]
    fn tokens_are_long_and_plain() {
        assert!(WebBuyer::new(&"a".repeat(31)).is_err());
        assert!(WebBuyer::new(&format!("{}<", "a".repeat(40))).is_err());
        assert!(WebBuyer::new(&"a".repeat(129)).is_err());
        let b = WebBuyer::new(&"a1-_".repeat(10)).unwrap();
        assert_ne!(b.external_id(), b.token(), "the store sees only a hash");
        assert_ne!(WebBuyer::fresh(), WebBuyer::fresh());
    }

    #[actix_web::test]
    async fn a_buyer_sees_only_their_own_conversation() {
        let (_d, desk) = bot_desk().await;
        let (a, b) = (WebBuyer::fresh(), WebBuyer::fresh());
        assert!(desk.chat_view(&a).unwrap().conv.is_none());
        let sent = desk.chat_send(&a, "发什么快递", None, None).await.unwrap();
        desk.chat_send(&b, "包邮吗", None, None).await.unwrap();
        let view = desk.chat_view(&a).unwrap();
        assert_eq!(view.conv.as_ref().map(|c| c.id), Some(sent.conv.id));
        let texts: Vec<&str> = view.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts[0], "发什么快递");
        assert!(!texts.contains(&"包邮吗"));
        assert!(view.last_event >= 2);
        // Only the conversation's own buyer may rate it.
        assert!(matches!(
            desk.chat_rate(&b, sent.conv.id, RatingInput::default())
                .await,
            Err(Error::Invalid(_))
        ));
        let rating = RatingInput {
            level: 5,
            ..RatingInput::default()
        };
        assert!(matches!(
            desk.chat_rate(&b, sent.conv.id, rating).await,
            Err(Error::NotFound)
        ));
    }

    #[actix_web::test]
    async fn the_queue_place_is_shown_while_queued() {
        let (_d, desk) = bot_desk().await;
        let buyers: Vec<WebBuyer> = (0..3).map(|_| WebBuyer::fresh()).collect();
        for b in &buyers {
            let o = desk.chat_send(b, "转人工", None, None).await.unwrap();
            assert_eq!(o.conv.state, ConvState::Queued, "no agent is online");
        }
        let ahead: Vec<Option<usize>> = buyers
            .iter()
            .map(|b| desk.chat_view(b).unwrap().queue_ahead)
            .collect();
        assert_eq!(ahead, vec![Some(0), Some(1), Some(2)]);
    }

    #[actix_web::test]
    async fn hot_questions_follow_what_buyers_ask() {
        let (_d, desk) = bot_desk().await;
        let starter = desk.hot_questions(3).unwrap();
        assert_eq!(
            starter.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
            vec!["ship-when", "ship-courier", "ship-free"]
        );
        let b = WebBuyer::fresh();
        for _ in 0..2 {
            desk.chat_send(&b, "可以开发票吗", None, None)
                .await
                .unwrap();
        }
        let hot = desk.hot_questions(3).unwrap();
        assert_eq!(hot[0].id, "inv-can");
        assert_eq!(hot.len(), 3);
        // Greetings are asked most, and never offered.
        for _ in 0..5 {
            desk.chat_send(&b, "在吗", None, None).await.unwrap();
        }
        let hot = desk.hot_questions(3).unwrap();
        assert!(hot.iter().all(|f| f.id != "cs-hello"), "{hot:?}");
    }

    #[actix_web::test]
    async fn suggestions_contain_the_typed_words_or_what_they_mean() {
        let (_d, desk) = bot_desk().await;
        let s = desk.suggest("发票", 5).unwrap();
        assert!(
            !s.is_empty() && s.iter().all(|f| f.question.contains("发票")),
            "{s:?}"
        );
        // No question contains "邮费", but the bot knows what it means.
        let s = desk.suggest("邮费到付", 5).unwrap();
        assert!(s.iter().any(|f| f.id == "ship-freight-collect"), "{s:?}");
        assert!(desk.suggest(" ", 5).unwrap().is_empty());
    }
}
