//! The conversation state machine: bot → (transfer) → queued → human (assigned) → bot
//! (released) → closed. Every change is a `Trigger`; anything not in the table is
//! refused.

use crate::model::ConvState;

/// What moves a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// To a human: intent, button, misses, scene switch, or an agent passing it on.
    Transfer,
    /// An agent takes it (from the queue, directly, or from another agent).
    Assign,
    /// The agent hands it back to the bot (or a waiting buyer is served by the bot).
    Release,
    /// Over: closed by an agent, a supervisor, or idle timeout.
    Close,
}

/// The state after `trigger`, or `None` when the move is not allowed.
pub fn next(from: ConvState, trigger: Trigger) -> Option<ConvState> {
    use ConvState::*;
    use Trigger::*;
    match (from, trigger) {
        (Closed, _) => None,
        (_, Close) => Some(Closed),
        (Bot | Queued | Human, Transfer) => Some(Queued),
        (Bot | Queued | Human, Assign) => Some(Human),
        (Queued | Human, Release) => Some(Bot),
        (Bot, Release) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConvState::*;
    use Trigger::*;

    #[test]
    fn the_transition_table() {
        let table = [
            (Bot, Transfer, Some(Queued)),
            (Bot, Assign, Some(Human)),
            (Bot, Release, None),
            (Bot, Close, Some(Closed)),
            (Queued, Transfer, Some(Queued)),
            (Queued, Assign, Some(Human)),
            (Queued, Release, Some(Bot)),
            (Queued, Close, Some(Closed)),
            (Human, Transfer, Some(Queued)),
            (Human, Assign, Some(Human)),
            (Human, Release, Some(Bot)),
            (Human, Close, Some(Closed)),
            (Closed, Transfer, None),
            (Closed, Assign, None),
            (Closed, Release, None),
            (Closed, Close, None),
        ];
        for (from, trigger, to) in table {
            assert_eq!(next(from, trigger), to, "{from:?} + {trigger:?}");
        }
    }
}
