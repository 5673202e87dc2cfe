//! Finding the subject a path names: a contact by any of its identifiers,
//! and the `{kind}` segment (`contacts` or `accounts`) of the routes that
//! serve both kinds.

use bellwether_core::store::{ContactRecord, IdKind};
use bellwether_core::Store;
use bellwether_rules::SubjectKind;

use crate::error::ApiError;

/// The contact a path names: by user id, else anonymous id, else email.
pub(crate) fn find_contact(store: &dyn Store, id: &str) -> Result<ContactRecord, ApiError> {
    for kind in [IdKind::User, IdKind::Anonymous, IdKind::Email] {
        if let Some(record) = store.contact_by_identity(kind, id)? {
            return Ok(record);
        }
    }
    Err(ApiError::NotFound(format!("no contact with id {id:?}")))
}

/// The subject kind of a `{kind}` path segment: `contacts` or `accounts`.
pub(crate) fn collection_kind(collection: &str) -> Result<SubjectKind, ApiError> {
    match collection {
        "contacts" => Ok(SubjectKind::Contact),
        "accounts" => Ok(SubjectKind::Account),
        other => Err(ApiError::NotFound(format!("no such collection {other:?}"))),
    }
}
