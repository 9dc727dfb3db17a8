//! Tickets and ticket types.

use super::codec::{decode, encode};
use super::tables::{TICKET_TYPES, TICKETS};
use super::{Reads, Result, WriteTx};
use crate::model::{Ticket, TicketType};
use redb::{ReadableTable, ReadableTableMetadata, TableHandle};

/// Reads of tickets, in either kind of transaction.
pub trait TicketReads: Reads {
    /// Every ticket, oldest first.
    fn list_tickets(&self) -> Result<Vec<Ticket>> {
        self.table(TICKETS)?
            .iter()?
            .map(|row| {
                let (_, v) = row?;
                decode(TICKETS.name(), v.value())
            })
            .collect()
    }

    /// The ticket with `id`.
    fn get_ticket(&self, id: u64) -> Result<Option<Ticket>> {
        self.table(TICKETS)?
            .get(id)?
            .map(|v| decode(TICKETS.name(), v.value()))
            .transpose()
    }

    /// The ticket types: the stored ones, or the defaults while none was edited.
    fn ticket_types(&self) -> Result<Vec<TicketType>> {
        let stored: Vec<TicketType> = self
            .table(TICKET_TYPES)?
            .iter()?
            .map(|row| {
                let (_, v) = row?;
                decode(TICKET_TYPES.name(), v.value())
            })
            .collect::<Result<_>>()?;
        Ok(if stored.is_empty() {
            TicketType::defaults()
        } else {
            stored
        })
    }
}

impl<T: Reads> TicketReads for T {}

impl WriteTx<'_> {
    /// Stores a ticket (a new one, numbered, when its id is 0).
    pub fn put_ticket(&self, mut t: Ticket) -> Result<Ticket> {
        if t.id == 0 {
            t.id = self.next_id("tickets")?;
        }
        self.table(TICKETS)?.insert(t.id, encode(&t)?.as_slice())?;
        Ok(t)
    }

    /// Stores a ticket type (a new one when its id is 0). The first edit stores the
    /// defaults too, so they stay as they were.
    pub fn put_ticket_type(&self, mut t: TicketType) -> Result<TicketType> {
        let mut table = self.table(TICKET_TYPES)?;
        if table.is_empty()? {
            for d in TicketType::defaults() {
                table.insert(d.id, encode(&d)?.as_slice())?;
            }
        }
        if t.id == 0 {
            let last = table.last()?.map(|(k, _)| k.value()).unwrap_or(0);
            t.id = last + 1;
        }
        table.insert(t.id, encode(&t)?.as_slice())?;
        Ok(t)
    }
}
