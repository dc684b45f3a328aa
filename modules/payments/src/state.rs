//! The order state machine (pure). States move forward only: pending → paid | failed |
//! expired | cancelled, paid → refunded. One exception, because money was taken: a paid
//! statement for an order we already expired or cancelled makes it paid (and flags it).

use crate::api::OrderStatus;

/// What a reported status does to an order in `current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Move(OrderStatus),
    /// Paid after we expired or cancelled it: applied, flagged for the operator.
    LatePayment,
    /// Same state, backwards, or from a final state: nothing changes.
    Stay,
}

pub fn transition(current: OrderStatus, reported: OrderStatus) -> Transition {
    use OrderStatus::*;
    match (current, reported) {
        (Pending, Paid | Failed | Expired | Cancelled) => Transition::Move(reported),
        (Paid, Refunded) => Transition::Move(Refunded),
        (Expired | Cancelled, Paid) => Transition::LatePayment,
        _ => Transition::Stay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn states_only_move_forward_except_a_late_payment() {
        use OrderStatus::*;
        for current in OrderStatus::iter() {
            for reported in OrderStatus::iter() {
                let t = transition(current, reported);
                let expected = match (current, reported) {
                    (Pending, Pending) => Transition::Stay,
                    (Pending, Refunded) => Transition::Stay,
                    (Pending, r) => Transition::Move(r),
                    (Paid, Refunded) => Transition::Move(Refunded),
                    (Expired, Paid) | (Cancelled, Paid) => Transition::LatePayment,
                    _ => Transition::Stay,
                };
                assert_eq!(t, expected, "{current:?} + {reported:?}");
            }
        }
        // Nothing ever goes back to pending, and paid is never undone but by a refund.
        for reported in OrderStatus::iter() {
            assert_ne!(transition(Paid, reported), Transition::Move(Pending));
            assert_ne!(transition(Failed, reported), Transition::Move(Pending));
        }
    }
}
