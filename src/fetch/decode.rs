//! Bytes to text: the charset comes from the BOM, the `Content-Type` header, a
//! `<meta charset>` in the first bytes of the page, and otherwise from detection.
//!
//! The order follows the HTML standard's encoding sniffing (a BOM outranks the header),
//! so a file read from disk and the same page fetched over HTTP decode alike.

use encoding_rs::{Encoding, UTF_8};

/// How far into a page to look for `<meta charset>`. The standard says 1024 bytes; real
/// pages put a kilobyte of comments and preloads first, so look a little further.
const META_PRESCAN_BYTES: usize = 4096;

/// The kind of body a fetch produced, from the header and, failing that, the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Html,
    PlainText,
    Pdf,
    /// Anything else (images, archives, binary garbage).
    Other,
}

/// Classifies a body by its declared media type, checking the bytes where the header is
/// missing, generic or lies (binary served as `text/html`).
pub fn body_kind(content_type: Option<&str>, bytes: &[u8]) -> BodyKind {
    if bytes.starts_with(b"%PDF-") {
        return BodyKind::Pdf;
    }
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let declared = match media.as_str() {
        "text/html" | "application/xhtml+xml" => Some(BodyKind::Html),
        "text/plain" | "text/markdown" => Some(BodyKind::PlainText),
        "application/pdf" => Some(BodyKind::Pdf),
        "" | "application/octet-stream" | "binary/octet-stream" => None,
        _ if media.starts_with("image/") || media.starts_with("audio/") || media.starts_with("video/") => {
            return BodyKind::Other;
        }
        _ => None,
    };
    if looks_binary(bytes, content_type) {
        return BodyKind::Other;
    }
    declared.unwrap_or_else(|| {
        if sniff_html(bytes) {
            BodyKind::Html
        } else {
            BodyKind::PlainText
        }
    })
}

/// Binary data has NUL bytes or many control bytes in its first kilobytes; no text
/// encoding a web page uses does, except UTF-16, known by its BOM or its header and
/// judged by its characters.
fn looks_binary(bytes: &[u8], content_type: Option<&str>) -> bool {
    if Encoding::for_bom(bytes).is_some() {
        return false;
    }
    let head = &bytes[..bytes.len().min(8192)];
    if let Some(utf16) = content_type
        .and_then(header_charset)
        .filter(|e| is_utf16(e) && has_nul(bytes))
    {
        let (text, _) = utf16.decode_without_bom_handling(head);
        let controls = text
            .chars()
            .filter(|&c| c < ' ' && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
            .count();
        return controls * 20 > text.chars().count().max(1);
    }
    let controls = head
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)))
        .count();
    head.contains(&0) || controls * 20 > head.len().max(1)
}

fn sniff_html(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<div",
        "<p",
        "<meta",
        "<title",
        "<!--",
    ]
    .iter()
    .any(|tag| head.starts_with(tag))
}

/// Decodes a fetched body to a `String`, never failing: undecodable bytes become U+FFFD.
pub fn decode(bytes: &[u8], content_type: Option<&str>, kind: BodyKind) -> String {
    let encoding = sniff_encoding(bytes, content_type, kind);
    // `decode` handles and strips a BOM of any encoding, overriding `encoding`.
    let (text, _, _) = encoding.decode(bytes);
    text.into_owned()
}

/// The encoding a body is in, by the precedence described in the module docs.
pub fn sniff_encoding(bytes: &[u8], content_type: Option<&str>, kind: BodyKind) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    if let Some(encoding) = content_type.and_then(header_charset)
        && (!is_utf16(encoding) || has_nul(bytes))
    {
        return encoding;
    }
    if kind == BodyKind::Html
        && let Some(encoding) = meta_charset(&bytes[..bytes.len().min(META_PRESCAN_BYTES)])
    {
        return encoding;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(None, chardetng::Utf8Detection::Allow)
}

/// The encoding `Content-Type` names, UTF-16 included: a browser decodes
/// `charset=utf-16le` without a BOM as UTF-16 too.
fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    charset_param(content_type).and_then(exact_label)
}

fn exact_label(name: &str) -> Option<&'static Encoding> {
    Encoding::for_label(name.trim().trim_matches(|c| c == '"' || c == '\'').as_bytes())
}

/// HTML in UTF-16 has a NUL byte beside every ASCII character; a body labelled UTF-16
/// with none in its first kilobyte is mislabelled (UTF-8 or a legacy encoding).
fn has_nul(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)].contains(&0)
}

fn is_utf16(encoding: &'static Encoding) -> bool {
    encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE
}

/// A `<meta>` label as the standard maps it: a page cannot declare itself UTF-16 in
/// ASCII, so such a label means UTF-8.
fn label(name: &str) -> Option<&'static Encoding> {
    exact_label(name).map(|encoding| if is_utf16(encoding) { UTF_8 } else { encoding })
}

fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim().eq_ignore_ascii_case("charset").then_some(value.trim())
    })
}

/// Finds `charset=` inside a `<meta` tag of the prescan window: covers both
/// `<meta charset="x">` and `<meta http-equiv="Content-Type" content="text/html; charset=x">`.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset") {
            let rest = &tag[c + "charset".len()..];
            let rest = rest
                .iter()
                .skip_while(|b| b.is_ascii_whitespace())
                .copied()
                .collect::<Vec<u8>>();
            if let Some(value) = rest.strip_prefix(b"=") {
                let value: Vec<u8> = value
                    .iter()
                    .skip_while(|b| b.is_ascii_whitespace() || **b == b'"' || **b == b'\'')
                    .take_while(|b| !(b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b';' | b'/' | b'>')))
                    .copied()
                    .collect();
                if let Some(encoding) = std::str::from_utf8(&value).ok().and_then(label) {
                    return Some(encoding);
                }
            }
        }
        from = end;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_charset_wins_over_meta() {
        let bytes = b"<meta charset=utf-8><p>caf\xe9</p>";
        let text = decode(bytes, Some("text/html; charset=ISO-8859-1"), BodyKind::Html);
        assert!(text.contains("café"));
    }

    #[test]
    fn meta_charset_both_forms() {
        let bytes = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"></head><p>\x93quoted\x94</p>";
        assert!(decode(bytes, Some("text/html"), BodyKind::Html).contains("\u{201c}quoted\u{201d}"));
        let bytes = b"<meta charset='iso-8859-15'><p>\xa4</p>";
        assert!(decode(bytes, None, BodyKind::Html).contains('€'));
    }

    #[test]
    fn bom_wins_and_is_stripped() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("<p>é</p>".as_bytes());
        let text = decode(&bytes, Some("text/html; charset=iso-8859-1"), BodyKind::Html);
        assert_eq!(text, "<p>é</p>");
    }

    #[test]
    fn undeclared_legacy_text_is_detected() {
        let bytes = "<p>Politique de confidentialité : vos données personnelles sont protégées, \
                     nous ne les vendons à personne.</p>"
            .encode_utf16()
            .map(|u| u as u8)
            .collect::<Vec<u8>>();
        let text = decode(&bytes, Some("text/html"), BodyKind::Html);
        assert!(text.contains("confidentialité"), "{text}");
    }

    #[test]
    fn utf16_meta_label_means_utf8() {
        let text = decode("<meta charset=utf-16><p>ü</p>".as_bytes(), None, BodyKind::Html);
        assert!(text.contains('ü'));
    }

    #[test]
    fn utf16_declared_in_the_header_is_decoded_without_a_bom() {
        let page = "<p>Politique de confidentialité : nous protégeons vos données.</p>";
        let le: Vec<u8> = page.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = page.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (bytes, content_type) in [
            (&le, "text/html; charset=utf-16le"),
            (&le, "text/html; charset=UTF-16"),
            (&be, "text/html; charset=\"utf-16be\""),
        ] {
            assert_eq!(body_kind(Some(content_type), bytes), BodyKind::Html, "{content_type}");
            assert_eq!(
                decode(bytes, Some(content_type), BodyKind::Html),
                page,
                "{content_type}"
            );
        }
        // A UTF-8 body labelled UTF-16 is read as what it is.
        assert_eq!(
            decode(page.as_bytes(), Some("text/html; charset=utf-16le"), BodyKind::Html),
            page
        );
        // Binary data labelled UTF-16 is still binary.
        let binary: Vec<u8> = (0u8..=255).cycle().take(4096).map(|b| b % 7).collect();
        assert_eq!(body_kind(Some("text/html; charset=utf-16le"), &binary), BodyKind::Other);
    }

    #[test]
    fn body_kinds() {
        assert_eq!(body_kind(Some("text/html; charset=utf-8"), b"<p>x</p>"), BodyKind::Html);
        assert_eq!(body_kind(Some("application/octet-stream"), b"%PDF-1.7"), BodyKind::Pdf);
        assert_eq!(body_kind(Some("text/html"), b"\x00\x01\x02binary\x00"), BodyKind::Other);
        assert_eq!(body_kind(None, b"<!DOCTYPE html><p>x"), BodyKind::Html);
        assert_eq!(body_kind(None, b"Terms of use."), BodyKind::PlainText);
        assert_eq!(body_kind(Some("image/png"), b"\x89PNG"), BodyKind::Other);
    }
}
