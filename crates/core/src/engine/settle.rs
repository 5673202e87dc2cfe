//! Trackers brought to the instant a start ends at.
//!
//! A walk leaves each tracker where the subject was last evaluated: a
//! contact quiet for months still holds its 30-day windows as they were
//! at its last event, items a tracker at `now` would have let go. A
//! restart evaluates everyone at its instant, so its windows hold only
//! what is in them then (1M events: the first start's trackers held
//! 26 MB, 19 MB once settled, a restart's 15 MB). Advancing every tracker
//! to `now` is what the next evaluation would do first anyway, so nothing
//! it answers changes; then each window gives back the room it grew to.
//! A restart settles too: its trackers are at the checkpoint's instant.
//! A first start's walkers each settle their own part as they finish, on
//! their own core.

use bellwether_rules::{Events, SubjectKind};

use super::Engine;
use crate::message::Millis;
use crate::subject::SubjectKey;

impl Engine {
    /// Advances every tracker to `now` (feeding what it has not seen,
    /// sliding its windows) and shrinks what its windows hold to fit.
    pub(super) fn settle_trackers(&mut self, now: Millis) {
        let plan = self.view.rules.track_plan();
        let state = &self.view.state;
        for (key, tracker) in self.trackers.iter_mut() {
            match key {
                SubjectKey::Contact(id) => {
                    if let Some(contact) = state.contacts.get(id) {
                        let events = (&contact.timeline).into();
                        tracker.advance(plan, SubjectKind::Contact, events, now);
                    }
                }
                SubjectKey::Account(group_id) => {
                    if let Some(account) = state.accounts.get(group_id) {
                        let timelines = state.member_timelines(account);
                        let events = Events::merged(&timelines, account.order.stamp());
                        tracker.advance(plan, SubjectKind::Account, events, now);
                    }
                }
            }
            tracker.shrink_to_fit();
        }
    }
}
