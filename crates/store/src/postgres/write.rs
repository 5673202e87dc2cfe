//! `apply`: one transaction per batch. Rows are buffered per table and
//! written multi-row at the end ([`Pending`]); a merge costs one round trip
//! for the rows already stored and re-homes the buffered ones in memory.

use bellwether_core::message::ContactId;
use bellwether_core::store::{StoreError, WriteOp};

use super::batch::Pending;
use super::conn::{Mode, PgConn, Session};
use crate::codec;

type WriteSession<'s, 'c> = Session<'s, postgres::Transaction<'c>>;

/// See `Store::discard_unconfirmed_history`.
pub(super) fn discard_unconfirmed_history(conn: &mut PgConn) -> Result<u64, StoreError> {
    conn.transaction(Mode::Write, |s| {
        // Taken first: no checkpoint can be written while this decides.
        s.execute("LOCK TABLE engine_checkpoint IN EXCLUSIVE MODE", &[])?;
        if s.query_opt("SELECT at FROM engine_checkpoint", &[])?
            .is_some()
        {
            return Ok(0);
        }
        let memberships = s.execute("DELETE FROM membership_changes", &[])?;
        Ok(memberships + s.execute("DELETE FROM score_changes", &[])?)
    })
}

pub(super) fn apply(conn: &mut PgConn, ops: &[WriteOp]) -> Result<(), StoreError> {
    conn.transaction(Mode::Write, |session| {
        let mut pending = Pending::default();
        for op in ops {
            buffer(session, &mut pending, op)?;
        }
        pending.flush(session)
    })
}

fn buffer<'a>(
    session: &mut WriteSession<'_, '_>,
    pending: &mut Pending<'a>,
    op: &'a WriteOp,
) -> Result<(), StoreError> {
    match op {
        WriteOp::NewContact { id, created_at } => pending.contact(*id, *created_at),
        WriteOp::Identity {
            kind,
            value,
            contact,
            first_seen,
        } => pending.identity(*kind, value, *contact, *first_seen),
        WriteOp::Merge {
            from,
            into,
            at,
            reason,
            message_id,
        } => {
            pending.flush_contact_accounts(session)?;
            merge_stored(session, *from, *into)?;
            pending.merge((*from, *into), *at, *reason, message_id);
        }
        WriteOp::Event(event) => pending.event(event),
        WriteOp::Detach { seq, from, .. } => {
            session.batch_execute(&format!(
                "UPDATE events SET contact_id = NULL WHERE seq = {seq} AND contact_id = {from};
                 DELETE FROM contact_traits WHERE seq = {seq} AND contact = {from};"
            ))?;
            pending.detach(*seq, *from);
        }
        WriteOp::Rehome { seq, from, to, .. } => {
            rehome_stored(session, *seq, *from, *to)?;
            pending.rehome(*seq, *from, *to);
        }
        WriteOp::ContactTraits {
            contact,
            traits,
            at,
            seq,
        } => pending.contact_traits(*contact, traits, *at, *seq),
        WriteOp::NewAccount {
            group_id,
            created_at,
        } => pending.account(group_id, *created_at),
        WriteOp::AccountTraits {
            group_id,
            traits,
            at,
            seq,
        } => pending.account_traits(group_id, traits, *at, *seq),
        WriteOp::ContactAccount {
            contact,
            group_id,
            link,
            via,
            at,
        } => pending.contact_account(*contact, group_id, *link, via.as_deref(), *at),
        // Few, and in tables nothing else in a batch writes.
        WriteOp::AccountEnrichment {
            group_id,
            domain,
            changes,
            applied,
            at,
            seq,
        } => super::enrichment::record(session, group_id, domain, (changes, applied), (*at, *seq))?,
        WriteOp::EnrichmentAnswer {
            domain,
            traits,
            fetched_at,
        } => super::enrichment::answer(session, domain, traits, *fetched_at)?,
        WriteOp::Rejection(rejection) => pending.rejection(rejection),
        WriteOp::PruneRejections {
            keep_newest,
            before,
        } => pending.prune_rejections = Some((*keep_newest, *before)),
        WriteOp::Membership(record) => pending.memberships.push(record),
        WriteOp::Score(record) => pending.scores.push((record, None)),
        WriteOp::ScoreRun(run) => pending
            .scores
            .push((run.last(), codec::score_forms::pack(run))),
        WriteOp::Checkpoint { at } => pending.checkpoint = Some(*at),
        // Few per batch, and their order matters (a delivery's place in its
        // subject's queue; an assignment ended right after it began).
        WriteOp::Outbox(record) => super::outbox::insert(session, record)?,
        WriteOp::Assign(record) => super::outbox::assign(session, record)?,
        WriteOp::BackfilledAssignment(record) => super::outbox::backfilled(session, record)?,
        WriteOp::DigestSent(record) => super::outbox::digest_sent(session, record)?,
        WriteOp::Unassign {
            segment,
            subject,
            at,
        } => super::outbox::end_assignment(session, segment, subject, *at)?,
        WriteOp::DeleteContact(_)
        | WriteOp::PurgeContactRecords { .. }
        | WriteOp::Unsuppress { .. }
        | WriteOp::ExpireEvents { .. } => pending.privacy.push(op),
    }
    Ok(())
}

/// Re-homes the stored rows of `from` to `into` (see `WriteOp::Merge`), in
/// one round trip: the simple-query protocol runs several statements, and
/// the only values inlined are two integers.
fn merge_stored(
    session: &mut WriteSession<'_, '_>,
    from: ContactId,
    into: ContactId,
) -> Result<(), StoreError> {
    if from == into {
        return Err(StoreError::Database(format!(
            "cannot merge contact {from} into itself"
        )));
    }
    session.batch_execute(&format!(
        "UPDATE identities SET contact = {into} WHERE contact = {from};
         UPDATE events SET contact_id = {into} WHERE contact_id = {from};
         UPDATE contact_traits SET contact = {into} WHERE contact = {from};
         UPDATE contact_accounts SET contact = {into} WHERE contact = {from}
             AND NOT EXISTS (SELECT 1 FROM contact_accounts WHERE contact = {into});
         DELETE FROM contact_accounts WHERE contact = {from};
         UPDATE contacts SET merged_into = {into} WHERE id = {from} OR merged_into = {from};"
    ))
}

/// Moves one stored message and the contact traits it set (see
/// `WriteOp::Rehome`); rows still buffered move in [`Pending::rehome`].
fn rehome_stored(
    session: &mut WriteSession<'_, '_>,
    seq: i64,
    from: ContactId,
    to: ContactId,
) -> Result<(), StoreError> {
    session.batch_execute(&format!(
        "UPDATE events SET contact_id = {to} WHERE seq = {seq} AND contact_id = {from};
         UPDATE contact_traits SET contact = {to} WHERE seq = {seq} AND contact = {from};"
    ))
}
