//! The language a canonical text is written in, so that what reads it (the provision
//! tagger) can say "this is French, which I do not cover" instead of silently finding
//! nothing.

use std::fmt;

/// A language, named by its ISO 639-1 code where it has one (`en`, `fr`, `zh`), else by
/// the ISO 639-3 code (`cmn` never appears: Mandarin is `zh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Language(whatlang::Lang);

impl Language {
    /// `en`, `fr`, `de`, ...
    pub fn code(self) -> &'static str {
        use whatlang::Lang::*;
        match self.0 {
            Eng => "en",
            Fra => "fr",
            Deu => "de",
            Spa => "es",
            Ita => "it",
            Por => "pt",
            Nld => "nl",
            Pol => "pl",
            Swe => "sv",
            Dan => "da",
            Fin => "fi",
            Ces => "cs",
            Slk => "sk",
            Slv => "sl",
            Hun => "hu",
            Ron => "ro",
            Bul => "bg",
            Hrv => "hr",
            Ell => "el",
            Est => "et",
            Lav => "lv",
            Lit => "lt",
            Rus => "ru",
            Ukr => "uk",
            Tur => "tr",
            Ara => "ar",
            Heb => "he",
            Hin => "hi",
            Jpn => "ja",
            Kor => "ko",
            Cmn => "zh",
            Vie => "vi",
            Ind => "id",
            Tha => "th",
            Nob => "nb",
            other => other.code(),
        }
    }

    /// The language a code names, as [`code`](Self::code) writes it (`None` for a code
    /// the detector does not know).
    pub fn from_code(code: &str) -> Option<Language> {
        whatlang::Lang::all()
            .iter()
            .map(|lang| Language(*lang))
            .find(|language| language.code() == code)
    }

    /// `English`, `French`, ...
    pub fn name(self) -> &'static str {
        match self.0 {
            whatlang::Lang::Cmn => "Chinese",
            other => other.eng_name(),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How much of a text is read: a policy's language shows in its first pages, and the
/// detector's cost grows with the input.
const SAMPLE_BYTES: usize = 6_000;

/// Below this many bytes of letters a text is not given a language: trigram statistics
/// of a few short sentences are noise (a nine-line English policy reads as French).
const MIN_LETTERS: usize = 300;

/// Words every English clause is made of. A text where they are at least this share of
/// the words is English whatever the trigrams say: taking English for another language
/// would leave it untagged, and a missed clause is the costliest mistake.
const ENGLISH_FUNCTION_WORDS: &[&str] = &[
    "the", "and", "of", "to", "we", "you", "your", "our", "us", "is", "are", "may", "will", "with", "for", "this",
    "that", "or", "in", "not",
];
const ENGLISH_SHARE: f64 = 0.08;

/// The language most of `text` is written in, when the detector is sure; `None` for a
/// text too short or too mixed to tell.
pub fn language_of(text: &str) -> Option<Language> {
    let mut end = text.len().min(SAMPLE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // Markdown markers and numbers say nothing of the language.
    let sample: String = text[..end]
        .chars()
        .map(|c| if c.is_alphabetic() || c.is_whitespace() { c } else { ' ' })
        .collect();
    // In bytes: an ideograph carries about what three Latin letters do.
    let letters: usize = sample.chars().filter(|c| c.is_alphabetic()).map(char::len_utf8).sum();
    if letters < MIN_LETTERS {
        return None;
    }
    let words: Vec<String> = sample.split_whitespace().map(str::to_lowercase).collect();
    let english = words
        .iter()
        .filter(|w| ENGLISH_FUNCTION_WORDS.contains(&w.as_str()))
        .count();
    if !words.is_empty() && english as f64 >= ENGLISH_SHARE * words.len() as f64 {
        return Some(Language(whatlang::Lang::Eng));
    }
    let info = whatlang::detect(&sample)?;
    info.is_reliable().then_some(Language(info.lang()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_told_apart_by_language() {
        let english = "# Privacy Policy\n\nWe collect the information you give us when you create an account.\n\
                       We use it to provide and improve the service, and we keep it for as long as your \
                       account is open.\n";
        let french = "# Politique de confidentialité\n\nNous collectons les informations que vous nous \
                      fournissez lorsque vous créez un compte.\nNous les utilisons pour fournir et \
                      améliorer le service, et nous les conservons tant que votre compte est ouvert.\n";
        let german = "# Datenschutzerklärung\n\nWir erheben die Informationen, die Sie uns bei der \
                      Erstellung eines Kontos geben.\nWir verwenden sie, um den Dienst bereitzustellen \
                      und zu verbessern, und speichern sie, solange Ihr Konto besteht.\n";
        let chinese =
            "# 隐私政策\n\n我们会收集您在创建账户时向我们提供的信息。我们使用这些信息来提供和改进服务。\n".repeat(6);
        let chinese = chinese.as_str();
        let (english, french, german) = (english.repeat(3), french.repeat(3), german.repeat(3));
        assert_eq!(language_of(&english).map(Language::code), Some("en"));
        assert_eq!(language_of(&french).map(Language::code), Some("fr"));
        assert_eq!(language_of(&german).map(Language::code), Some("de"));
        assert_eq!(language_of(chinese).map(Language::code), Some("zh"));
        assert_eq!(language_of(&french).map(Language::name), Some("French"));
        assert_eq!(language_of(chinese).map(Language::name), Some("Chinese"));
        assert_eq!(Language::from_code("zh").map(Language::name), Some("Chinese"));
        assert_eq!(Language::from_code("de").map(Language::name), Some("German"));
        assert_eq!(Language::from_code("xx"), None);
    }

    #[test]
    fn too_little_text_is_no_language() {
        assert_eq!(language_of(""), None);
        assert_eq!(language_of("# 2026\n\n- 1.\n"), None);
        // Trigrams alone call this French.
        let short_english = "# Privacy Policy\n\n## Data\n\nWe collect your name.\nWe keep data for 90 days.\n\
                             We may use your content to train our AI models.\n\n## Sharing\n\n\
                             Partners receive reports.\n\n- Email us.\n- Write to us.\n";
        assert_eq!(language_of(short_english), None);
        assert_eq!(language_of(&short_english.repeat(3)).map(Language::code), Some("en"));
    }
}
