//! Recognizing pages that are not the document: bot challenges, denial pages, soft
//! 404s served with status 200, and script-only shells that need a browser.
//!
//! Each verdict rests on signals that a real policy page does not have: a challenge
//! vendor's own markers, or a telltale title together with very little visible text. A
//! single phrase is never enough, because policies themselves talk about "access
//! denied" and "captcha".

use crate::failure::{Failure, FailureKind};

/// How much of a page the markers are looked for in: challenge pages are small, and
/// policy pages put their markers (titles, app roots) near the top.
const SCAN_BYTES: usize = 256 * 1024;
/// Below this many visible characters a page is a stub, not a policy.
const STUB_TEXT: usize = 1_500;

/// What a page turned out to be, when it is not the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A challenge, captcha or denial page.
    BotWall(String),
    /// A "page not found" page served with a success status.
    SoftNotFound(String),
    /// An empty application shell whose content is built by scripts.
    NeedsScripts,
    /// A page that says something other than the document: an error, maintenance,
    /// login or consent page, recognised from its text (see [`judge_text`]).
    NotTheDocument {
        page: PageKind,
        /// The words that gave it away, and where.
        evidence: String,
    },
}

/// What a page that is not the document says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    NotFound,
    Error,
    Maintenance,
    LoginWall,
    ConsentWall,
    Denied,
}

impl PageKind {
    pub fn label(self) -> &'static str {
        match self {
            PageKind::NotFound => "not-found",
            PageKind::Error => "error",
            PageKind::Maintenance => "maintenance",
            PageKind::LoginWall => "login-wall",
            PageKind::ConsentWall => "consent-wall",
            PageKind::Denied => "denied",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            PageKind::NotFound => "a \"not found\" page",
            PageKind::Error => "an error page",
            PageKind::Maintenance => "a maintenance page",
            PageKind::LoginWall => "a login wall",
            PageKind::ConsentWall => "a consent wall",
            PageKind::Denied => "an access-denied page",
        }
    }

    fn failure_kind(self) -> FailureKind {
        match self {
            PageKind::NotFound => FailureKind::NotFound,
            PageKind::Error | PageKind::Maintenance => FailureKind::ServerError,
            PageKind::LoginWall | PageKind::ConsentWall | PageKind::Denied => FailureKind::Forbidden,
        }
    }
}

impl Verdict {
    /// A short name of the verdict: `bot-wall`, `not-found`, `needs-scripts`, `error`,
    /// `maintenance`, `login-wall`, `consent-wall`, `denied`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::BotWall(_) => "bot-wall",
            Verdict::SoftNotFound(_) => "not-found",
            Verdict::NeedsScripts => "needs-scripts",
            Verdict::NotTheDocument { page, .. } => page.label(),
        }
    }

    pub fn into_failure(self, url: &str) -> Failure {
        match self {
            Verdict::BotWall(vendor) => Failure::new(
                FailureKind::BotWall,
                format!("{url} answered with a {vendor}, not the document"),
            ),
            Verdict::SoftNotFound(title) => Failure::new(
                FailureKind::NotFound,
                format!("{url} answered with a \"not found\" page ({title:?})"),
            ),
            Verdict::NeedsScripts => Failure::new(
                FailureKind::Empty,
                format!("{url} is an empty page built by JavaScript: declare it with fetcher = \"browser\""),
            ),
            Verdict::NotTheDocument { page, evidence } => Failure::new(
                page.failure_kind(),
                format!(
                    "{url} is {}, not the document ({evidence}); nothing was recorded",
                    page.describe()
                ),
            ),
        }
    }
}

/// Vendor markers of challenge and block pages (on a stub-sized page).
const VENDOR_MARKERS: &[(&str, &str)] = &[
    ("cdn-cgi/challenge-platform", "Cloudflare challenge"),
    ("cf-chl-", "Cloudflare challenge"),
    ("cf_chl_opt", "Cloudflare challenge"),
    ("cf-error-details", "Cloudflare block page"),
    ("captcha-delivery.com", "DataDome captcha"),
    ("geo.captcha-delivery", "DataDome captcha"),
    ("_pxcaptcha", "PerimeterX captcha"),
    ("px-captcha", "PerimeterX captcha"),
    ("_incapsula_resource", "Imperva (Incapsula) block page"),
    ("incapsula incident id", "Imperva (Incapsula) block page"),
    ("errors.edgesuite.net", "Akamai denial page"),
    ("awswaf", "AWS WAF challenge"),
    ("challenges.cloudflare.com/turnstile", "Cloudflare Turnstile challenge"),
];

/// Titles of challenge and denial pages; they count only on a stub-sized page.
const WALL_TITLES: &[(&str, &str)] = &[
    ("just a moment", "Cloudflare challenge"),
    ("attention required", "Cloudflare block page"),
    ("access denied", "denial page"),
    ("access to this page has been denied", "PerimeterX block page"),
    ("request unsuccessful", "Imperva (Incapsula) block page"),
    ("are you a robot", "captcha"),
    ("are you a human", "captcha"),
    ("human verification", "captcha"),
    ("verify you are human", "captcha"),
    ("security check", "challenge page"),
    ("pardon our interruption", "Distil/Imperva challenge"),
    ("please wait", "challenge page"),
    ("robot check", "captcha"),
    ("you have been blocked", "block page"),
    ("403 forbidden", "denial page"),
    // The same pages as Cloudflare and others localize them, in the languages the text
    // checks cover (docs/tracking.md): French, German, Spanish, Italian, Portuguese,
    // Dutch, Chinese.
    ("un instant", "Cloudflare challenge"),
    ("einen moment", "Cloudflare challenge"),
    ("un momento", "Cloudflare challenge"),
    ("solo un attimo", "Cloudflare challenge"),
    ("um momento", "Cloudflare challenge"),
    ("een ogenblik", "Cloudflare challenge"),
    ("请稍候", "Cloudflare challenge"),
    ("vous avez été bloqué", "block page"),
    ("sie wurden blockiert", "block page"),
    ("ha sido bloqueado", "block page"),
    ("sei stato bloccato", "block page"),
    ("você foi bloqueado", "block page"),
    ("u bent geblokkeerd", "block page"),
    ("您已被阻止", "block page"),
];

/// Phrases in the body of stub-sized challenge pages.
const WALL_PHRASES: &[(&str, &str)] = &[
    ("checking your browser", "browser-check challenge"),
    ("enable javascript and cookies to continue", "browser-check challenge"),
    ("please enable js and disable any ad blocker", "DataDome captcha"),
    ("verify you are human", "captcha"),
    ("you don't have permission to access", "Akamai denial page"),
    ("press & hold", "PerimeterX captcha"),
    ("unusual traffic from your computer", "captcha"),
    ("g-recaptcha", "captcha"),
    ("h-captcha", "captcha"),
];

const NOT_FOUND_TITLES: &[&str] = &[
    "404",
    "page not found",
    "not found",
    "page introuvable",
    "page non trouvée",
    "seite nicht gefunden",
    "página no encontrada",
    "pagina non trovata",
    "this page isn't available",
    "this page doesn't exist",
    "page does not exist",
    "we can't find that page",
    "couldn't find this page",
];

/// Markers of a script-built application shell.
const APP_ROOTS: &[&str] = &[
    "id=\"root\"",
    "id=\"app\"",
    "id=\"__next\"",
    "id=\"__nuxt\"",
    "id=\"svelte\"",
    "ng-app",
    "ng-version",
    "data-reactroot",
    "you need to enable javascript to run this app",
];

/// Judges an HTML page. `None` means it may well be the document.
pub fn inspect(html: &str) -> Option<Verdict> {
    let head = &html[..floor_char_boundary(html, SCAN_BYTES)];
    // Every verdict needs a stub-sized page: vendors inject their scripts (Cloudflare's
    // `/cdn-cgi/challenge-platform/scripts/jsd/main.js`) into real pages too.
    let text_len = visible_text_len(html, STUB_TEXT);
    if text_len >= STUB_TEXT {
        return None;
    }
    let lower = head.to_lowercase();
    if let Some((_, vendor)) = VENDOR_MARKERS.iter().find(|(marker, _)| lower.contains(marker)) {
        return Some(Verdict::BotWall((*vendor).to_string()));
    }
    let title = title(&lower).unwrap_or_default();
    if let Some((_, what)) = WALL_TITLES.iter().find(|(t, _)| title.contains(t)) {
        return Some(Verdict::BotWall((*what).to_string()));
    }
    if let Some((_, what)) = WALL_PHRASES.iter().find(|(p, _)| lower.contains(p)) {
        return Some(Verdict::BotWall((*what).to_string()));
    }
    let heading = first_heading(&lower).unwrap_or_default();
    if NOT_FOUND_TITLES
        .iter()
        .any(|t| title.contains(t) || heading.contains(t))
    {
        return Some(Verdict::SoftNotFound(if title.is_empty() { heading } else { title }));
    }
    if text_len < 200 && APP_ROOTS.iter().any(|r| lower.contains(r)) {
        return Some(Verdict::NeedsScripts);
    }
    None
}

/// With a title, a first heading or first lines that say "error", "not found", "sign in"
/// and the like, a text is an error page unless it has at least this many characters
/// of prose: real policies have tens of thousands, error pages a few hundred.
const PROSE_WITH_TITLE_SIGNAL: usize = 2_500;
/// A specific error phrase anywhere in the text ("something went wrong", "page you are
/// looking for") makes it an error page only when it is a stub this small: policies
/// talk about errors, logins and cookies too.
const PROSE_WITH_BODY_SIGNAL: usize = 1_000;
const TEXT_WITH_BODY_SIGNAL: usize = 4_000;
/// An error page says what went wrong in a few sentences; a short policy with an error
/// notice in it has more.
const SENTENCES_WITH_BODY_SIGNAL: usize = 6;
/// How many of the text's first lines count as its title.
const TITLE_LINES: usize = 3;
/// A first line of more words than this is a sentence, not a title.
const TITLE_WORDS: usize = 8;

/// Signals looked for in a page's title, its first heading and the first lines of its
/// text, word for word (lowercase, straight apostrophes). They count only on a text
/// with little prose (see [`PROSE_WITH_TITLE_SIGNAL`]). Earlier entries win.
const TITLE_SIGNALS: &[(PageKind, &[&str])] = &[
    (
        PageKind::Denied,
        &[
            "access denied",
            "forbidden",
            "403",
            "401",
            "unauthorized",
            "not authorized",
            "permission denied",
            "too many requests",
            "not available in your country",
            "not available in your region",
            "accès refusé",
            "accès interdit",
            "zugriff verweigert",
            "zugang verweigert",
            "acceso denegado",
            "accesso negato",
            "acesso negado",
            "toegang geweigerd",
            "访问被拒绝",
            "禁止访问",
        ],
    ),
    (
        PageKind::NotFound,
        &[
            "404",
            "not found",
            "page not found",
            "isn't available",
            "is not available",
            "doesn't exist",
            "does not exist",
            "no longer available",
            "can't find",
            "cannot find",
            "couldn't find",
            "could not find",
            "can't be found",
            "cannot be found",
            "could not be found",
            // French, German, Spanish, Italian, Portuguese, Dutch, Chinese
            "introuvable",
            "page non trouvée",
            "n'existe pas",
            "n'existe plus",
            "nicht gefunden",
            "existiert nicht",
            "nicht mehr verfügbar",
            "no encontrada",
            "no encontrado",
            "no existe",
            "non trovata",
            "non trovato",
            "non esiste",
            "não encontrada",
            "não encontrado",
            "não existe",
            "niet gevonden",
            "bestaat niet",
            "页面不存在",
            "找不到",
            "未找到",
        ],
    ),
    (
        PageKind::Error,
        &[
            "error",
            "oops",
            "something went wrong",
            "went wrong",
            "we're sorry",
            "we are sorry",
            "sorry",
            "internal server error",
            "bad gateway",
            "service unavailable",
            "gateway timeout",
            "try again later",
            "erreur",
            "oups",
            "désolé",
            "désolés",
            "fehler",
            "hoppla",
            "es tut uns leid",
            "schiefgelaufen",
            "schief gelaufen",
            "ups",
            "lo sentimos",
            "algo salió mal",
            "errore",
            "ci dispiace",
            "spiacenti",
            "andato storto",
            "erro",
            "desculpe",
            "lamentamos",
            "algo deu errado",
            "fout",
            "oeps",
            "misgegaan",
            "ging iets mis",
            "het spijt ons",
            "出错",
            "错误",
            "抱歉",
            "请稍后再试",
        ],
    ),
    (
        PageKind::Maintenance,
        &[
            "maintenance",
            "temporarily unavailable",
            "be back soon",
            "we'll be back",
            "back shortly",
            "temporairement indisponible",
            "wartung",
            "wartungsarbeiten",
            "vorübergehend nicht verfügbar",
            "mantenimiento",
            "temporalmente no disponible",
            "manutenzione",
            "temporaneamente non disponibile",
            "manutenção",
            "temporariamente indisponível",
            "onderhoud",
            "tijdelijk niet beschikbaar",
            "维护",
            "暂时无法访问",
        ],
    ),
    (
        PageKind::ConsentWall,
        &[
            // Not "accept all" and the like: real pages open with cookie banners too (see
            // CONSENT_BUTTONS for how those count).
            "before you continue",
            "cookie consent",
            "consent required",
            "avant de continuer",
            "bevor sie fortfahren",
            "bevor du fortfährst",
            "antes de continuar",
            "prima di continuare",
            "voordat je verdergaat",
            "voordat u verdergaat",
            "继续之前",
        ],
    ),
    (
        PageKind::LoginWall,
        &[
            "sign in",
            "sign-in",
            "log in",
            "log into",
            "login",
            "sign up",
            "connexion",
            "se connecter",
            "connectez-vous",
            "identifiez-vous",
            "anmelden",
            "anmeldung",
            "einloggen",
            "iniciar sesión",
            "inicia sesión",
            "accedi",
            "effettua l'accesso",
            "iniciar sessão",
            "inicie sessão",
            "fazer login",
            "faça login",
            "inloggen",
            "aanmelden",
            "登录",
            "登入",
        ],
    ),
];

/// Phrases that make a stub-sized text (see [`PROSE_WITH_BODY_SIGNAL`]) an error page
/// wherever they are: each says plainly that the page is not the content asked for.
const BODY_SIGNALS: &[(PageKind, &[&str])] = &[
    (
        PageKind::NotFound,
        &[
            "page not found",
            "page you requested",
            "page you are looking for",
            "page you're looking for",
            "page you were looking for",
            "page could not be found",
            "page can't be found",
            "page cannot be found",
            "page doesn't exist",
            "page does not exist",
            "page no longer exists",
            "page introuvable",
            "page demandée",
            "page que vous recherchez",
            "seite nicht gefunden",
            "gesuchte seite",
            "página no encontrada",
            "página que buscas",
            "pagina non trovata",
            "pagina che stai cercando",
            "página não encontrada",
            "página que procura",
            "pagina niet gevonden",
            "pagina die je zoekt",
            "页面不存在",
            "找不到页面",
            "找不到您要的页面",
        ],
    ),
    (
        PageKind::Denied,
        &[
            "access denied",
            "you don't have permission",
            "you do not have permission",
            "not available in your country",
            "not available in your region",
            "accès refusé",
            "zugriff verweigert",
            "acceso denegado",
            "accesso negato",
            "acesso negado",
            "toegang geweigerd",
            "访问被拒绝",
        ],
    ),
    (
        PageKind::Maintenance,
        &[
            "under maintenance",
            "scheduled maintenance",
            "down for maintenance",
            "temporarily unavailable",
            "en maintenance",
            "en cours de maintenance",
            "temporairement indisponible",
            "wartungsarbeiten",
            "vorübergehend nicht verfügbar",
            "en mantenimiento",
            "temporalmente no disponible",
            "in manutenzione",
            "temporaneamente non disponibile",
            "em manutenção",
            "temporariamente indisponível",
            "in onderhoud",
            "tijdelijk niet beschikbaar",
            "系统维护",
            "正在维护",
            "暂时无法访问",
        ],
    ),
    (
        PageKind::Error,
        &[
            "something went wrong",
            "an error occurred",
            "an error has occurred",
            "unexpected error",
            "try again later",
            "internal server error",
            "service unavailable",
            "we're sorry",
            "we are sorry",
            "une erreur s'est produite",
            "une erreur est survenue",
            "réessayez plus tard",
            "réessayer plus tard",
            "quelque chose s'est mal passé",
            "un problème est survenu",
            "nous sommes désolés",
            "etwas ist schiefgelaufen",
            "etwas ist schief gelaufen",
            "ein fehler ist aufgetreten",
            "versuchen sie es später",
            "versuche es später",
            "es tut uns leid",
            "algo salió mal",
            "se ha producido un error",
            "ha ocurrido un error",
            "más tarde lo intentes",
            "lo sentimos",
            "qualcosa è andato storto",
            "si è verificato un errore",
            "riprova più tardi",
            "ci dispiace",
            "algo deu errado",
            "ocorreu um erro",
            "tente novamente mais tarde",
            "lamentamos",
            "er is iets misgegaan",
            "er ging iets mis",
            "er is een fout opgetreden",
            "probeer het later",
            "het spijt ons",
            "出错了",
            "发生错误",
            "请稍后再试",
            "请稍后重试",
            "抱歉",
        ],
    ),
    (
        PageKind::ConsentWall,
        &[
            "before you continue",
            "avant de continuer",
            "bevor sie fortfahren",
            "bevor du fortfährst",
            "voordat je verdergaat",
            "voordat u verdergaat",
            "继续之前",
        ],
    ),
    (
        PageKind::LoginWall,
        &[
            "sign in to continue",
            "log in to continue",
            "sign in to view",
            "log in to view",
            "log in to see",
            "sign in to see",
            "you must be logged in",
            "you need to log in",
            "you need to sign in",
            "please log in",
            "please sign in",
            "connectez-vous pour",
            "vous devez être connecté",
            "melden sie sich an",
            "anmelden, um",
            "inicia sesión para",
            "debes iniciar sesión",
            "accedi per",
            "devi effettuare l'accesso",
            "faça login para",
            "inicie sessão para",
            "log in om",
            "je moet ingelogd zijn",
            "请登录",
            "登录后",
        ],
    ),
];

/// Judges a text about to be recorded: the canonical text, with the snapshot it came
/// from (its title and first heading when it is HTML). `None` means it may well be the
/// document. This is the check every path that records a version goes through (see
/// `track::new_version`), whatever fetched or imported the text.
pub fn judge_text(text: &str, snapshot: &[u8], snapshot_ext: &str) -> Option<Verdict> {
    let shape = Shape::of(text);
    if shape.prose >= PROSE_WITH_TITLE_SIGNAL {
        return None;
    }
    if let Some(signal) = title_signal(text, snapshot, snapshot_ext) {
        return Some(Verdict::NotTheDocument {
            page: signal.page,
            evidence: format!(
                "{}, and the text has {} characters of prose",
                signal.evidence, shape.prose
            ),
        });
    }
    if shape.prose < PROSE_WITH_BODY_SIGNAL
        && shape.chars < TEXT_WITH_BODY_SIGNAL
        && shape.sentences <= SENTENCES_WITH_BODY_SIGNAL
    {
        let body = normalize(text);
        if let Some((page, phrase)) = find_signal(BODY_SIGNALS, &body) {
            return Some(Verdict::NotTheDocument {
                page,
                evidence: format!(
                    "its text says {phrase:?} and has {} characters of prose in {} characters",
                    shape.prose, shape.chars
                ),
            });
        }
        if let Some(button) = CONSENT_BUTTONS.iter().find(|b| contains_words(&body, b)) {
            let lines: Vec<String> = text.lines().filter(|l| !l.trim().is_empty()).map(normalize).collect();
            let about_consent = lines
                .iter()
                .filter(|l| CONSENT_WORDS.iter().any(|w| l.contains(w)))
                .count();
            // A real page may carry a cookie banner; a consent wall is nothing else.
            if about_consent * 4 >= lines.len() * 3 {
                return Some(Verdict::NotTheDocument {
                    page: PageKind::ConsentWall,
                    evidence: format!(
                        "its text offers {button:?} and {about_consent} of its {} lines are about consent",
                        lines.len()
                    ),
                });
            }
        }
    }
    None
}

/// A title, first heading or first short line that says what a page that is not the
/// document says ("Page Not Found", "Sign in", "Error").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleSignal {
    pub page: PageKind,
    /// `the title "page not found" says "not found"`.
    pub evidence: String,
}

/// The first [`TitleSignal`] of a text (with the snapshot it came from, whose `<title>`
/// and first `<h1>` count when it is HTML), whatever its length: [`judge_text`] heeds it
/// only on little prose, `track` also when the text shares almost nothing with the
/// document's last version (an error page wrapped in article teasers).
pub fn title_signal(text: &str, snapshot: &[u8], snapshot_ext: &str) -> Option<TitleSignal> {
    let mut places: Vec<(&str, String)> = Vec::new();
    if snapshot_ext == "html" {
        let head = &snapshot[..snapshot.len().min(SCAN_BYTES)];
        let lower = String::from_utf8_lossy(head).to_lowercase();
        if let Some(title) = title(&lower).filter(|t| !t.is_empty()) {
            places.push(("title", title));
        }
        if let Some(heading) = first_heading(&lower).filter(|t| !t.is_empty()) {
            places.push(("heading", heading));
        }
    }
    if let Some(heading) = text.lines().find(|l| l.starts_with('#')) {
        places.push(("heading", heading.trim_start_matches('#').trim().to_string()));
    }
    // The first lines stand for a title when they are as short as titles: a sentence
    // is prose, and is held to the body's stricter phrases (see [`judge_text`]).
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(TITLE_LINES) {
        if line.split_whitespace().count() <= TITLE_WORDS && line.chars().count() <= 60 {
            places.push(("first lines", line.to_string()));
        }
    }
    let places: Vec<(&str, String)> = places
        .into_iter()
        .map(|(place, said)| (place, normalize(&said)))
        .collect();
    // Kind by kind, so that "Error" in the title and "page not found" in the heading
    // make a "not found" page.
    for (page, phrases) in TITLE_SIGNALS {
        for (place, said) in &places {
            // A menu left in the text starts with "Log in" or "Accept cookies" on real
            // pages too: walls are told by their title and heading only.
            if *place == "first lines" && matches!(page, PageKind::LoginWall | PageKind::ConsentWall) {
                continue;
            }
            if let Some(phrase) = phrases.iter().find(|phrase| contains_words(said, phrase)) {
                return Some(TitleSignal {
                    page: *page,
                    evidence: format!("the {place} {:?} says {phrase:?}", ellipsis(said, 80)),
                });
            }
        }
    }
    None
}

/// The buttons of a consent dialog.
const CONSENT_BUTTONS: &[&str] = &[
    "accept all",
    "reject all",
    "accept cookies",
    "allow all",
    "agree",
    "i agree",
    "tout accepter",
    "tout refuser",
    "accepter",
    "alle akzeptieren",
    "alle ablehnen",
    "akzeptieren",
    "aceptar todo",
    "rechazar todo",
    "aceptar",
    "accetta tutto",
    "rifiuta tutto",
    "accetta",
    "aceitar tudo",
    "rejeitar tudo",
    "aceitar",
    "alles accepteren",
    "alles weigeren",
    "accepteren",
    "接受所有",
    "拒绝所有",
    "同意",
];

/// Words of the lines of a consent dialog (lowercase stems, matched inside words).
const CONSENT_WORDS: &[&str] = &[
    "cookie",
    "consent",
    "accept",
    "reject",
    "refuse",
    "agree",
    "partner",
    "privacy",
    "personali",
    "advertis",
    "preference",
    "choice",
    "settings",
    "manage",
    "options",
    "consentement",
    "accepter",
    "refuser",
    "paramètres",
    "confidentialité",
    "einwillig",
    "zustimm",
    "akzeptier",
    "ablehn",
    "einstellung",
    "datenschutz",
    "consentimiento",
    "acept",
    "rechaz",
    "configuración",
    "privacidad",
    "consenso",
    "accett",
    "rifiut",
    "impostazioni",
    "consentimento",
    "aceit",
    "rejeit",
    "definições",
    "privacidade",
    "toestemming",
    "accepteer",
    "weiger",
    "instellingen",
    "同意",
    "拒绝",
    "隐私",
    "设置",
];

/// How much of a canonical text is prose: sentences of six words or more (fifteen
/// CJK characters) ending as sentences end. Menus, link lists and footers are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Characters in prose lines.
    pub prose: usize,
    /// Non-space characters in the whole text.
    pub chars: usize,
    /// Prose lines (sentences).
    pub sentences: usize,
}

impl Shape {
    pub fn of(text: &str) -> Shape {
        let mut shape = Shape {
            prose: 0,
            chars: 0,
            sentences: 0,
        };
        for line in text.lines() {
            let line = line.trim();
            shape.chars += line.chars().filter(|c| !c.is_whitespace()).count();
            let words = line.split_whitespace().count();
            let cjk = line.chars().filter(|&c| is_cjk(c)).count();
            let ends_as_sentence = line
                .trim_end_matches(['"', '\'', ')', '”', '’', '»', '|', ' '])
                .ends_with(['.', '!', '?', ':', ';', '。', '！', '？', '：']);
            if ends_as_sentence && (words >= 6 || cjk >= 15) {
                shape.prose += line.chars().count();
                shape.sentences += 1;
            }
        }
        shape
    }
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c), 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF)
}

/// Lowercase, straight apostrophes, common entities undone, spaces collapsed.
fn normalize(s: &str) -> String {
    let s = s
        .to_lowercase()
        .replace(['’', '‘', 'ʼ'], "'")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&apos;", "'")
        .replace("&rsquo;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace('\u{a0}', " ");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max).collect();
    cut.push('…');
    cut
}

/// The first signal of `table` found in `said` as whole words.
fn find_signal(table: &[(PageKind, &[&'static str])], said: &str) -> Option<(PageKind, &'static str)> {
    table.iter().find_map(|(page, phrases)| {
        phrases
            .iter()
            .find(|phrase| contains_words(said, phrase))
            .map(|phrase| (*page, *phrase))
    })
}

/// Whether `phrase` occurs in `hay` not glued to letters or digits on either side (CJK
/// phrases are matched anywhere: those scripts do not separate words).
fn contains_words(hay: &str, phrase: &str) -> bool {
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() && !is_cjk(c));
    hay.match_indices(phrase).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + phrase.len()..].chars().next();
        let first = phrase.chars().next();
        let last = phrase.chars().next_back();
        let glued_before = glued(first) && glued(before);
        let glued_after = glued(last) && glued(after);
        !glued_before && !glued_after
    })
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    if index >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn title(lower: &str) -> Option<String> {
    element_text(lower, "<title")
}

fn first_heading(lower: &str) -> Option<String> {
    element_text(lower, "<h1")
}

/// The text of the first element opened by `open_tag`, tags stripped and spaces collapsed.
fn element_text(lower: &str, open_tag: &str) -> Option<String> {
    let start = lower.find(open_tag)?;
    let content_start = start + lower[start..].find('>')? + 1;
    let name = &open_tag[1..];
    let end = content_start + lower[content_start..].find(&format!("</{name}"))?;
    let mut text = String::new();
    let mut in_tag = false;
    for c in lower[content_start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Visible characters of a page, roughly: tags, comments, scripts and styles skipped,
/// whitespace not counted. Enough to tell a stub from a document. Counting stops at
/// `limit`: every page is checked, and a document is told from a stub in its first
/// paragraphs.
pub fn visible_text_len(html: &str, limit: usize) -> usize {
    let bytes = html.as_bytes();
    let lower_at = |i: usize, needle: &str| {
        bytes.len() >= i + needle.len() && bytes[i..i + needle.len()].eq_ignore_ascii_case(needle.as_bytes())
    };
    let find_from = |i: usize, needle: &str| -> usize {
        let n = needle.as_bytes();
        bytes[i..]
            .windows(n.len())
            .position(|w| w.eq_ignore_ascii_case(n))
            .map_or(bytes.len(), |p| i + p + n.len())
    };
    let (mut i, mut count) = (0, 0);
    while i < bytes.len() && count < limit {
        let b = bytes[i];
        if b == b'<' {
            i = if lower_at(i, "<!--") {
                find_from(i, "-->")
            } else if lower_at(i, "<script") {
                find_from(i, "</script>")
            } else if lower_at(i, "<style") {
                find_from(i, "</style>")
            } else if lower_at(i, "<noscript") {
                find_from(i, "</noscript>")
            } else {
                bytes[i..]
                    .iter()
                    .position(|&c| c == b'>')
                    .map_or(bytes.len(), |p| i + p + 1)
            };
            continue;
        }
        // Count characters, not bytes: skip UTF-8 continuation bytes.
        if !b.is_ascii_whitespace() && (b & 0xC0) != 0x80 {
            count += 1;
        }
        i += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(extra: &str) -> String {
        format!(
            "<html><head><title>Privacy Policy</title></head><body>{extra}<main>{}</main></body></html>",
            "<p>We may deny access to accounts that violate these terms, and we use captcha checks.</p>".repeat(40)
        )
    }

    #[test]
    fn challenge_pages_are_bot_walls() {
        let cloudflare = "<html><head><title>Just a moment...</title></head><body><div id=cf-wrapper>\
                          <script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1\"></script>\
                          Checking your browser before accessing example.com.</div></body></html>";
        assert!(matches!(inspect(cloudflare), Some(Verdict::BotWall(v)) if v.contains("Cloudflare")));
        let akamai = "<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY><H1>Access Denied</H1>\
                      You don't have permission to access \"http://www.example.com/legal\" on this server.<P>\
                      Reference #18.5c7d3e17.1700000000.1a2b3c</BODY></HTML>";
        assert!(matches!(inspect(akamai), Some(Verdict::BotWall(_))));
        let datadome = "<html><head><title>example.com</title></head><body><p>Please enable JS and disable any ad blocker</p>\
                        <script>var dd={'cid':'x','host':'geo.captcha-delivery.com'}</script></body></html>";
        assert!(matches!(inspect(datadome), Some(Verdict::BotWall(v)) if v.contains("DataDome")));
        let perimeterx = "<html><head><title>Access to this page has been denied.</title></head>\
                          <body><div id=\"px-captcha\"></div><p>Press &amp; Hold to confirm you are a human</p></body></html>";
        assert!(matches!(inspect(perimeterx), Some(Verdict::BotWall(_))));
        let incapsula = "<html><head><META NAME=\"robots\" CONTENT=\"noindex,nofollow\"></head><body>\
                         <iframe src=\"/_Incapsula_Resource?CWUDNSAI=1\">Request unsuccessful. Incapsula incident ID: 1-2</iframe></body></html>";
        assert!(matches!(inspect(incapsula), Some(Verdict::BotWall(v)) if v.contains("Imperva")));
    }

    #[test]
    fn policies_that_mention_access_and_captchas_are_documents() {
        assert_eq!(inspect(&policy("")), None);
        assert_eq!(inspect(&policy("<nav>Access denied? Contact support.</nav>")), None);
        let with_bot_detection = policy("<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script>");
        assert_eq!(
            inspect(&with_bot_detection),
            None,
            "Cloudflare injects its script into real pages"
        );
    }

    #[test]
    fn soft_404s_and_script_shells() {
        let soft = "<html><head><title>Page Not Found | Example</title></head><body><h1>Oops</h1><p>Try the home page.</p></body></html>";
        assert!(matches!(inspect(soft), Some(Verdict::SoftNotFound(_))));
        let french = "<html><head><title>Example</title></head><body><h1>Page introuvable</h1></body></html>";
        assert!(matches!(inspect(french), Some(Verdict::SoftNotFound(_))));
        let shell = "<!doctype html><html><head><title>Example</title><script src=/app.js></script></head>\
                     <body><noscript>You need to enable JavaScript to run this app.</noscript><div id=\"root\"></div></body></html>";
        assert_eq!(inspect(shell), Some(Verdict::NeedsScripts));
    }

    #[test]
    fn error_phrases_count_as_whole_words_and_only_on_little_prose() {
        assert!(contains_words("error 404", "404"));
        assert!(!contains_words("terror", "error"));
        assert!(!contains_words("clause 4041", "404"));
        assert!(contains_words("抱歉，您访问的页面不存在", "页面不存在"));
        let html = b"<html><head><title>Page Not Found</title></head></html>";
        let stub = "# Oops\n\nTry the home page.\n";
        assert!(matches!(
            judge_text(stub, html, "html"),
            Some(Verdict::NotTheDocument {
                page: PageKind::NotFound,
                ..
            })
        ));
        let sentence = "We keep the data you give us for as long as your account is open.\n";
        let long = format!(
            "# Page not found: how we handle missing pages\n\n{}",
            sentence.repeat(40)
        );
        assert_eq!(judge_text(&long, b"", "md"), None, "a real text, whatever its title");
        assert_eq!(Shape::of(&long).prose, 65 * 40);
        let menu = "- Home\n- Products\n- Help Center\n";
        assert_eq!(Shape::of(menu).prose, 0);
    }

    #[test]
    fn visible_text_skips_markup_and_scripts() {
        assert_eq!(
            visible_text_len(
                "<p>ab <b>c</b></p><script>var x = '<p>long</p>';</script><!-- note -->é",
                usize::MAX
            ),
            4
        );
        assert_eq!(visible_text_len("<p>abcdef</p>", 3), 3, "counting stops at the limit");
    }
}
