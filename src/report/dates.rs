//! The date a document declares for itself: "Last updated: March 2, 2026", "Effective
//! date: 2026-03-02", "Dernière mise à jour : 2 mars 2026", "Stand: 02.03.2026",
//! "Ultimo aggiornamento: 5 maggio 2025", "3 de marzo de 2025".
//!
//! The cases it must read (and the lines it must not take for a date) are in
//! `tests/data/declared-dates.tsv`, one block per language: add a line there first.

use chrono::NaiveDate;

/// Phrases that introduce a document's own date, lower-cased.
const LEADS: &[&str] = &[
    "last updated",
    "last update",
    "last modified",
    "last revised",
    "effective date",
    "effective:",
    "effective as of",
    "effective from",
    "effective on",
    "date of last revision",
    "updated on",
    "updated:",
    "version date",
    "dernière mise à jour",
    "dernière modification",
    "mis à jour le",
    "date d'entrée en vigueur",
    "en vigueur le",
    "en vigueur à compter du",
    "zuletzt aktualisiert",
    "letzte aktualisierung",
    "stand:",
    "gültig ab",
    "zuletzt geändert",
    "datum des inkrafttretens",
    "última actualización",
    "última modificación",
    "fecha de entrada en vigor",
    "actualizado el",
    "vigente desde",
    "ultima modifica",
    "ultimo aggiornamento",
    "data di entrata in vigore",
    "aggiornato il",
    "in vigore dal",
    "última atualização",
    "data de vigência",
    "atualizado em",
    "em vigor a partir de",
    "laatst bijgewerkt",
    "laatste update",
    "laatst gewijzigd",
    "ingangsdatum",
];

/// Words that introduce a date only at the start of a line ("Effective May 30, 2025"):
/// elsewhere they are ordinary words ("effective measures").
const LINE_LEADS: &[&str] = &["effective"];

/// Words that may stand between a date's parts or before it ("3 de marzo de 2025",
/// "the 21st day of May", "am 5. Mai", "op 17-12-2024") and say nothing.
const FILLERS: &[&str] = &[
    "the", "day", "of", "on", "de", "del", "el", "le", "du", "am", "den", "il", "dal", "em", "op",
];

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sept", 9),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    ("janvier", 1),
    ("février", 2),
    ("mars", 3),
    ("avril", 4),
    ("mai", 5),
    ("juin", 6),
    ("juillet", 7),
    ("août", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    ("januar", 1),
    ("februar", 2),
    ("märz", 3),
    ("juni", 6),
    ("juli", 7),
    ("oktober", 10),
    ("dezember", 12),
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
    ("setiembre", 9),
    ("janv", 1),
    ("févr", 2),
    ("avr", 4),
    ("juil", 7),
    ("déc", 12),
    ("okt", 10),
    ("dez", 12),
    ("gennaio", 1),
    ("febbraio", 2),
    ("aprile", 4),
    ("maggio", 5),
    ("giugno", 6),
    ("luglio", 7),
    ("settembre", 9),
    ("ottobre", 10),
    ("dicembre", 12),
    ("janeiro", 1),
    ("fevereiro", 2),
    ("março", 3),
    ("maio", 5),
    ("junho", 6),
    ("julho", 7),
    ("setembro", 9),
    ("outubro", 10),
    ("dezembro", 12),
    ("januari", 1),
    ("februari", 2),
    ("maart", 3),
    ("mei", 5),
    ("augustus", 8),
];

/// The first date a lead phrase introduces, looking at most a few words past it.
pub fn declared_date(text: &str) -> Option<NaiveDate> {
    // Most texts name few of the leads, or none: look for each once in the whole text,
    // then only for those line by line. Reports and sites call this for every version.
    let whole = text.to_lowercase();
    let present: Vec<&str> = LEADS.iter().copied().filter(|lead| whole.contains(lead)).collect();
    let line_leads = text.lines().any(opens_with_line_lead);
    if present.is_empty() && !line_leads {
        return None;
    }
    for line in text.lines() {
        let opens = line_leads && opens_with_line_lead(line);
        if present.is_empty() && !opens {
            continue;
        }
        // Emphasis marks are layout: "**Last Updated:** April 20**th**, 2025".
        let lower: String = line
            .to_lowercase()
            .chars()
            .filter(|c| !matches!(c, '*' | '_'))
            .collect();
        for lead in &present {
            let mut from = 0;
            while let Some(pos) = lower[from..].find(lead) {
                let after = from + pos + lead.len();
                // "An update ... will be effective on July 26" announces the next
                // version; this one's date is elsewhere.
                let announced = lower[..from + pos].trim_end().ends_with("will be");
                let window: String = lower[after..].chars().take(48).collect();
                if !announced && let Some(date) = parse_date(&window) {
                    return Some(date);
                }
                from = after;
            }
        }
        // A line that opens with "Effective", when no other lead on it gave a date.
        if opens {
            let start = lower.trim_start_matches(['#', '>', '-', ' ']);
            for lead in LINE_LEADS {
                if let Some(rest) = start.strip_prefix(lead)
                    && rest.starts_with(' ')
                    && let Some(date) = parse_date(&rest.chars().take(48).collect::<String>())
                {
                    return Some(date);
                }
            }
        }
    }
    None
}

/// Whether a line opens with a [`LINE_LEADS`] word (past Markdown marks), without
/// allocating: most lines of most texts do not, and this runs on every line.
fn opens_with_line_lead(line: &str) -> bool {
    let start = line.trim_start_matches(['#', '>', '-', ' ', '*', '_']);
    LINE_LEADS.iter().any(|lead| {
        start
            .get(..lead.len())
            .is_some_and(|word| word.eq_ignore_ascii_case(lead))
    })
}

/// Parses the first date in `s`: `2026-03-02`, `March 2, 2026`, `2 March 2026`,
/// `3rd March 2025`, `2 mars 2026`, `3 de marzo de 2025`, `02.03.2026`, `02/03/2026`
/// (day first unless that is impossible).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | ';' | '(' | ')' | '–' | '—'))
        .filter(|w| !w.is_empty() && !FILLERS.contains(w))
        .take(6)
        .collect();
    let month = |w: Option<&&str>| {
        let w = w?.trim_end_matches(['.', ',']);
        MONTHS.iter().find(|(name, _)| *name == w).map(|(_, m)| *m)
    };
    let year = |w: Option<&&str>| {
        w?.trim_end_matches(['.', ','])
            .parse::<i32>()
            .ok()
            .filter(|y| (1900..=2999).contains(y))
    };
    for (i, word) in words.iter().enumerate() {
        if let Some(date) = numeric_date(word) {
            return Some(date);
        }
        let at = |k: usize| words.get(i + k);
        // Month D, YYYY ("March 3rd, 2025")
        if let (Some(m), Some(d), Some(y)) = (month(at(0)), day(at(1)), year(at(2))) {
            return NaiveDate::from_ymd_opt(y, m, d);
        }
        // D Month YYYY ("3rd March 2025", "1er mars 2026", "5. Mai 2025")
        if let (Some(d), Some(m), Some(y)) = (day(at(0)), month(at(1)), year(at(2))) {
            return NaiveDate::from_ymd_opt(y, m, d);
        }
        // Month YYYY: the first of the month.
        if let (Some(m), Some(y)) = (month(at(0)), year(at(1))) {
            return NaiveDate::from_ymd_opt(y, m, 1);
        }
    }
    None
}

/// A day of the month, with its ordinal mark if any: `3`, `3rd`, `1st`, `1er`, `1º`,
/// `1°`, `5.`.
fn day(word: Option<&&str>) -> Option<u32> {
    let word = word?.trim_end_matches(['.', ',']);
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let (number, mark) = word.split_at(digits);
    if !matches!(mark, "" | "st" | "nd" | "rd" | "th" | "er" | "º" | "°" | "ª") {
        return None;
    }
    number.parse().ok().filter(|d| (1..=31).contains(d))
}

fn numeric_date(word: &str) -> Option<NaiveDate> {
    // An RFC 3339 time's date: "2025-03-05t10" once lower-cased and split at ':'.
    let word = word.trim_end_matches('.');
    let word = match word.split_once('t') {
        Some((date, time)) if time.bytes().all(|b| b.is_ascii_digit()) => date,
        _ => word,
    };
    let parts: Vec<&str> = word.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else { return None };
    let (a, b, c): (u32, u32, u32) = (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?);
    if a > 1900 {
        return NaiveDate::from_ymd_opt(a as i32, b, c);
    }
    if c > 1900 {
        // Day first, as most of the world writes it; month first when the day-first
        // reading is impossible (US "12/31/2025").
        return NaiveDate::from_ymd_opt(c as i32, b, a).or_else(|| NaiveDate::from_ymd_opt(c as i32, a, b));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn finds_declared_dates() {
        assert_eq!(
            declared_date("# Privacy\n\nLast updated: March 2, 2026\n"),
            date(2026, 3, 2)
        );
        assert_eq!(declared_date("Effective Date: 2026-03-02\n"), date(2026, 3, 2));
        assert_eq!(declared_date("Effective as of 1 January 2025.\n"), date(2025, 1, 1));
        assert_eq!(declared_date("Dernière mise à jour : 2 mars 2026\n"), date(2026, 3, 2));
        assert_eq!(
            declared_date("Date d'entrée en vigueur : 1er juillet 2024\n"),
            date(2024, 7, 1)
        );
        assert_eq!(declared_date("Stand: 02.03.2026\n"), date(2026, 3, 2));
        assert_eq!(declared_date("Last Updated: 12/31/2025\n"), date(2025, 12, 31));
        assert_eq!(declared_date("Last modified: November 2025\n"), date(2025, 11, 1));
        assert_eq!(declared_date("We updated our terms.\nNo date here.\n"), None);
    }

    /// Every line of `tests/data/declared-dates.tsv` gives its expected date (or none).
    #[test]
    fn declared_dates_table() {
        let table = include_str!("../../tests/data/declared-dates.tsv");
        let mut failures = Vec::new();
        let mut cases = 0;
        for (i, row) in table.lines().enumerate() {
            if row.starts_with('#') || row.trim().is_empty() {
                continue;
            }
            let (line, expected) = row
                .split_once('\t')
                .unwrap_or_else(|| panic!("declared-dates.tsv:{}: expected LINE<tab>DATE or none", i + 1));
            let expected = match expected.trim() {
                "none" => None,
                text => Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|_| {
                    panic!("declared-dates.tsv:{}: {text:?} is neither YYYY-MM-DD nor none", i + 1)
                })),
            };
            cases += 1;
            let found = declared_date(&format!("# Policy\n\n{line}\n"));
            if found != expected {
                failures.push(format!(
                    "declared-dates.tsv:{}: {line:?}: expected {expected:?}, found {found:?}",
                    i + 1
                ));
            }
        }
        assert!(cases >= 60, "only {cases} cases");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
