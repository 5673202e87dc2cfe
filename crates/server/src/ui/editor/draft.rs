//! The editor's form and the definitions it stands for: the definitions in
//! force with the edited segment replaced (in place) or added.

use bellwether_rules::{Definitions, SegmentDef, SubjectKind};
use serde::Deserialize;

/// The editor form, as posted.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct EditorForm {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) subject: String,
    #[serde(default)]
    pub(crate) when: String,
    #[serde(default)]
    pub(crate) owner: String,
    #[serde(default)]
    pub(crate) action: String,
    #[serde(default)]
    pub(crate) description: String,
    /// The saved segment being edited; empty for a new one.
    #[serde(default)]
    pub(crate) original: String,
    /// An admin token typed into the form (when not signed in as admin).
    #[serde(default)]
    pub(crate) token: String,
    /// `preview` or `save` (the button pressed).
    #[serde(default)]
    pub(crate) intent: String,
}

/// Why a form does not describe a segment (before the checker runs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DraftError {
    #[error("give the segment a name")]
    MissingName,
    #[error("names use letters, digits and underscores, not starting with a digit, at most 64 characters")]
    BadName,
    #[error("subject must be contact or account")]
    BadSubject,
    #[error("write the condition members must meet")]
    MissingCondition,
    #[error("a segment named {0:?} already exists: open it from its page to edit it")]
    Exists(String),
}

impl EditorForm {
    /// The form for editing a saved segment.
    pub(crate) fn from_segment(segment: &SegmentDef) -> Self {
        Self {
            name: segment.name.clone(),
            subject: segment.subject.as_str().to_owned(),
            when: segment.when.trim().to_owned(),
            owner: segment.owner.clone().unwrap_or_default(),
            action: segment.action.clone().unwrap_or_default(),
            description: segment.description.clone().unwrap_or_default(),
            original: segment.name.clone(),
            ..Self::default()
        }
    }

    pub(crate) fn subject_kind(&self) -> Result<SubjectKind, DraftError> {
        match self.subject.as_str() {
            "" | "contact" => Ok(SubjectKind::Contact),
            "account" => Ok(SubjectKind::Account),
            _ => Err(DraftError::BadSubject),
        }
    }

    /// The name, by the rule every definition name follows
    /// ([`bellwether_rules::check_name`], the same as the API's).
    fn name(&self) -> Result<&str, DraftError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(DraftError::MissingName);
        }
        bellwether_rules::check_name(name).map_err(|_| DraftError::BadName)?;
        Ok(name)
    }

    /// `current` with this segment put in: replacing the one being edited
    /// (in place, keeping fields the form does not show), or appended.
    pub(crate) fn apply_to(&self, current: &Definitions) -> Result<Definitions, DraftError> {
        let name = self.name()?;
        let subject = self.subject_kind()?;
        if self.when.trim().is_empty() {
            return Err(DraftError::MissingCondition);
        }
        let original = self.original.trim();
        let clash = current
            .segment
            .iter()
            .any(|s| s.name == name && s.name != original);
        if clash {
            return Err(DraftError::Exists(name.to_owned()));
        }
        let optional = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let mut draft = current.clone();
        let position = draft.segment.iter().position(|s| s.name == original);
        let mut segment = position
            .map(|i| draft.segment[i].clone())
            .unwrap_or_default();
        segment.name = name.to_owned();
        segment.subject = subject;
        segment.when = self.when.trim().to_owned();
        segment.owner = optional(&self.owner);
        segment.action = optional(&self.action);
        segment.description = optional(&self.description);
        match position {
            Some(i) => draft.segment[i] = segment,
            None => draft.segment.push(segment),
        }
        Ok(draft)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> Definitions {
        Definitions {
            segment: vec![
                SegmentDef {
                    name: "hot".into(),
                    when: "true".into(),
                    holdout: Some(0.1),
                    ..SegmentDef::default()
                },
                SegmentDef {
                    name: "cold".into(),
                    when: "false".into(),
                    ..SegmentDef::default()
                },
            ],
            ..Definitions::default()
        }
    }

    fn form(name: &str, original: &str) -> EditorForm {
        EditorForm {
            name: name.into(),
            when: " exists(\"Demo Requested\") ".into(),
            owner: " sdr ".into(),
            original: original.into(),
            ..EditorForm::default()
        }
    }

    #[test]
    fn a_new_segment_is_appended() {
        let draft = form("demo", "").apply_to(&current()).expect("valid");
        let names: Vec<&str> = draft.segment.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["hot", "cold", "demo"]);
        let demo = &draft.segment[2];
        assert_eq!(demo.when, "exists(\"Demo Requested\")");
        assert_eq!(demo.owner.as_deref(), Some("sdr"));
        assert_eq!(demo.action, None, "empty fields are left out");
    }

    #[test]
    fn an_edit_replaces_in_place_and_keeps_hidden_fields() {
        let draft = form("hot2", "hot").apply_to(&current()).expect("valid");
        let names: Vec<&str> = draft.segment.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["hot2", "cold"]);
        assert_eq!(draft.segment[0].holdout, Some(0.1));
    }

    #[test]
    fn bad_forms_say_what_to_fix() {
        assert_eq!(
            form("", "").apply_to(&current()),
            Err(DraftError::MissingName)
        );
        assert_eq!(
            form("9lives", "").apply_to(&current()),
            Err(DraftError::BadName)
        );
        assert_eq!(
            form("cold", "").apply_to(&current()),
            Err(DraftError::Exists("cold".into()))
        );
        assert_eq!(
            form("cold", "hot").apply_to(&current()),
            Err(DraftError::Exists("cold".into()))
        );
        let empty = EditorForm {
            when: "  ".into(),
            ..form("x", "")
        };
        assert_eq!(
            empty.apply_to(&current()),
            Err(DraftError::MissingCondition)
        );
        let subject = EditorForm {
            subject: "robot".into(),
            ..form("x", "")
        };
        assert_eq!(subject.apply_to(&current()), Err(DraftError::BadSubject));
    }
}
