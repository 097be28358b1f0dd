//! Pages that are not the document, told by the version before them: a transfer cut
//! short, an error or login page wrapped in prose, a redirect to another page. Alone,
//! each looks like a document; next to the text the document had, it does not. Each
//! refusal rests on two signals, so that a real edit (sections dropped, a policy
//! rewritten, a policy that moved) is still recorded.

use std::collections::HashSet;

use url::Url;

use crate::failure::{Failure, FailureKind};
use crate::fetch::site_of;
use crate::fetch::wall::{self, Verdict};
use crate::report::since;

/// Below this share of the last version's sentences, a new text shares almost nothing
/// with it. Never a reason alone: on `../shared/corpus` (tests/corpus.rs), 4 of 253
/// steps between real versions keep less (a whole rewrite keeps 1.9%, a re-extraction
/// 0%), so it is heeded only with a second sign, a title that says "error" or "sign in"
/// ([`wrapped_wall`]), or a redirect to another page with much less prose
/// ([`Redirect::failure`]).
pub const KEPT_SHARE_FLOOR: f64 = 0.10;

/// The share (0 to 1) of `old`'s distinct sentences (non-blank lines, read through
/// [`since::key`]: case, punctuation and numbering set aside) that `new` still has.
pub fn kept_share(old: &str, new: &str) -> f64 {
    let keys =
        |text: &str| -> HashSet<String> { text.lines().filter(|l| !l.trim().is_empty()).map(since::key).collect() };
    let (old_keys, new_keys) = (keys(old), keys(new));
    if old_keys.is_empty() {
        return 1.0;
    }
    old_keys.intersection(&new_keys).count() as f64 / old_keys.len() as f64
}

/// How a new text is the last version's beginning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    /// Its lines are the last version's first lines, and its last line stops inside the
    /// last version's line at that place, which goes on (`rest`), with more lines after;
    /// `mid_word` when it stops between two letters or digits.
    MidLine {
        kept_lines: usize,
        rest: String,
        mid_word: bool,
    },
    /// Its lines are the last version's first lines, whole, and the last version has more.
    WholeLines { kept_lines: usize },
}

/// Whether `new` is `old`'s beginning (see [`Cut`]).
pub fn cut_of(old: &str, new: &str) -> Option<Cut> {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let (last, before) = new_lines.split_last()?;
    let n = new_lines.len();
    if n > old_lines.len() || before != &old_lines[..n - 1] || last.trim().is_empty() {
        return None;
    }
    let more_after = old_lines[n..].iter().any(|l| !l.trim().is_empty());
    if !more_after {
        // Nothing whole was lost: at most the end of the last line, as an edit of a
        // footer line does.
        return None;
    }
    let at_cut = old_lines[n - 1];
    if *last == at_cut {
        Some(Cut::WholeLines { kept_lines: n })
    } else {
        at_cut.strip_prefix(last).map(|rest| Cut::MidLine {
            kept_lines: n,
            rest: rest.to_string(),
            mid_word: last.chars().next_back().is_some_and(char::is_alphanumeric)
                && rest.chars().next().is_some_and(char::is_alphanumeric),
        })
    }
}

/// For each page of an HTML snapshot (one page, or the pages of a combined document),
/// whether it is closed: it ends with a `</body>` or `</html>` tag in its last 64 KiB.
pub fn pages_closed(snapshot: &[u8]) -> Vec<bool> {
    crate::archive::snapshot::split(snapshot)
        .into_iter()
        .map(|page| {
            // Servers put nothing long after the closing tags.
            let tail = &page[page.len().saturating_sub(64 * 1024)..];
            let lower = String::from_utf8_lossy(tail).to_ascii_lowercase();
            lower.contains("</html") || lower.contains("</body")
        })
        .collect()
}

/// Whether a page of the new HTML snapshot lost the closing tags that the same page of
/// the old one had: the mark of a body cut short, whatever its `Content-Length`.
pub fn closing_lost(old_snapshot: &[u8], new_snapshot: &[u8]) -> bool {
    let (old, new) = (pages_closed(old_snapshot), pages_closed(new_snapshot));
    old.len() == new.len() && old.iter().zip(&new).any(|(was, is)| *was && !is)
}

/// The failure of a text that is the last version's beginning, cut short: `how` says
/// where the cut shows.
pub fn truncated(old: &str, new: &str, kept_lines: usize, how: &str, document: &str) -> Failure {
    Failure::new(
        FailureKind::Truncated,
        format!(
            "the text is the last version's first {kept_lines} lines ({} of {} bytes) and {how}: a transfer cut \
             short, not a new version (nothing was recorded); if the document really ends there now, run again \
             with --accept-shrink={document}",
            new.len(),
            old.len()
        ),
    )
}

/// `stops in the middle of a line that went on ("… rest")`.
pub fn mid_line(rest: &str) -> String {
    let shown: String = rest.chars().take(40).collect();
    let more = if rest.chars().count() > 40 { "…" } else { "" };
    format!(
        "stops in the middle of a line, which went on {:?}",
        format!("{}{shown}{more}", if rest.starts_with(' ') { "" } else { "…" })
    )
}

/// An error, maintenance, login or "not found" page wrapped in more prose than
/// [`wall::judge_text`] allows such a page: its title, first heading or first lines say
/// so, and it shares almost nothing with the document's last version.
pub fn wrapped_wall(old: &str, new: &str, snapshot: &[u8], snapshot_ext: &str, source: &str) -> Option<Failure> {
    let signal = wall::title_signal(new, snapshot, snapshot_ext)?;
    let kept = kept_share(old, new);
    (kept < KEPT_SHARE_FLOOR).then(|| {
        Verdict::NotTheDocument {
            page: signal.page,
            evidence: format!(
                "{}, and the text keeps {:.0}% of the last version's sentences",
                signal.evidence,
                kept * 100.0
            ),
        }
        .into_failure(source)
    })
}

/// A new text of a document, with what [`judge`] weighs it by.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub text: &'a str,
    pub snapshot: &'a [u8],
    pub snapshot_ext: &'a str,
    /// The parts whose fetch ended elsewhere than their declared URL.
    pub redirects: &'a [Redirect],
    /// `--accept-shrink` names the document: a cut text is recorded all the same.
    pub accept_shrink: bool,
    /// `service/type`, for the failure's advice.
    pub document: &'a str,
    /// The URL (or label) the failure names.
    pub source: &'a str,
}

/// Why `arrival` is not the document next to `old`, the text it would replace, or
/// `None`: another page ([`replaced`]), or a transfer cut short ([`cut`]).
pub fn judge<E>(
    arrival: &Arrival<'_>,
    old: &str,
    old_snapshot: impl FnOnce() -> Result<Option<(Vec<u8>, String)>, E>,
) -> Result<Option<Failure>, E> {
    match replaced(arrival, old) {
        Some(failure) => Ok(Some(failure)),
        None => cut(arrival, old, old_snapshot),
    }
}

/// Whether `arrival` is `old` cut short in transfer, unless `--accept-shrink` names the
/// document (`truncated`: the old text's first lines, the last one stopping inside a
/// word of its line; or stopping at a line's end or between words, in an HTML page that
/// lost the closing tags its old snapshot had). A line cut between words alone is no
/// sign: a real version dropped the end of a heading's line and every section after it.
/// `old_snapshot` gives the old snapshot and its extension; it is asked for only in
/// that last case.
pub fn cut<E>(
    arrival: &Arrival<'_>,
    old: &str,
    old_snapshot: impl FnOnce() -> Result<Option<(Vec<u8>, String)>, E>,
) -> Result<Option<Failure>, E> {
    let new = arrival.text;
    if arrival.accept_shrink {
        return Ok(None);
    }
    Ok(match cut_of(old, new) {
        Some(Cut::MidLine {
            kept_lines,
            rest,
            mid_word: true,
        }) => Some(truncated(old, new, kept_lines, &mid_line(&rest), arrival.document)),
        Some(Cut::MidLine { kept_lines, .. } | Cut::WholeLines { kept_lines }) if arrival.snapshot_ext == "html" => {
            old_snapshot()?
                .filter(|(bytes, ext)| ext == "html" && closing_lost(bytes, arrival.snapshot))
                .map(|_| {
                    truncated(
                        old,
                        new,
                        kept_lines,
                        "its page lost the closing </body> and </html> tags the last snapshot had",
                        arrival.document,
                    )
                })
        }
        _ => None,
    })
}

/// Why `arrival` is another page than the document whose last text was `old`: an
/// error or login page wrapped in prose, or another page behind a redirect. Asked
/// before the shrink check too, whose reason ("shrunk") would say less.
pub fn replaced(arrival: &Arrival<'_>, old: &str) -> Option<Failure> {
    wrapped_wall(
        old,
        arrival.text,
        arrival.snapshot,
        arrival.snapshot_ext,
        arrival.source,
    )
    .or_else(|| arrival.redirects.iter().find_map(|r| r.failure(old, arrival.text)))
}

/// A declared URL that a fetch ended elsewhere than.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The part of the document (0 for the first), of `parts` in all.
    pub part: usize,
    pub parts: usize,
    pub declared: Url,
    pub ended: Url,
}

/// The longest `Redirected-To:` value kept whole; a longer URL loses its query.
const MAX_TRAILER_URL: usize = 2_048;

impl Redirect {
    /// The redirect of a part fetched from `declared` that ended at `ended`, when the
    /// two differ (fragments aside: they never reach a server).
    pub fn of(part: usize, parts: usize, declared: &Url, ended: &Url) -> Option<Redirect> {
        let bare = |url: &Url| {
            let mut url = url.clone();
            url.set_fragment(None);
            url
        };
        let (declared, ended) = (bare(declared), bare(ended));
        (declared != ended).then_some(Redirect {
            part,
            parts,
            declared,
            ended,
        })
    }

    /// Whether it ended on another page: another host (`www.` aside) or another path
    /// (a trailing `/` aside). `http:` to `https:` and a query added are the same page.
    pub fn is_elsewhere(&self) -> bool {
        let path = |url: &Url| url.path().trim_end_matches('/').to_string();
        site_of(&self.declared) != site_of(&self.ended) || path(&self.declared) != path(&self.ended)
    }

    /// The `Redirected-To:` trailer's value: the URL the fetch ended at (a parsed URL,
    /// so without spaces or control characters; escaped again when the message is
    /// written), prefixed with `part N: ` in a combined document.
    pub fn trailer_value(&self) -> String {
        let mut url = self.ended.to_string();
        if url.len() > MAX_TRAILER_URL {
            let mut short = self.ended.clone();
            short.set_query(None);
            url = short.to_string();
            if url.len() > MAX_TRAILER_URL {
                let mut end = MAX_TRAILER_URL;
                while !url.is_char_boundary(end) {
                    end -= 1;
                }
                url = format!("{}…", &url[..end]);
            }
        }
        if self.parts > 1 {
            format!("part {}: {url}", self.part + 1)
        } else {
            url
        }
    }

    /// The failure of a redirect to another page (a help centre, a landing page): it
    /// shares almost nothing with the document's last version, and has less than half
    /// its prose. A rewritten policy that moved shares as little, but is as long: the
    /// real rewrites of the corpus kept 77% to 184% of their prose.
    pub fn failure(&self, old: &str, new: &str) -> Option<Failure> {
        if !self.is_elsewhere() {
            return None;
        }
        let kept = kept_share(old, new);
        let prose = |text: &str| wall::Shape::of(text).prose;
        (kept < KEPT_SHARE_FLOOR && prose(new) * 2 < prose(old)).then(|| {
            Failure::new(
                FailureKind::Redirect,
                format!(
                    "{} was redirected to {}, whose text keeps {:.0}% of the last version's sentences and has {} \
                     characters of prose where it had {}: another page, not the document (nothing was recorded); \
                     if the document moved there, update the declaration's URL",
                    self.declared,
                    self.ended,
                    kept * 100.0,
                    prose(new),
                    prose(old)
                ),
            )
        })
    }
}

/// The trailer that records where a fetch ended when it was redirected.
pub const REDIRECTED_TO_TRAILER: &str = "Redirected-To";

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(n: std::ops::Range<usize>) -> String {
        n.map(|i| format!("Clause {i} says what we do with data number {i}.\n"))
            .collect()
    }

    #[test]
    fn a_cut_is_the_last_versions_beginning_and_an_edit_is_not() {
        let old = policy(0..40);
        let cut_at = old.find("Clause 23 says what").unwrap() + "Clause 23 says wh".len();
        let cut = &old[..cut_at];
        assert_eq!(
            cut_of(&old, cut),
            Some(Cut::MidLine {
                kept_lines: 24,
                rest: "at we do with data number 23.".into(),
                mid_word: true,
            })
        );
        let between_words = &old[..cut_at - 2];
        assert!(matches!(
            cut_of(&old, between_words),
            Some(Cut::MidLine { mid_word: false, .. })
        ));
        let whole = policy(0..24);
        assert_eq!(cut_of(&old, &whole), Some(Cut::WholeLines { kept_lines: 24 }));
        // An edit that rewords the last kept line, or keeps everything, is no cut.
        assert_eq!(cut_of(&old, &(policy(0..23) + "Clause 23 is new.\n")), None);
        assert_eq!(cut_of(&old, &old), None);
        // A footer line shortened at the very end loses nothing whole.
        let footer = format!("{old}© 2026 Acme · Privacy · Terms\n");
        assert_eq!(cut_of(&footer, &format!("{old}© 2026 Acme · Privacy")), None);
        // A changed line before the end is no cut either.
        let edited = old.replacen("Clause 3 says", "Clause 3 now says", 1);
        assert_eq!(cut_of(&old, &edited[..cut_at]), None);
    }

    #[test]
    fn closing_tags_lost_only_count_where_the_old_page_had_them() {
        let full = b"<html><body><p>One</p></body></html>\n";
        let cut = b"<html><body><p>On";
        assert!(closing_lost(full, cut));
        assert!(!closing_lost(full, full));
        assert!(!closing_lost(cut, cut), "a site that never closes its pages");
    }

    #[test]
    fn kept_share_reads_sentences_through_their_keys() {
        let old = "# 1. Data\nWe collect data.\nWe share it.\nWe keep it.\n";
        assert_eq!(kept_share(old, "## Data\nwe collect data\nSomething else.\n"), 0.5);
        assert_eq!(kept_share("", "anything"), 1.0);
    }

    #[test]
    fn redirects_elsewhere_and_their_trailer() {
        let url = |s: &str| Url::parse(s).unwrap();
        let same = Redirect::of(
            0,
            1,
            &url("https://a.example/privacy#top"),
            &url("https://a.example/privacy"),
        );
        assert_eq!(same, None);
        let https = Redirect::of(
            0,
            1,
            &url("http://a.example/privacy"),
            &url("https://www.a.example/privacy/"),
        )
        .unwrap();
        assert!(!https.is_elsewhere());
        let help = Redirect::of(
            1,
            2,
            &url("https://a.example/privacy"),
            &url("https://a.example/help?from=p"),
        )
        .unwrap();
        assert!(help.is_elsewhere());
        assert_eq!(help.trailer_value(), "part 2: https://a.example/help?from=p");
        let long = format!("https://a.example/p?{}", "q".repeat(3_000));
        let long = Redirect::of(0, 1, &url("https://a.example/privacy"), &url(&long)).unwrap();
        assert_eq!(long.trailer_value(), "https://a.example/p");
        let old = policy(0..20);
        assert!(
            help.failure(&old, "Help centre\nHow can we help you today?\n")
                .is_some()
        );
        assert!(help.failure(&old, &policy(2..22)).is_none(), "a policy that moved");
        let rewritten: String = (0..20)
            .map(|i| format!("Rule {i} now reads quite differently from before.\n"))
            .collect();
        assert_eq!(kept_share(&old, &rewritten), 0.0);
        assert!(
            help.failure(&old, &rewritten).is_none(),
            "a policy rewritten as it moved"
        );
    }

    #[test]
    fn judge_needs_a_cut_inside_a_word_or_closing_tags_lost() {
        let old = policy(0..40);
        let judge_cut = |new: &str, new_snapshot: &[u8], accept_shrink: bool| {
            let arrival = Arrival {
                text: new,
                snapshot: new_snapshot,
                snapshot_ext: "html",
                redirects: &[],
                accept_shrink,
                document: "acme/privacy-policy",
                source: "https://acme.example/privacy",
            };
            let old_snapshot =
                || Ok::<_, std::convert::Infallible>(Some((b"<p>x</p></body></html>".to_vec(), "html".into())));
            judge(&arrival, &old, old_snapshot).unwrap()
        };
        let closed = b"<html><body><p>x</p></body></html>";
        let cut = b"<html><body><p>x";
        let at = old.find("Clause 23 says what").unwrap();
        let mid_word = &old[..at + "Clause 23 says wh".len()];
        let failure = judge_cut(mid_word, closed, false).unwrap();
        assert_eq!(failure.kind, FailureKind::Truncated);
        assert!(
            failure.message.contains("--accept-shrink=acme/privacy-policy"),
            "{}",
            failure.message
        );
        assert_eq!(judge_cut(mid_word, closed, true), None);
        let between_words = &old[..at + "Clause 23 says".len()];
        assert_eq!(judge_cut(between_words, closed, false), None);
        assert_eq!(
            judge_cut(between_words, cut, false).unwrap().kind,
            FailureKind::Truncated
        );
        let sections_dropped = policy(0..24);
        assert_eq!(judge_cut(&sections_dropped, closed, false), None, "a real edit");
        assert_eq!(
            judge_cut(&sections_dropped, cut, false).unwrap().kind,
            FailureKind::Truncated
        );
    }
}
