//! Buyers, conversations, messages, the event log, message receipts and orders.

use super::codec::{decode, encode};
use super::receipts::Receipt;
use super::tables::{
    BUYER_KEYS, BUYER_OPEN, BUYERS, CONVERSATIONS, EVENTS, HITS, MESSAGES, OPEN_CONVS, ORDERS,
    RECEIPTS,
};
use super::{Reads, Result, WriteTx};
use crate::model::{Buyer, BuyerId, ConvId, Conversation, Event, EventKind, Message, Order};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, TableHandle};
use serde::{Deserialize, Serialize};

/// What a message sent with a `client_msg_id` produced, so a retry gets the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMsg {
    pub conv: ConvId,
    /// The buyer message's sequence number.
    pub seq: u64,
    /// The replies' sequence numbers.
    pub replies: Vec<u64>,
}

/// The key a buyer is found under.
pub fn buyer_key(channel: &str, external_id: &str) -> String {
    format!("{channel}\u{1f}{external_id}")
}

/// The key of a message receipt: per buyer, so one buyer's message id can never
/// replay another buyer's conversation.
pub fn client_msg_key(channel: &str, buyer: &str, client_msg_id: &str) -> String {
    format!("{channel}\u{1f}{buyer}\u{1f}{client_msg_id}")
}

type Docs<K> = redb::TableDefinition<'static, K, &'static [u8]>;

fn doc<K: redb::Key + 'static, T: serde::de::DeserializeOwned>(
    t: &impl ReadableTable<K, &'static [u8]>,
    def: &'static Docs<K>,
    key: K::SelfType<'_>,
) -> Result<Option<T>> {
    t.get(key)?
        .map(|v| decode(def.name(), v.value()))
        .transpose()
}

fn messages_after(
    t: &impl ReadableTable<(u64, u64), &'static [u8]>,
    conv: ConvId,
    after: u64,
    limit: usize,
) -> Result<Vec<Message>> {
    t.range((conv.0, after.saturating_add(1))..=(conv.0, u64::MAX))?
        .take(limit)
        .map(|row| {
            let (_, v) = row?;
            decode(MESSAGES.name(), v.value())
        })
        .collect()
}

/// Reads of this file's tables, in a read or a write transaction.
pub trait ConvReads: Reads {
    /// The buyer with `id`.
    fn get_buyer(&self, id: BuyerId) -> Result<Option<Buyer>> {
        if let Some(b) = self.known_buyer(id.0) {
            return Ok(Some(Buyer::clone(&b)));
        }
        doc(&*self.table(BUYERS)?, &BUYERS, id.0)
    }

    /// Buyers whose nickname or channel id (platform bridges' buyers; the web chat's ids
    /// are token hashes) holds `text`, in any letter case: newest first, at most
    /// `limit`, among the newest `scan` buyer records. Records that do not hold the text
    /// at all are skipped without decoding.
    fn find_buyers(&self, text: &str, limit: usize, scan: usize) -> Result<Vec<Buyer>> {
        let needle = text.trim().to_lowercase();
        let mut out = Vec::new();
        if needle.is_empty() {
            return Ok(out);
        }
        // Letters with a case (not 汉字) make the check case-blind.
        let fold = needle.chars().any(char::is_lowercase);
        // JSON escapes these, so the raw record would not hold them as typed.
        let raw_check = !needle.contains(['"', '\\']) && !needle.chars().any(char::is_control);
        let t = self.table(BUYERS)?;
        for row in t.iter()?.rev().take(scan) {
            if out.len() >= limit {
                break;
            }
            let (_, v) = row?;
            if raw_check {
                let raw = String::from_utf8_lossy(v.value());
                let holds = if fold {
                    raw.to_lowercase().contains(&needle)
                } else {
                    raw.contains(&needle)
                };
                if !holds {
                    continue;
                }
            }
            let b: Buyer = decode(BUYERS.name(), v.value())?;
            let id_holds = b.channel != crate::model::conv::WEB_CHANNEL
                && b.external_id.to_lowercase().contains(&needle);
            if id_holds || b.nickname.to_lowercase().contains(&needle) {
                out.push(b);
            }
        }
        Ok(out)
    }

    /// The buyer a channel knows as `external_id`.
    fn find_buyer(&self, channel: &str, external_id: &str) -> Result<Option<Buyer>> {
        match self
            .table(BUYER_KEYS)?
            .get(buyer_key(channel, external_id).as_str())?
        {
            Some(id) => self.get_buyer(BuyerId(id.value())),
            None => Ok(None),
        }
    }

    /// The conversation with `id`.
    fn get_conv(&self, id: ConvId) -> Result<Option<Conversation>> {
        if let Some(c) = self.known_conv(id.0) {
            return Ok(Some(Conversation::clone(&c)));
        }
        doc(&*self.table(CONVERSATIONS)?, &CONVERSATIONS, id.0)
    }

    /// The buyer's open conversation, if any.
    fn open_conv_of(&self, buyer: BuyerId) -> Result<Option<Conversation>> {
        match self.table(BUYER_OPEN)?.get(buyer.0)? {
            Some(c) => self.get_conv(ConvId(c.value())),
            None => Ok(None),
        }
    }

    /// Every conversation not closed, by id.
    fn list_open_convs(&self) -> Result<Vec<Conversation>> {
        let ids: Vec<u64> = self
            .table(OPEN_CONVS)?
            .iter()?
            .map(|r| r.map(|(k, _)| k.value()))
            .collect::<Result<_, _>>()?;
        let convs = self.table(CONVERSATIONS)?;
        ids.into_iter()
            .filter_map(|id| doc(&*convs, &CONVERSATIONS, id).transpose())
            .collect()
    }

    /// The conversations started from `from` (included) to `to` (excluded), in order.
    fn convs_started(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<ConvId>> {
        let secs = |t: DateTime<Utc>| t.timestamp().max(0) as u64;
        self.table(super::tables::CONV_STARTS)?
            .range((secs(from), 0)..(secs(to), 0))?
            .map(|r| r.map(|(k, _)| ConvId(k.value().1)).map_err(Into::into))
            .collect()
    }

    /// The stored tally of `day` (YYYY-MM-DD); the metrics own its shape.
    fn get_daily<T: serde::de::DeserializeOwned>(&self, day: &str) -> Result<Option<T>> {
        self.table(super::tables::DAILY)?
            .get(day)?
            .map(|v| decode("daily", v.value()))
            .transpose()
    }

    /// The ids of the latest `limit` conversations, newest first.
    fn recent_conv_ids(&self, limit: usize) -> Result<Vec<ConvId>> {
        self.table(CONVERSATIONS)?
            .iter()?
            .rev()
            .take(limit)
            .map(|r| r.map(|(k, _)| ConvId(k.value())).map_err(Into::into))
            .collect()
    }

    /// Ids of every conversation not closed (without reading the conversations).
    fn open_conv_ids(&self) -> Result<Vec<ConvId>> {
        let t = self.table(OPEN_CONVS)?;
        let ids = t.iter()?.map(|r| r.map(|(k, _)| ConvId(k.value())));
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// The buyer's latest conversations, newest first, at most `limit`.
    fn convs_of_buyer(&self, buyer: BuyerId, limit: usize) -> Result<Vec<Conversation>> {
        let Some(b) = self.get_buyer(buyer)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for id in b.convs.iter().rev().take(limit) {
            if let Some(c) = self.get_conv(*id)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Messages of `conv` after sequence number `after`, at most `limit`.
    fn messages_after(&self, conv: ConvId, after: u64, limit: usize) -> Result<Vec<Message>> {
        messages_after(&*self.table(MESSAGES)?, conv, after, limit)
    }

    /// Message `seq` of `conv`, decoded as `T`: a part of [`Message`] is enough for a
    /// reader that needs only a few fields (the rest are skipped, not built).
    fn message_as<T: serde::de::DeserializeOwned>(
        &self,
        conv: ConvId,
        seq: u64,
    ) -> Result<Option<T>> {
        doc(&*self.table(MESSAGES)?, &MESSAGES, (conv.0, seq))
    }

    /// Events after global sequence number `after`, at most `limit`.
    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>> {
        self.table(EVENTS)?
            .range(after.saturating_add(1)..)?
            .take(limit)
            .map(|row| {
                let (_, v) = row?;
                decode(EVENTS.name(), v.value())
            })
            .collect()
    }

    /// The last event's sequence number (0 when none).
    fn last_event_seq(&self) -> Result<u64> {
        Ok(self
            .table(EVENTS)?
            .last()?
            .map(|(k, _)| k.value())
            .unwrap_or(0))
    }

    /// The entries the bot answered most often, with their counts, at most `limit`.
    fn top_hits(&self, limit: usize) -> Result<Vec<(String, u64)>> {
        let mut hits: Vec<(String, u64)> = self
            .table(HITS)?
            .iter()?
            .map(|r| r.map(|(k, v)| (k.value().to_string(), v.value())))
            .collect::<Result<_, _>>()?;
        hits.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        hits.truncate(limit);
        Ok(hits)
    }

    /// The order under `key` (see `Order::key`).
    fn get_order(&self, key: &str) -> Result<Option<Order>> {
        doc(&*self.table(ORDERS)?, &ORDERS, key)
    }
}

impl<T: Reads> ConvReads for T {}

impl WriteTx<'_> {
    /// Finds the buyer a channel knows as `external_id`, or creates them.
    pub fn buyer_for(&self, channel: &str, external_id: &str, now: DateTime<Utc>) -> Result<Buyer> {
        let key = buyer_key(channel, external_id);
        let found = self
            .table(BUYER_KEYS)?
            .get(key.as_str())?
            .map(|v| v.value());
        if let Some(id) = found
            && let Some(b) = self.get_buyer(BuyerId(id))?
        {
            return Ok(b);
        }
        let buyer = Buyer {
            id: BuyerId(self.next_id("buyers")?),
            channel: channel.to_string(),
            external_id: external_id.to_string(),
            nickname: String::new(),
            region: String::new(),
            member_level: 0,
            tags: Vec::new(),
            notes: String::new(),
            orders: Vec::new(),
            convs: Vec::new(),
            created_at: now,
            last_seen: now,
        };
        self.table(BUYER_KEYS)?.insert(key.as_str(), buyer.id.0)?;
        self.put_buyer(&buyer)?;
        Ok(buyer)
    }

    /// Stores a buyer.
    pub fn put_buyer(&self, b: &Buyer) -> Result<()> {
        self.table(BUYERS)?.insert(b.id.0, encode(b)?.as_slice())?;
        self.stage_buyer(b);
        Ok(())
    }

    /// A new conversation id.
    pub fn new_conv_id(&self) -> Result<ConvId> {
        Ok(ConvId(self.next_id("conversations")?))
    }

    /// Stores a conversation and keeps the open-conversation indexes in step with its
    /// state.
    pub fn put_conv(&self, c: &Conversation) -> Result<()> {
        self.table(CONVERSATIONS)?
            .insert(c.id.0, encode(c)?.as_slice())?;
        self.stage_conv(c);
        let mut open = self.table(OPEN_CONVS)?;
        let mut by_buyer = self.table(BUYER_OPEN)?;
        if c.state == crate::model::ConvState::Closed {
            open.remove(c.id.0)?;
            if by_buyer.get(c.buyer.0)?.map(|v| v.value()) == Some(c.id.0) {
                by_buyer.remove(c.buyer.0)?;
            }
        } else {
            // Most messages leave both the same; an insert would still copy the page.
            if open.get(c.id.0)?.map(|v| v.value()) != Some(c.buyer.0) {
                open.insert(c.id.0, c.buyer.0)?;
            }
            if by_buyer.get(c.buyer.0)?.map(|v| v.value()) != Some(c.id.0) {
                by_buyer.insert(c.buyer.0, c.id.0)?;
            }
        }
        Ok(())
    }

    /// Appends a message to `conv` (advancing `conv.next_seq`; the caller stores the
    /// conversation).
    pub fn append_message(&self, conv: &mut Conversation, mut m: Message) -> Result<Message> {
        m.conv = conv.id;
        m.seq = conv.next_seq;
        conv.next_seq += 1;
        self.table(MESSAGES)?
            .insert((conv.id.0, m.seq), encode(&m)?.as_slice())?;
        Ok(m)
    }

    /// Appends an event to the global log.
    pub fn append_event(
        &self,
        at: DateTime<Utc>,
        conv: &Conversation,
        kind: EventKind,
    ) -> Result<Event> {
        let e = Event {
            seq: self.next_id("events")?,
            at,
            conv: conv.id,
            channel: conv.channel.clone(),
            kind,
        };
        self.table(EVENTS)?.insert(e.seq, encode(&e)?.as_slice())?;
        Ok(e)
    }

    /// What a message with this receipt key produced: written earlier in this
    /// transaction, or committed and still remembered (see `receipts.rs`).
    pub fn get_client_msg(&self, key: &str) -> Option<ClientMsg> {
        let mine = self.receipts.borrow();
        match mine.iter().find(|r| r.key == key) {
            Some(r) => Some(r.msg()),
            None => self.recent.and_then(|recent| recent.get(key)),
        }
    }

    /// Records what a message with this receipt key produced.
    pub fn put_client_msg(&self, key: &str, r: &ClientMsg, at: DateTime<Utc>) -> Result<()> {
        let rec = Receipt {
            key: key.to_string(),
            at,
            conv: r.conv,
            seq: r.seq,
            replies: r.replies.clone(),
        };
        let id = self.next_id("receipts")?;
        self.table(RECEIPTS)?.insert(id, encode(&rec)?.as_slice())?;
        self.receipts.borrow_mut().push(rec);
        Ok(())
    }

    /// The conversation imported under `key` (`channel\x1f their id`), if any.
    pub fn imported_conv(&self, key: &str) -> Result<Option<ConvId>> {
        Ok(self
            .table(super::tables::IMPORTED)?
            .get(key)?
            .map(|v| ConvId(v.value())))
    }

    /// Remembers that `key` was imported as `conv`.
    pub fn mark_imported(&self, key: &str, conv: ConvId) -> Result<()> {
        self.table(super::tables::IMPORTED)?.insert(key, conv.0)?;
        Ok(())
    }

    /// Keeps a finished day's tally (YYYY-MM-DD); the metrics own its shape.
    pub fn put_daily<T: serde::Serialize>(&self, day: &str, tally: &T) -> Result<()> {
        self.table(super::tables::DAILY)?
            .insert(day, encode(tally)?.as_slice())?;
        Ok(())
    }

    /// Drops a day's tally (its conversations changed, e.g. by an import).
    pub fn forget_daily(&self, day: &str) -> Result<()> {
        self.table(super::tables::DAILY)?.remove(day)?;
        Ok(())
    }

    /// Indexes a new conversation by when it started.
    pub fn index_conv_start(&self, c: &Conversation) -> Result<()> {
        let secs = c.created_at.timestamp().max(0) as u64;
        self.table(super::tables::CONV_STARTS)?
            .insert((secs, c.id.0), c.buyer.0)?;
        Ok(())
    }

    /// Stores an order and links it to its buyer.
    pub fn put_order(&self, o: &Order) -> Result<()> {
        let key = Order::key(&o.channel, &o.order_id);
        self.table(ORDERS)?
            .insert(key.as_str(), encode(o)?.as_slice())?;
        if let Some(mut b) = self.get_buyer(o.buyer)?
            && !b.orders.contains(&key)
        {
            b.orders.push(key);
            self.put_buyer(&b)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    #[actix_web::test]
    async fn buyers_are_found_by_nickname_or_platform_id_newest_first() {
        let (_dir, store) = temp_store();
        let now = Utc::now();
        store
            .write(move |tx| {
                for (channel, id, nickname) in [
                    ("qianniu", "tb-8812", "爱吃\"橘子\"的猫"),
                    ("qianniu", "TB-9901", "Orange小王"),
                    ("web", "tb-secret-hash", "网页买家"),
                    ("douyin", "dy-1", "小王"),
                ] {
                    let mut b = tx.buyer_for(channel, id, now)?;
                    b.nickname = nickname.into();
                    tx.put_buyer(&b)?;
                }
                Ok(())
            })
            .await
            .unwrap();
        let r = store.read().unwrap();
        let find = |text: &str, limit| -> Vec<String> {
            r.find_buyers(text, limit, 100)
                .unwrap()
                .into_iter()
                .map(|b| b.external_id)
                .collect()
        };
        assert_eq!(find("小王", 10), ["dy-1", "TB-9901"], "newest first");
        assert_eq!(find("小王", 1), ["dy-1"]);
        assert_eq!(find("tb-9901", 10), ["TB-9901"], "any letter case");
        assert_eq!(find("ORANGE", 10), ["TB-9901"]);
        // Quotes are escaped in the stored record but found as typed.
        assert_eq!(find("\"橘子\"", 10), ["tb-8812"]);
        // The web chat's ids are secret hashes: not searchable.
        assert_eq!(find("tb-", 10), ["TB-9901", "tb-8812"]);
        assert!(find("secret", 10).is_empty());
        assert!(find("  ", 10).is_empty());
        // Only the newest `scan` records are read.
        assert!(r.find_buyers("橘子", 10, 3).unwrap().is_empty());
        assert_eq!(r.find_buyers("橘子", 10, 4).unwrap().len(), 1);
    }
}
