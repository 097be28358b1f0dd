//! What a change did to the provisions a document states: which appeared, which went,
//! which were reworded, and which flipped stance ("ai-training: restricts → grants"),
//! with the sentences. One computation serves the commit's `Provisions-Changed:`
//! trailer, reports, feeds, alerts and the site, so they all say the same.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::provisions::tag_text;
use super::since;
use crate::archive::{ProvisionShift, ShiftKind};
use crate::provision::{Stance, Taxonomy};

/// A sentence stating a provision, with its stance on it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StancedSentence {
    pub text: String,
    pub stance: Stance,
}

/// One provision's change, with the sentences that made it: those of the old text no
/// longer in the new one, and those new to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionChange {
    #[serde(flatten)]
    pub shift: ProvisionShift,
    pub removed: Vec<StancedSentence>,
    pub added: Vec<StancedSentence>,
}

/// The sentences of a text stating each provision, keyed by [`since::key`] so that a
/// cosmetic edit, a move or a second copy of a sentence is not a rewording.
type Stated = BTreeMap<String, BTreeMap<String, StancedSentence>>;

fn stated(text: &str, taxonomy: &Taxonomy) -> Stated {
    let mut out = Stated::new();
    for tagged in tag_text(text, taxonomy) {
        out.entry(tagged.tag.provision).or_default().insert(
            since::key(&tagged.text),
            StancedSentence {
                text: tagged.text,
                stance: tagged.tag.stance,
            },
        );
    }
    out
}

/// What going from `old` to `new` did to each provision, in provision-id order.
/// Provisions whose sentences are the same (up to cosmetic edits and moves) are left out.
pub fn provision_changes(old: &str, new: &str, taxonomy: &Taxonomy) -> Vec<ProvisionChange> {
    let (before, after) = (stated(old, taxonomy), stated(new, taxonomy));
    let empty = BTreeMap::new();
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut changes = Vec::new();
    for id in ids {
        let old = before.get(id).unwrap_or(&empty);
        let new = after.get(id).unwrap_or(&empty);
        if old.keys().eq(new.keys()) {
            continue;
        }
        let stances = |sentences: &BTreeMap<String, StancedSentence>| {
            sentences
                .values()
                .map(|s| s.stance)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        };
        let kind = match (old.is_empty(), new.is_empty()) {
            (true, _) => ShiftKind::Added,
            (_, true) => ShiftKind::Removed,
            _ => ShiftKind::Reworded,
        };
        changes.push(ProvisionChange {
            shift: ProvisionShift {
                provision: id.clone(),
                kind,
                before: stances(old),
                after: stances(new),
            },
            removed: since::only_in(old, new),
            added: since::only_in(new, old),
        });
    }
    changes
}

/// The trailer's entries of [`provision_changes`].
pub fn shifts(changes: &[ProvisionChange]) -> Vec<ProvisionShift> {
    changes.iter().map(|c| c.shift.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taxonomy() -> Taxonomy {
        Taxonomy::parse(
            r#"
[[provision]]
id = "ai-training"
title = "AI training"
description = "d"
all = [["train"], ["models"], ["content"]]
window = 12

[[provision]]
id = "sale-of-data"
title = "Sale"
description = "d"
all = [["sell"], ["data"]]
window = 8
"#,
            "test.toml",
        )
        .expect("taxonomy")
    }

    #[test]
    fn a_denial_turned_permission_is_a_reworded_provision_that_flipped_stance() {
        let old = "We do not train our models on your content.\nWe never sell your data.\n";
        let new = "We may train our models on your content.\nWe never sell your data.\n";
        let changes = provision_changes(old, new, &taxonomy());
        assert_eq!(changes.len(), 1, "{changes:#?}");
        let change = &changes[0];
        assert_eq!(change.shift.provision, "ai-training");
        assert_eq!(change.shift.kind, ShiftKind::Reworded);
        assert_eq!(change.shift.before, vec![Stance::Restricts]);
        assert_eq!(change.shift.after, vec![Stance::Grants]);
        assert!(change.shift.flipped());
        assert_eq!(change.shift.to_string(), "ai-training: reworded, restricts → grants");
        assert_eq!(change.removed[0].text, "We do not train our models on your content.");
        assert_eq!(change.added[0].text, "We may train our models on your content.");
    }

    #[test]
    fn provisions_appear_and_vanish_and_cosmetic_edits_and_moves_are_no_change() {
        let old = "Intro.\nWe never sell your data.\nWe train our models on your content.\n";
        let new = "We train our models on your content!\nIntro.\n";
        let changes = provision_changes(old, new, &taxonomy());
        assert_eq!(changes.len(), 1, "{changes:#?}");
        assert_eq!(changes[0].shift.provision, "sale-of-data");
        assert_eq!(changes[0].shift.kind, ShiftKind::Removed);
        assert_eq!(changes[0].shift.to_string(), "sale-of-data: removed (was restricts)");

        let changes = provision_changes("Intro.\n", "Intro.\nWe may sell your data.\n", &taxonomy());
        assert_eq!(changes[0].shift.kind, ShiftKind::Added);
        assert_eq!(changes[0].shift.after, vec![Stance::Grants]);
        assert!(changes[0].removed.is_empty());
    }
}
