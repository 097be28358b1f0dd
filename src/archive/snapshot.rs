//! The snapshot file of a multi-page document: its pages one after another, each
//! introduced by a marker line naming its URL, so `reextract` can take them apart.

const MARKER: &[u8] = b"<!-- clausewatch part: ";

/// Joins the pages of a document (URL and bytes, in declaration order) into one snapshot.
/// A one-page document's snapshot is the page's bytes, untouched.
pub fn join(pages: &[(&str, &[u8])]) -> Vec<u8> {
    if let [(_, bytes)] = pages {
        return bytes.to_vec();
    }
    let mut out = Vec::new();
    for (url, bytes) in pages {
        out.extend_from_slice(MARKER);
        out.extend_from_slice(url.as_bytes());
        out.extend_from_slice(b" -->\n");
        out.extend_from_slice(bytes);
        out.push(b'\n');
    }
    out
}

/// Splits a snapshot written by [`join`] back into its pages; a snapshot without
/// markers is one page.
pub fn split(snapshot: &[u8]) -> Vec<&[u8]> {
    if !snapshot.starts_with(MARKER) {
        return vec![snapshot];
    }
    let mut starts = Vec::new();
    let mut at = 0;
    while let Some(pos) = find_line_start(&snapshot[at..]) {
        let marker_at = at + pos;
        let body = snapshot[marker_at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(snapshot.len(), |p| marker_at + p + 1);
        starts.push((marker_at, body));
        at = body;
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &(_, body))| {
            let end = starts.get(i + 1).map_or(snapshot.len(), |&(next, _)| next);
            // `join` added one newline after each page.
            let end = if end > body && snapshot[end - 1] == b'\n' {
                end - 1
            } else {
                end
            };
            &snapshot[body..end]
        })
        .collect()
}

/// The next marker at the start of a line.
fn find_line_start(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = bytes[from..].windows(MARKER.len()).position(|w| w == MARKER) {
        let at = from + pos;
        if at == 0 || bytes[at - 1] == b'\n' {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_split_round_trip() {
        let pages: [(&str, &[u8]); 2] = [("https://a/1", b"<p>One</p>\n"), ("https://a/2", b"<p>Two</p>")];
        let joined = join(&pages);
        assert!(joined.starts_with(b"<!-- clausewatch part: https://a/1 -->\n<p>One</p>\n"));
        assert_eq!(split(&joined), vec![&b"<p>One</p>\n"[..], &b"<p>Two</p>"[..]]);
        assert_eq!(join(&pages[..1]), b"<p>One</p>\n");
        assert_eq!(split(b"<p>Only</p>"), vec![&b"<p>Only</p>"[..]]);
    }
}
