//! Reading timelines from the store: the conversations started on the chosen days (shop
//! time zone), with their messages and their state changes.

use super::Timeline;
use crate::model::{ConvId, Event};
use crate::store::prelude::*;
use crate::store::{Result, tables};
use chrono::NaiveDate;
use chrono_tz::Tz;
use redb::ReadableTable;
use std::collections::HashMap;

/// Timelines of the conversations started from `from` to `to` (both included, dates in
/// `tz`), oldest first.
pub fn timelines(r: &impl Reads, from: NaiveDate, to: NaiveDate, tz: Tz) -> Result<Vec<Timeline>> {
    let mut convs = Vec::new();
    for row in r.table(tables::CONVERSATIONS)?.iter()? {
        let (_, v) = row?;
        let c: crate::model::Conversation =
            crate::store::codec::decode("conversations", v.value())?;
        let day = c.created_at.with_timezone(&tz).date_naive();
        if from <= day && day <= to {
            convs.push(c);
        }
    }
    let wanted: HashMap<ConvId, usize> = convs.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let mut events: Vec<Vec<Event>> = vec![Vec::new(); convs.len()];
    if !convs.is_empty() {
        for row in r.table(tables::EVENTS)?.iter()? {
            let (_, v) = row?;
            let e: Event = crate::store::codec::decode("events", v.value())?;
            if let Some(&i) = wanted.get(&e.conv) {
                events[i].push(e);
            }
        }
    }
    convs
        .iter()
        .zip(events)
        .map(|(c, ev)| {
            let msgs = r.messages_after(c.id, 0, usize::MAX)?;
            Ok(Timeline::build(c, &msgs, &ev))
        })
        .collect()
}
