//! The commit message of a version (docs/architecture.md#commits-and-trailers): a subject that says what changed, an
//! optional provisions line, and git trailers that carry the provenance.
//!
//! Writing and reading live together so the two can never disagree. Both escape
//! control characters (see [`crate::printable`]): a message never carries a terminal
//! escape into history, and one already in history (an old or foreign commit) is read
//! back escaped, so every command that shows history shows it harmlessly.

use std::fmt::{self, Write as _};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

use crate::printable::{Printable, escape};
use crate::provision::Stance;

/// What kind of change a version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The first recorded version of a document.
    First,
    /// The wording changed.
    Substantive,
    /// Only whitespace, punctuation, letter case, quote or dash style, or numbering.
    Cosmetic,
    /// Rebuilt from the stored snapshot by a newer canonicalizer.
    Reextract,
    /// The text is exactly that of an earlier version (not the one it replaces): the
    /// document went back, and `Reverts-To:` names the version it went back to.
    Revert,
}

impl ChangeKind {
    /// Every kind, for what must name them all (the export's column descriptions).
    pub const ALL: [ChangeKind; 5] = [
        ChangeKind::First,
        ChangeKind::Substantive,
        ChangeKind::Cosmetic,
        ChangeKind::Reextract,
        ChangeKind::Revert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::First => "first",
            ChangeKind::Substantive => "substantive",
            ChangeKind::Cosmetic => "cosmetic",
            ChangeKind::Reextract => "reextract",
            ChangeKind::Revert => "revert",
        }
    }

    /// Whether reports and feeds show this kind: substantive changes, first records and
    /// reverts (whose subject says which version the document went back to: a clause
    /// removed and restored is news, and a report that showed only the removal would
    /// mislead). Cosmetic changes and re-extractions are not changes a reader needs to see.
    pub fn is_reported(self) -> bool {
        matches!(self, ChangeKind::Substantive | ChangeKind::First | ChangeKind::Revert)
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        Some(match s.trim() {
            "first" => ChangeKind::First,
            "substantive" => ChangeKind::Substantive,
            "cosmetic" => ChangeKind::Cosmetic,
            "reextract" => ChangeKind::Reextract,
            "revert" => ChangeKind::Revert,
            _ => return None,
        })
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a version's commit message says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionMessage {
    /// `TikTok Privacy Policy: 3 sentences added, 1 removed, 2 changed`.
    pub subject: String,
    pub service: String,
    pub document: String,
    /// The URL of each part, in order (one for most documents).
    pub source_urls: Vec<String>,
    pub fetched_at: DateTime<Utc>,
    pub snapshot_sha256: String,
    /// `http` or `browser`.
    pub fetcher: String,
    pub change: ChangeKind,
    /// For a revert, the commit of the earlier version whose text this is again (the
    /// `Reverts-To:` trailer).
    pub reverts_to: Option<String>,
    /// Provision ids the change touched, sorted.
    pub provisions: Vec<String>,
    /// What the change did to each provision the document states (the
    /// `Provisions-Changed:` trailer): added, removed or reworded, with the stances
    /// before and after. Empty for first records and changes no provision sees.
    pub provisions_changed: Vec<ProvisionShift>,
    /// The text's language (ISO 639-1) when the provision tagger does not read it, so
    /// that "no provisions" is never mistaken for "states none" (`Untagged-Language:`).
    pub untagged_language: Option<String>,
    /// The date the document gives itself ("Last updated: ..."), when it gives one.
    pub declared_date: Option<NaiveDate>,
    pub canonicalizer: u32,
    pub clausewatch_version: String,
    /// Where the version came from when it was not fetched live by `track`: `wayback`,
    /// `ota-versions` or `ota-snapshots` (the `Source:` trailer; absent means `track`).
    pub source: Option<String>,
    /// Provenance trailers particular to a source, in order: `Capture-URL`,
    /// `Capture-Digest` (Wayback Machine), `OTA-Repository`, `OTA-Commit` (Open Terms
    /// Archive). Parsing keeps every trailer it does not know here, so nothing a newer
    /// clausewatch wrote is lost when an older one rebuilds the version.
    pub extra: Vec<(String, String)>,
}

/// The trailers [`VersionMessage`] has fields for; any other goes to `extra`.
const KNOWN_TRAILERS: &[&str] = &[
    "Service",
    "Document",
    "Source-URL",
    "Fetched-At",
    "Snapshot-SHA256",
    "Fetcher",
    "Source",
    "Change",
    "Reverts-To",
    "Provisions",
    "Provisions-Changed",
    "Untagged-Language",
    "Declared-Date",
    "Canonicalizer",
    "Clausewatch-Version",
];

impl VersionMessage {
    /// The value of a source-specific trailer (`Capture-URL`, `OTA-Commit`, ...).
    pub fn extra(&self, key: &str) -> Option<&str> {
        self.extra.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// `track` unless the `Source:` trailer says otherwise.
    pub fn source_name(&self) -> &str {
        self.source.as_deref().unwrap_or("track")
    }

    /// The full commit message, trailers last so `git interpret-trailers` reads them.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = write!(out, "{}", Printable(self.subject.trim()));
        out.push_str("\n\n");
        if !self.provisions.is_empty() {
            let _ = writeln!(out, "Provisions touched: {}\n", Printable(&self.provisions.join(", ")));
        }
        if let Some(language) = &self.untagged_language {
            let _ = writeln!(
                out,
                "Provisions not tagged: the text is in a language the tagger does not read ({}).\n",
                Printable(language)
            );
        }
        if !self.provisions_changed.is_empty() {
            out.push_str("Provisions changed:\n");
            for shift in &self.provisions_changed {
                let _ = writeln!(out, "- {}", Printable(&shift.to_string()));
            }
            out.push('\n');
        }
        let _ = writeln!(out, "Service: {}", Printable(&self.service));
        let _ = writeln!(out, "Document: {}", Printable(&self.document));
        for url in &self.source_urls {
            let _ = writeln!(out, "Source-URL: {}", Printable(url));
        }
        let _ = writeln!(
            out,
            "Fetched-At: {}",
            self.fetched_at.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
        let _ = writeln!(out, "Snapshot-SHA256: {}", self.snapshot_sha256);
        let _ = writeln!(out, "Fetcher: {}", Printable(&self.fetcher));
        if let Some(source) = &self.source {
            let _ = writeln!(out, "Source: {}", Printable(source));
        }
        for (key, value) in &self.extra {
            // A trailer value is one line.
            let value = value.replace(['\n', '\r'], " ");
            let _ = writeln!(out, "{}: {}", Printable(key), Printable(value.trim()));
        }
        let _ = writeln!(out, "Change: {}", self.change);
        if let Some(commit) = &self.reverts_to {
            let _ = writeln!(out, "Reverts-To: {commit}");
        }
        if !self.provisions.is_empty() {
            let _ = writeln!(out, "Provisions: {}", self.provisions.join(", "));
        }
        if !self.provisions_changed.is_empty() {
            let entries: Vec<String> = self
                .provisions_changed
                .iter()
                .map(ProvisionShift::trailer_entry)
                .collect();
            let _ = writeln!(out, "Provisions-Changed: {}", Printable(&entries.join("; ")));
        }
        if let Some(language) = &self.untagged_language {
            let _ = writeln!(out, "Untagged-Language: {}", Printable(language));
        }
        if let Some(date) = self.declared_date {
            let _ = writeln!(out, "Declared-Date: {date}");
        }
        let _ = writeln!(out, "Canonicalizer: {}", self.canonicalizer);
        let _ = writeln!(out, "Clausewatch-Version: {}", self.clausewatch_version);
        out
    }

    /// Reads a message written by [`render`](Self::render). `None` for commits that
    /// are not versions (the archive's own setup commits, a user's commits).
    pub fn parse(message: &str) -> Option<VersionMessage> {
        let subject = escape(message.lines().next()?.trim()).into_owned();
        let trailers = trailers(message);
        let get = |key: &str| trailers.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let list = |key: &str| -> Vec<String> {
            get(key)
                .map(|v| {
                    v.split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(VersionMessage {
            subject,
            service: get("Service")?,
            document: get("Document")?,
            source_urls: trailers
                .iter()
                .filter(|(k, _)| k == "Source-URL")
                .map(|(_, v)| v.clone())
                .collect(),
            fetched_at: DateTime::parse_from_rfc3339(&get("Fetched-At")?)
                .ok()?
                .with_timezone(&Utc),
            snapshot_sha256: get("Snapshot-SHA256").unwrap_or_default(),
            fetcher: get("Fetcher").unwrap_or_default(),
            change: ChangeKind::parse(&get("Change")?)?,
            reverts_to: get("Reverts-To"),
            provisions: list("Provisions"),
            provisions_changed: get("Provisions-Changed")
                .map(|v| v.split(';').filter_map(ProvisionShift::parse_entry).collect())
                .unwrap_or_default(),
            untagged_language: get("Untagged-Language"),
            declared_date: get("Declared-Date").and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
            canonicalizer: get("Canonicalizer").and_then(|v| v.parse().ok()).unwrap_or(0),
            clausewatch_version: get("Clausewatch-Version").unwrap_or_default(),
            source: get("Source"),
            extra: trailers
                .iter()
                .filter(|(k, _)| !KNOWN_TRAILERS.contains(&k.as_str()))
                .cloned()
                .collect(),
        })
    }
}

/// What one change did to a provision of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShiftKind {
    /// The document did not state the provision before, and does now.
    Added,
    /// The document stated it before, and no longer does.
    Removed,
    /// The document states it before and after, in other sentences.
    Reworded,
}

impl ShiftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ShiftKind::Added => "added",
            ShiftKind::Removed => "removed",
            ShiftKind::Reworded => "reworded",
        }
    }

    fn parse(s: &str) -> Option<ShiftKind> {
        Some(match s {
            "added" => ShiftKind::Added,
            "removed" => ShiftKind::Removed,
            "reworded" => ShiftKind::Reworded,
            _ => return None,
        })
    }
}

/// How a change moved one provision: an entry of the `Provisions-Changed:` trailer.
/// The stances are those of all the document's sentences stating the provision, before
/// and after the change (sorted, each once); whether its stance *flipped* is judged from
/// them ([`flipped`](Self::flipped)), so every commit, old or new, reads the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionShift {
    pub provision: String,
    pub kind: ShiftKind,
    pub before: Vec<Stance>,
    pub after: Vec<Stance>,
}

impl ProvisionShift {
    /// A reworded provision whose set of stances is not what it was: "grants → grants,
    /// conditional" (a sentence of another stance added beside the old ones) as much as
    /// "restricts → grants".
    pub fn stances_changed(&self) -> bool {
        self.kind == ShiftKind::Reworded && self.before != self.after
    }

    /// Whether the document's position reversed: reworded, stating a position (a stance
    /// other than `neutral`) both before and after, and none of the positions it stated
    /// before is still stated after ("restricts → grants", "conditional → grants").
    ///
    /// The trailer records the sets of stances, not how many sentences take each, so
    /// "the dominant stance changed" cannot be read back from it; what it does say is
    /// whether any position survived. A stance that did survive means the change added
    /// or removed a sentence next to a clause still there ("grants → grants, restricts":
    /// a carve-out beside an unchanged grant), which is no reversal. Neutral sentences
    /// (pointers, definitions) state no position, so they neither make nor prevent a
    /// flip, and a provision that was only mentioned before has no position to reverse.
    pub fn flipped(&self) -> bool {
        let positions =
            |stances: &[Stance]| -> Vec<Stance> { stances.iter().copied().filter(|s| *s != Stance::Neutral).collect() };
        let (before, after) = (positions(&self.before), positions(&self.after));
        self.kind == ShiftKind::Reworded
            && !before.is_empty()
            && !after.is_empty()
            && !before.iter().any(|s| after.contains(s))
    }

    /// `ai-training reworded restricts->grants`, `sale-of-data added grants`,
    /// `user-rights removed grants+restricts`: one line, no `;` (the separator).
    fn trailer_entry(&self) -> String {
        let stances = |s: &[Stance]| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("+");
        match self.kind {
            ShiftKind::Added => format!("{} added {}", self.provision, stances(&self.after)),
            ShiftKind::Removed => format!("{} removed {}", self.provision, stances(&self.before)),
            ShiftKind::Reworded => format!(
                "{} reworded {}->{}",
                self.provision,
                stances(&self.before),
                stances(&self.after)
            ),
        }
    }

    /// Reads an entry written by [`trailer_entry`](Self::trailer_entry); `None` for one
    /// this version cannot read (a hand-edited or foreign entry is skipped, not fatal).
    fn parse_entry(entry: &str) -> Option<ProvisionShift> {
        let mut parts = entry.split_whitespace();
        let provision = parts.next()?.to_string();
        let kind = ShiftKind::parse(parts.next()?)?;
        let value = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        let stances = |s: &str| -> Option<Vec<Stance>> { s.split('+').map(Stance::parse).collect() };
        let (before, after) = match kind {
            ShiftKind::Added => (Vec::new(), stances(value)?),
            ShiftKind::Removed => (stances(value)?, Vec::new()),
            ShiftKind::Reworded => {
                let (before, after) = value.split_once("->")?;
                (stances(before)?, stances(after)?)
            }
        };
        Some(ProvisionShift {
            provision,
            kind,
            before,
            after,
        })
    }
}

/// `ai-training: reworded, restricts → grants`; `sale-of-data: added (grants)`.
impl fmt::Display for ProvisionShift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stances = |s: &[Stance]| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        match self.kind {
            ShiftKind::Added => write!(f, "{}: added ({})", self.provision, stances(&self.after)),
            ShiftKind::Removed => write!(f, "{}: removed (was {})", self.provision, stances(&self.before)),
            ShiftKind::Reworded if self.stances_changed() => write!(
                f,
                "{}: reworded, {} → {}",
                self.provision,
                stances(&self.before),
                stances(&self.after)
            ),
            ShiftKind::Reworded => write!(f, "{}: reworded ({})", self.provision, stances(&self.after)),
        }
    }
}

/// The `Key: value` lines of the message's last paragraph.
fn trailers(message: &str) -> Vec<(String, String)> {
    let last_paragraph = message.trim_end().rsplit("\n\n").next().unwrap_or_default();
    last_paragraph
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(": ")?;
            let is_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            is_key.then(|| (key.to_string(), escape(value.trim()).into_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> VersionMessage {
        VersionMessage {
            subject: "TikTok Privacy Policy: 3 sentences added, 1 removed, 2 changed".into(),
            service: "tiktok".into(),
            document: "privacy-policy".into(),
            source_urls: vec!["https://www.tiktok.com/legal/page/us/privacy-policy/en".into()],
            fetched_at: DateTime::parse_from_rfc3339("2026-11-29T06:00:12Z")
                .unwrap()
                .with_timezone(&Utc),
            snapshot_sha256: "9f2c".into(),
            fetcher: "http".into(),
            change: ChangeKind::Substantive,
            reverts_to: None,
            provisions: vec!["ai-training".into(), "data-sharing".into()],
            untagged_language: None,
            provisions_changed: vec![
                ProvisionShift {
                    provision: "ai-training".into(),
                    kind: ShiftKind::Reworded,
                    before: vec![Stance::Restricts],
                    after: vec![Stance::Grants, Stance::Conditional],
                },
                ProvisionShift {
                    provision: "data-sharing".into(),
                    kind: ShiftKind::Added,
                    before: vec![],
                    after: vec![Stance::Neutral],
                },
            ],
            declared_date: None,
            canonicalizer: 1,
            clausewatch_version: "0.1.0".into(),
            source: None,
            extra: vec![],
        }
    }

    fn reworded(before: &[Stance], after: &[Stance]) -> ProvisionShift {
        ProvisionShift {
            provision: "ai-training".into(),
            kind: ShiftKind::Reworded,
            before: before.to_vec(),
            after: after.to_vec(),
        }
    }

    #[test]
    fn a_flip_is_a_reversed_position_not_any_new_stance() {
        use Stance::{Conditional, Grants, Neutral, Restricts};
        // Reversals: no position stated before is stated after.
        for (before, after) in [
            (&[Restricts][..], &[Grants][..]),
            (&[Grants], &[Restricts, Neutral]),
            (&[Conditional, Neutral], &[Grants]),
            (&[Grants, Conditional], &[Restricts]),
        ] {
            assert!(reworded(before, after).flipped(), "{before:?} -> {after:?}");
        }
        // A sentence of another stance added or removed beside a position that stays
        // (the real histories' "grants → grants, conditional"), or only neutral ones.
        for (before, after) in [
            (&[Grants][..], &[Grants, Conditional][..]),
            (&[Grants, Conditional], &[Grants, Conditional, Neutral]),
            (&[Restricts], &[Grants, Restricts]),
            (&[Grants, Restricts], &[Restricts]),
            (&[Neutral], &[Grants]),
            (&[Grants], &[Neutral]),
            (&[Grants], &[Grants]),
        ] {
            assert!(!reworded(before, after).flipped(), "{before:?} -> {after:?}");
        }
        let added = ProvisionShift {
            kind: ShiftKind::Added,
            ..reworded(&[], &[Grants])
        };
        assert!(!added.flipped(), "a provision new to the document reversed nothing");
        // The sets still show when they changed, flip or not.
        assert_eq!(
            reworded(&[Grants], &[Grants, Conditional]).to_string(),
            "ai-training: reworded, grants → grants, conditional"
        );
        assert_eq!(
            reworded(&[Grants], &[Grants]).to_string(),
            "ai-training: reworded (grants)"
        );
    }

    #[test]
    fn an_old_trailer_reads_with_the_same_judgement() {
        // Written before the rule changed; the trailer itself is the same format.
        let message = sample()
            .render()
            .replace("restricts->grants+conditional", "grants->grants+restricts");
        let parsed = VersionMessage::parse(&message).unwrap();
        assert_eq!(parsed.provisions_changed[0].before, vec![Stance::Grants]);
        assert!(!parsed.provisions_changed[0].flipped());
        assert!(VersionMessage::parse(&sample().render()).unwrap().provisions_changed[0].flipped());
    }

    #[test]
    fn renders_the_design_format() {
        assert_eq!(
            sample().render(),
            "TikTok Privacy Policy: 3 sentences added, 1 removed, 2 changed\n\
             \n\
             Provisions touched: ai-training, data-sharing\n\
             \n\
             Provisions changed:\n\
             - ai-training: reworded, restricts → grants, conditional\n\
             - data-sharing: added (neutral)\n\
             \n\
             Service: tiktok\n\
             Document: privacy-policy\n\
             Source-URL: https://www.tiktok.com/legal/page/us/privacy-policy/en\n\
             Fetched-At: 2026-11-29T06:00:12Z\n\
             Snapshot-SHA256: 9f2c\n\
             Fetcher: http\n\
             Change: substantive\n\
             Provisions: ai-training, data-sharing\n\
             Provisions-Changed: ai-training reworded restricts->grants+conditional; data-sharing added neutral\n\
             Canonicalizer: 1\n\
             Clausewatch-Version: 0.1.0\n"
        );
    }

    #[test]
    fn control_characters_never_enter_a_message_nor_leave_one_raw() {
        let hostile = VersionMessage {
            subject: "Evil \u{1b}[31mCorp\u{1b}[0m Terms: first record".into(),
            extra: vec![("ETag".into(), "\"a\u{7}\"".into())],
            ..sample()
        };
        let rendered = hostile.render();
        assert!(
            !rendered.contains('\u{1b}') && !rendered.contains('\u{7}'),
            "{rendered:?}"
        );
        assert!(rendered.starts_with("Evil \\u{1b}[31mCorp\\u{1b}[0m Terms: first record\n\n"));
        // A commit written by something else, with the escape in it, reads back escaped.
        let foreign = sample().render().replacen("TikTok", "\u{1b}[2JTikTok", 1);
        let parsed = VersionMessage::parse(&foreign).unwrap();
        assert_eq!(
            parsed.subject,
            "\\u{1b}[2JTikTok Privacy Policy: 3 sentences added, 1 removed, 2 changed"
        );
        assert_eq!(
            VersionMessage::parse(&rendered).unwrap().extra("ETag"),
            Some("\"a\\u{7}\"")
        );
    }

    #[test]
    fn parse_reads_back_what_render_wrote() {
        let message = sample();
        assert_eq!(VersionMessage::parse(&message.render()), Some(message.clone()));
        let plain = VersionMessage {
            provisions: vec![],
            declared_date: NaiveDate::from_ymd_opt(2026, 1, 31),
            ..message
        };
        assert!(
            plain
                .render()
                .contains("\nDeclared-Date: 2026-01-31\nCanonicalizer: 1\n")
        );
        assert_eq!(VersionMessage::parse(&plain.render()), Some(plain.clone()));
        assert_eq!(VersionMessage::parse("Initial commit\n"), None);

        let captured = VersionMessage {
            source: Some("wayback".into()),
            extra: vec![
                (
                    "Capture-URL".into(),
                    "https://web.archive.org/web/20220101000000id_/https://a/".into(),
                ),
                ("Capture-Digest".into(), "ABCDEF".into()),
            ],
            ..plain
        };
        let rendered = captured.render();
        assert!(
            rendered.contains(
                "\nFetcher: http\nSource: wayback\nCapture-URL: https://web.archive.org/web/20220101000000id_/https://a/\nCapture-Digest: ABCDEF\nChange: substantive\n"
            ),
            "{rendered}"
        );
        let parsed = VersionMessage::parse(&rendered).unwrap();
        assert_eq!(parsed.extra("Capture-Digest"), Some("ABCDEF"));
        assert_eq!(parsed.source_name(), "wayback");
        assert_eq!(parsed, captured);

        let revert = VersionMessage {
            change: ChangeKind::Revert,
            reverts_to: Some("5bd2b7dcd3a9aaaaaaaaaaaaaaaaaaaaaaaaaaaa".into()),
            ..captured
        };
        let rendered = revert.render();
        assert!(
            rendered.contains("\nChange: revert\nReverts-To: 5bd2b7dcd3a9aaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"),
            "{rendered}"
        );
        assert_eq!(VersionMessage::parse(&rendered), Some(revert));
    }
}
