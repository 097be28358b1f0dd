//! Typed command-line values, parsed by clap so a malformed one is a usage error before
//! anything runs, and the documents they name, checked against the archive.
//!
//! - [`DocumentSpec`]: `SERVICE` or `SERVICE/TYPE`, slugs as in `services/*.toml`;
//! - [`When`]: a date, an RFC 3339 time, or a span ago (`7d`, `2w`, `12h`);
//! - [`Interval`]: a span (`7d`, `36h`, a number of hours) or `never`;
//! - [`KnownDocuments`]: what the archive declares and has recorded, so an unknown
//!   name is an error that lists the known ones (exit 2), never an empty answer.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use anyhow::anyhow;
use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{CliError, usage};
use crate::archive::Archive;
use crate::declaration::{self, is_slug};

/// `SERVICE` or `SERVICE/TYPE`: a service's documents, or one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSpec {
    pub service: String,
    pub doc_type: Option<String>,
}

impl DocumentSpec {
    /// Parses `SERVICE/TYPE` only: commands that read one document.
    pub fn parse_document(text: &str) -> Result<DocumentSpec, String> {
        let spec: DocumentSpec = text.parse()?;
        if spec.doc_type.is_none() {
            return Err(format!(
                "{text:?} names a service, not a document: write SERVICE/TYPE, e.g. tiktok/privacy-policy"
            ));
        }
        Ok(spec)
    }

    /// The document type of a spec parsed by [`DocumentSpec::parse_document`].
    pub fn doc_type(&self) -> &str {
        self.doc_type.as_deref().unwrap_or_default()
    }

    pub fn filter(&self) -> crate::archive::history::DocumentFilter {
        crate::archive::history::DocumentFilter {
            service: Some(self.service.clone()),
            doc_type: self.doc_type.clone(),
        }
    }
}

impl FromStr for DocumentSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<DocumentSpec, String> {
        let trimmed = text.trim().trim_end_matches('/');
        let (service, doc_type) = match trimmed.split_once('/') {
            Some((s, t)) => (s, Some(t)),
            None => (trimmed, None),
        };
        let valid = is_slug(service) && doc_type.is_none_or(is_slug);
        if !valid {
            return Err(format!(
                "{text:?} is not SERVICE or SERVICE/TYPE (slugs of lowercase letters, digits and \
                 hyphens), e.g. tiktok or tiktok/privacy-policy"
            ));
        }
        Ok(DocumentSpec {
            service: service.to_string(),
            doc_type: doc_type.map(str::to_string),
        })
    }
}

impl fmt::Display for DocumentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.doc_type {
            Some(t) => write!(f, "{}/{t}", self.service),
            None => f.write_str(&self.service),
        }
    }
}

/// For clap: `SERVICE/TYPE`, the type required.
pub fn document(text: &str) -> Result<DocumentSpec, String> {
    DocumentSpec::parse_document(text)
}

/// A point in time from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// An RFC 3339 time.
    Time(DateTime<Utc>),
    /// A day (UTC): its start, or with `end_of_day` the start of the next day.
    Day(NaiveDate),
    /// This long before the clock's now.
    Ago(Duration),
}

impl When {
    /// The moment meant. A bare date means its start (UTC) — or, with `end_of_day`, the
    /// start of the next day, so `--until 2026-03-02` includes that day.
    pub fn resolve(self, now: DateTime<Utc>, end_of_day: bool) -> DateTime<Utc> {
        match self {
            When::Time(t) => t,
            When::Day(day) => {
                let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
                match (end_of_day, day.succ_opt()) {
                    (false, _) => midnight(day),
                    (true, Some(next)) => midnight(next),
                    // The last day chrono can represent has no next: its end is the
                    // last moment there is.
                    (true, None) => DateTime::<Utc>::MAX_UTC,
                }
            }
            // A span longer than the calendar reaches back means before everything.
            When::Ago(span) => now.checked_sub_signed(span).unwrap_or(DateTime::<Utc>::MIN_UTC),
        }
    }
}

impl When {
    /// The last moment an `--at` includes: texts in force at it are the versions dated
    /// at or before it. A bare date means the end of that day (23:59:59 UTC); a time or
    /// a span ago, that moment (to the second: versions are dated to the second).
    pub fn last_instant(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            When::Day(day) => day.and_hms_opt(23, 59, 59).expect("a valid time").and_utc(),
            other => {
                let t = other.resolve(now, false);
                t - Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos()))
            }
        }
    }
}

/// The exclusive bound that keeps the versions dated at or before `last_instant` (one
/// of [`When::last_instant`]): what history filters take.
pub fn until_after(last_instant: DateTime<Utc>) -> DateTime<Utc> {
    // The last second chrono can represent has no second after it; the bound then is
    // the last moment there is, which still keeps versions dated to that second.
    last_instant
        .checked_add_signed(Duration::seconds(1))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl FromStr for When {
    type Err = String;

    fn from_str(text: &str) -> Result<When, String> {
        let text = text.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(When::Time(t.with_timezone(&Utc)));
        }
        if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(When::Day(day));
        }
        let (number, unit) = text.split_at(text.len().saturating_sub(1));
        if let Ok(n) = number.parse::<i64>()
            && n >= 0
        {
            let span = match unit {
                "d" => Duration::try_days(n),
                "w" => Duration::try_weeks(n),
                "h" => Duration::try_hours(n),
                _ => None,
            };
            if let Some(span) = span {
                return Ok(When::Ago(span));
            }
        }
        Err(format!(
            "{text:?} is not a date: use YYYY-MM-DD, an RFC 3339 time, or 7d / 2w / 12h ago"
        ))
    }
}

/// A span of time, or `never` (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval(pub Option<Duration>);

impl FromStr for Interval {
    type Err = String;

    fn from_str(text: &str) -> Result<Interval, String> {
        crate::status::parse_interval(text).map(Interval).map_err(|_| {
            format!("{text:?} is not an interval: give a span such as 7d, 36h, 2w or 90m, a number of hours, or never")
        })
    }
}

/// A Wayback Machine timestamp prefix: a year (2019) or longer (201903, 20190315).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampPrefix(pub String);

impl FromStr for TimestampPrefix {
    type Err = String;

    fn from_str(text: &str) -> Result<TimestampPrefix, String> {
        let text = text.trim();
        if (4..=14).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(TimestampPrefix(text.to_string()))
        } else {
            Err(format!(
                "{text:?} is not a year (2019) or a longer timestamp prefix (201903, 20190315)"
            ))
        }
    }
}

/// The documents an archive knows: declared in `services/`, and (for commands that read
/// history) recorded under `versions/` at HEAD.
#[derive(Debug, Default)]
pub struct KnownDocuments {
    services: BTreeMap<String, BTreeSet<String>>,
}

impl KnownDocuments {
    /// Declared documents. A declaration that does not load is left out here: the
    /// commands that need it valid say so themselves (`check` lists the problems).
    pub fn declared(archive: &Archive) -> KnownDocuments {
        let mut known = KnownDocuments::default();
        let Ok(entries) = std::fs::read_dir(archive.services_dir()) else {
            return known;
        };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            if let Ok(service) = declaration::load_file(&path) {
                let types = known.services.entry(service.slug.clone()).or_default();
                types.extend(service.documents.iter().map(|d| d.doc_type.clone()));
            }
        }
        known
    }

    /// Declared documents and those with a recorded version, from HEAD's tree (a
    /// document no longer declared keeps its history, and can still be read).
    pub fn with_history(archive: &Archive) -> Result<KnownDocuments, CliError> {
        let mut known = KnownDocuments::declared(archive);
        let Some(head) = archive.head_commit()? else {
            return Ok(known);
        };
        let tree = head.tree().map_err(crate::archive::ArchiveError::from)?;
        let versions = archive.repo_path("versions");
        let Ok(entry) = tree.get_path(Path::new(&versions)) else {
            return Ok(known);
        };
        let repo = archive.repo();
        let Some(folder) = entry.to_object(repo).ok().and_then(|o| o.into_tree().ok()) else {
            return Ok(known);
        };
        for service in folder.iter() {
            let Some(slug) = service.name().ok().filter(|n| is_slug(n)) else {
                continue;
            };
            let Some(documents) = service.to_object(repo).ok().and_then(|o| o.into_tree().ok()) else {
                continue;
            };
            for file in documents.iter() {
                if let Some(doc_type) = file
                    .name()
                    .ok()
                    .and_then(|n| n.strip_suffix(".md"))
                    .filter(|t| is_slug(t))
                {
                    known
                        .services
                        .entry(slug.to_string())
                        .or_default()
                        .insert(doc_type.to_string());
                }
            }
        }
        Ok(known)
    }

    /// Ok when the archive knows `spec`; otherwise a usage error that lists what it knows.
    pub fn check(&self, spec: &DocumentSpec) -> Result<(), CliError> {
        let Some(types) = self.services.get(&spec.service) else {
            let known = if self.services.is_empty() {
                "none; declare one in services/".to_string()
            } else {
                self.services.keys().cloned().collect::<Vec<_>>().join(", ")
            };
            return Err(usage(anyhow!(
                "no service {:?} is declared or recorded (known: {known})",
                spec.service
            )));
        };
        match &spec.doc_type {
            Some(t) if !types.contains(t) => Err(usage(anyhow!(
                "{} declares or records no document {t:?} (it has: {})",
                spec.service,
                types.iter().cloned().collect::<Vec<_>>().join(", ")
            ))),
            _ => Ok(()),
        }
    }

    pub fn check_all<'a>(&self, specs: impl IntoIterator<Item = &'a DocumentSpec>) -> Result<(), CliError> {
        specs.into_iter().try_for_each(|spec| self.check(spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_specs() {
        let spec: DocumentSpec = "tiktok/privacy-policy".parse().unwrap();
        assert_eq!(spec.service, "tiktok");
        assert_eq!(spec.doc_type.as_deref(), Some("privacy-policy"));
        assert_eq!(spec.to_string(), "tiktok/privacy-policy");
        let spec: DocumentSpec = "tiktok".parse().unwrap();
        assert_eq!(spec.doc_type, None);
        assert!("TikTok".parse::<DocumentSpec>().is_err());
        assert!("a/b/c".parse::<DocumentSpec>().is_err());
        assert!("../x".parse::<DocumentSpec>().is_err());
        assert!("/x".parse::<DocumentSpec>().is_err());
        assert!(DocumentSpec::parse_document("tiktok").is_err());
    }

    #[test]
    fn dates_and_spans() {
        let now = DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let day: When = "2026-03-01".parse().unwrap();
        assert_eq!(day.resolve(now, false).to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(day.resolve(now, true).to_rfc3339(), "2026-03-02T00:00:00+00:00");
        assert_eq!(day.last_instant(now).to_rfc3339(), "2026-03-01T23:59:59+00:00");
        assert_eq!(until_after(day.last_instant(now)), day.resolve(now, true));
        let time: When = "2026-03-01T12:00:00.5Z".parse().unwrap();
        assert_eq!(time.last_instant(now).to_rfc3339(), "2026-03-01T12:00:00+00:00");
        let ago: When = "2w".parse().unwrap();
        assert_eq!(ago.resolve(now, true).to_rfc3339(), "2026-02-16T00:00:00+00:00");
        assert!("yesterday".parse::<When>().is_err());
        // The calendar's ends saturate rather than overflow.
        let last_day: When = "+262142-12-31".parse().unwrap();
        assert_eq!(last_day.resolve(now, true), DateTime::<Utc>::MAX_UTC);
        assert_eq!(until_after(last_day.last_instant(now)), DateTime::<Utc>::MAX_UTC);
        assert!(until_after(last_day.last_instant(now)) > last_day.last_instant(now));
        let too_long_ago: When = "100000000d".parse().unwrap();
        assert_eq!(too_long_ago.resolve(now, false), DateTime::<Utc>::MIN_UTC);
        assert_eq!(too_long_ago.last_instant(now), DateTime::<Utc>::MIN_UTC);
        assert!("-3d".parse::<When>().is_err());
        assert_eq!("never".parse::<Interval>().unwrap(), Interval(None));
        assert_eq!("36h".parse::<Interval>().unwrap(), Interval(Some(Duration::hours(36))));
        assert!("soon".parse::<Interval>().is_err());
        assert!("2019".parse::<TimestampPrefix>().is_ok());
        assert!("19".parse::<TimestampPrefix>().is_err());
    }
}
