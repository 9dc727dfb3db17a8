//! Reading timelines from the store: the conversations started on the chosen days (shop
//! time zone), with their messages and their state changes.

use super::Timeline;
use crate::model::{ConvId, Event};
use crate::store::prelude::*;
use crate::store::{Result, tables};
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use redb::ReadableTable;
use std::collections::HashMap;

/// Timelines of the conversations started from `from` to `to` (both included, dates in
/// `tz`), oldest first.
pub fn timelines(r: &impl Reads, from: NaiveDate, to: NaiveDate, tz: Tz) -> Result<Vec<Timeline>> {
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&Utc))
    };
    let (Some(a), Some(b)) = (start(from), to.succ_opt().and_then(start)) else {
        return Ok(Vec::new());
    };
    let mut convs = Vec::new();
    for id in r.convs_started(a, b)? {
        if let Some(c) = r.get_conv(id)? {
            convs.push(c);
        }
    }
    // Conversations from before state changes were recorded need the event log.
    let legacy: HashMap<ConvId, usize> = convs
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.modes.is_empty()
                && (c.state != crate::model::ConvState::Bot
                    || c.queued_at.is_some()
                    || c.last_agent.is_some())
        })
        .map(|(i, c)| (c.id, i))
        .collect();
    let mut events: Vec<Vec<Event>> = vec![Vec::new(); convs.len()];
    if !legacy.is_empty() {
        for row in r.table(tables::EVENTS)?.iter()? {
            let (_, v) = row?;
            let e: Event = crate::store::codec::decode("events", v.value())?;
            if let Some(&i) = legacy.get(&e.conv) {
                events[i].push(e);
            }
        }
    }
    let logins = r
        .list_users()?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    convs
        .iter()
        .zip(events)
        .map(|(c, ev)| {
            let msgs = r.messages_after(c.id, 0, usize::MAX)?;
            let mut t = Timeline::build(c, &msgs, &ev, &logins);
            t.ordered = ordered_within_a_day(r, c)?;
            Ok(t)
        })
        .collect()
}

/// Whether the buyer of `c` placed an order within 24 hours of its start (询单转化).
fn ordered_within_a_day(r: &impl Reads, c: &crate::model::Conversation) -> Result<bool> {
    let Some(buyer) = r.get_buyer(c.buyer)? else {
        return Ok(false);
    };
    let until = c.created_at + chrono::Duration::hours(24);
    for key in &buyer.orders {
        if let Some(o) = r.get_order(key)?
            && c.created_at <= o.created_at
            && o.created_at <= until
        {
            return Ok(true);
        }
    }
    Ok(false)
}
