//! Variables (`ARGS`, `REQUEST_HEADERS:User-Agent`, `&TX:foo`, `!ARGS:/^x/`): parsing the
//! target list of a rule. Reading values out of a transaction is in
//! [`crate::transaction`]; this module only knows names and selectors.

use regex::bytes::Regex;

/// A variable (collection or scalar), named as in the ModSecurity reference manual.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Var {
    Args,
    ArgsGet,
    ArgsPost,
    ArgsNames,
    ArgsGetNames,
    ArgsPostNames,
    ArgsCombinedSize,
    AuthType,
    Duration,
    Env,
    Files,
    FilesCombinedSize,
    FilesNames,
    FilesSizes,
    FilesTmpNames,
    FilesTmpContent,
    FullRequest,
    FullRequestLength,
    Geo,
    HighestSeverity,
    InboundDataError,
    MatchedVar,
    MatchedVars,
    MatchedVarName,
    MatchedVarsNames,
    ModsecBuild,
    MultipartBoundaryQuoted,
    MultipartBoundaryWhitespace,
    MultipartCrlfLfLines,
    MultipartDataAfter,
    MultipartDataBefore,
    MultipartFileLimitExceeded,
    MultipartFilename,
    MultipartHeaderFolding,
    MultipartInvalidHeaderFolding,
    MultipartInvalidPart,
    MultipartInvalidQuoting,
    MultipartLfLine,
    MultipartMissingSemicolon,
    MultipartName,
    MultipartPartHeaders,
    MultipartStrictError,
    MultipartUnmatchedBoundary,
    OutboundDataError,
    PathInfo,
    QueryString,
    RemoteAddr,
    RemoteHost,
    RemotePort,
    RemoteUser,
    ReqbodyError,
    ReqbodyErrorMsg,
    ReqbodyProcessor,
    ReqbodyProcessorError,
    ReqbodyProcessorErrorMsg,
    RequestBasename,
    RequestBody,
    RequestBodyLength,
    RequestCookies,
    RequestCookiesNames,
    RequestFilename,
    RequestHeaders,
    RequestHeadersNames,
    RequestLine,
    RequestMethod,
    RequestProtocol,
    RequestUri,
    RequestUriRaw,
    Resource,
    ResponseBody,
    ResponseContentLength,
    ResponseContentType,
    ResponseHeaders,
    ResponseHeadersNames,
    ResponseProtocol,
    ResponseStatus,
    Rule,
    ServerAddr,
    ServerName,
    ServerPort,
    Session,
    SessionId,
    Status,
    StatusLine,
    Time,
    TimeDay,
    TimeEpoch,
    TimeHour,
    TimeMin,
    TimeMon,
    TimeSec,
    TimeWday,
    TimeYear,
    Tx,
    UniqueId,
    UrlencodedError,
    User,
    UserId,
    WebappId,
    WebserverErrorLog,
    Xml,
    Global,
    Ip,
}

const NAMES: &[(&str, Var)] = &[
    ("ARGS", Var::Args),
    ("ARGS_GET", Var::ArgsGet),
    ("ARGS_POST", Var::ArgsPost),
    ("ARGS_NAMES", Var::ArgsNames),
    ("ARGS_GET_NAMES", Var::ArgsGetNames),
    ("ARGS_POST_NAMES", Var::ArgsPostNames),
    ("ARGS_COMBINED_SIZE", Var::ArgsCombinedSize),
    ("AUTH_TYPE", Var::AuthType),
    ("DURATION", Var::Duration),
    ("ENV", Var::Env),
    ("FILES", Var::Files),
    ("FILES_COMBINED_SIZE", Var::FilesCombinedSize),
    ("FILES_NAMES", Var::FilesNames),
    ("FILES_SIZES", Var::FilesSizes),
    ("FILES_TMPNAMES", Var::FilesTmpNames),
    ("FILES_TMP_CONTENT", Var::FilesTmpContent),
    ("FULL_REQUEST", Var::FullRequest),
    ("FULL_REQUEST_LENGTH", Var::FullRequestLength),
    ("GEO", Var::Geo),
    ("HIGHEST_SEVERITY", Var::HighestSeverity),
    ("INBOUND_DATA_ERROR", Var::InboundDataError),
    ("MATCHED_VAR", Var::MatchedVar),
    ("MATCHED_VARS", Var::MatchedVars),
    ("MATCHED_VAR_NAME", Var::MatchedVarName),
    ("MATCHED_VARS_NAMES", Var::MatchedVarsNames),
    ("MODSEC_BUILD", Var::ModsecBuild),
    ("MULTIPART_BOUNDARY_QUOTED", Var::MultipartBoundaryQuoted),
    (
        "MULTIPART_BOUNDARY_WHITESPACE",
        Var::MultipartBoundaryWhitespace,
    ),
    ("MULTIPART_CRLF_LF_LINES", Var::MultipartCrlfLfLines),
    ("MULTIPART_DATA_AFTER", Var::MultipartDataAfter),
    ("MULTIPART_DATA_BEFORE", Var::MultipartDataBefore),
    (
        "MULTIPART_FILE_LIMIT_EXCEEDED",
        Var::MultipartFileLimitExceeded,
    ),
    ("MULTIPART_FILENAME", Var::MultipartFilename),
    ("MULTIPART_HEADER_FOLDING", Var::MultipartHeaderFolding),
    (
        "MULTIPART_INVALID_HEADER_FOLDING",
        Var::MultipartInvalidHeaderFolding,
    ),
    ("MULTIPART_INVALID_PART", Var::MultipartInvalidPart),
    ("MULTIPART_INVALID_QUOTING", Var::MultipartInvalidQuoting),
    ("MULTIPART_LF_LINE", Var::MultipartLfLine),
    (
        "MULTIPART_MISSING_SEMICOLON",
        Var::MultipartMissingSemicolon,
    ),
    (
        "MULTIPART_SEMICOLON_MISSING",
        Var::MultipartMissingSemicolon,
    ),
    ("MULTIPART_NAME", Var::MultipartName),
    ("MULTIPART_PART_HEADERS", Var::MultipartPartHeaders),
    ("MULTIPART_STRICT_ERROR", Var::MultipartStrictError),
    (
        "MULTIPART_UNMATCHED_BOUNDARY",
        Var::MultipartUnmatchedBoundary,
    ),
    ("OUTBOUND_DATA_ERROR", Var::OutboundDataError),
    ("PATH_INFO", Var::PathInfo),
    ("QUERY_STRING", Var::QueryString),
    ("REMOTE_ADDR", Var::RemoteAddr),
    ("REMOTE_HOST", Var::RemoteHost),
    ("REMOTE_PORT", Var::RemotePort),
    ("REMOTE_USER", Var::RemoteUser),
    ("REQBODY_ERROR", Var::ReqbodyError),
    ("REQBODY_ERROR_MSG", Var::ReqbodyErrorMsg),
    ("REQBODY_PROCESSOR", Var::ReqbodyProcessor),
    ("REQBODY_PROCESSOR_ERROR", Var::ReqbodyProcessorError),
    ("REQBODY_PROCESSOR_ERROR_MSG", Var::ReqbodyProcessorErrorMsg),
    ("REQUEST_BASENAME", Var::RequestBasename),
    ("REQUEST_BODY", Var::RequestBody),
    ("REQUEST_BODY_LENGTH", Var::RequestBodyLength),
    ("REQUEST_COOKIES", Var::RequestCookies),
    ("REQUEST_COOKIES_NAMES", Var::RequestCookiesNames),
    ("REQUEST_FILENAME", Var::RequestFilename),
    ("REQUEST_HEADERS", Var::RequestHeaders),
    ("REQUEST_HEADERS_NAMES", Var::RequestHeadersNames),
    ("REQUEST_LINE", Var::RequestLine),
    ("REQUEST_METHOD", Var::RequestMethod),
    ("REQUEST_PROTOCOL", Var::RequestProtocol),
    ("REQUEST_URI", Var::RequestUri),
    ("REQUEST_URI_RAW", Var::RequestUriRaw),
    ("RESOURCE", Var::Resource),
    ("RESPONSE_BODY", Var::ResponseBody),
    ("RESPONSE_CONTENT_LENGTH", Var::ResponseContentLength),
    ("RESPONSE_CONTENT_TYPE", Var::ResponseContentType),
    ("RESPONSE_HEADERS", Var::ResponseHeaders),
    ("RESPONSE_HEADERS_NAMES", Var::ResponseHeadersNames),
    ("RESPONSE_PROTOCOL", Var::ResponseProtocol),
    ("RESPONSE_STATUS", Var::ResponseStatus),
    ("RULE", Var::Rule),
    ("SERVER_ADDR", Var::ServerAddr),
    ("SERVER_NAME", Var::ServerName),
    ("SERVER_PORT", Var::ServerPort),
    ("SESSION", Var::Session),
    ("SESSIONID", Var::SessionId),
    ("STATUS", Var::Status),
    ("STATUS_LINE", Var::StatusLine),
    ("TIME", Var::Time),
    ("TIME_DAY", Var::TimeDay),
    ("TIME_EPOCH", Var::TimeEpoch),
    ("TIME_HOUR", Var::TimeHour),
    ("TIME_MIN", Var::TimeMin),
    ("TIME_MON", Var::TimeMon),
    ("TIME_SEC", Var::TimeSec),
    ("TIME_WDAY", Var::TimeWday),
    ("TIME_YEAR", Var::TimeYear),
    ("TX", Var::Tx),
    ("UNIQUE_ID", Var::UniqueId),
    ("URLENCODED_ERROR", Var::UrlencodedError),
    ("USER", Var::User),
    ("USERID", Var::UserId),
    ("WEBAPPID", Var::WebappId),
    ("WEBSERVER_ERROR_LOG", Var::WebserverErrorLog),
    ("XML", Var::Xml),
    ("GLOBAL", Var::Global),
    ("IP", Var::Ip),
];

impl Var {
    /// Looks a variable up by name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Var> {
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The variable's canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Var::Args => "ARGS",
            Var::ArgsGet => "ARGS_GET",
            Var::ArgsPost => "ARGS_POST",
            Var::ArgsNames => "ARGS_NAMES",
            Var::ArgsGetNames => "ARGS_GET_NAMES",
            Var::ArgsPostNames => "ARGS_POST_NAMES",
            Var::ArgsCombinedSize => "ARGS_COMBINED_SIZE",
            Var::AuthType => "AUTH_TYPE",
            Var::Duration => "DURATION",
            Var::Env => "ENV",
            Var::Files => "FILES",
            Var::FilesCombinedSize => "FILES_COMBINED_SIZE",
            Var::FilesNames => "FILES_NAMES",
            Var::FilesSizes => "FILES_SIZES",
            Var::FilesTmpNames => "FILES_TMPNAMES",
            Var::FilesTmpContent => "FILES_TMP_CONTENT",
            Var::FullRequest => "FULL_REQUEST",
            Var::FullRequestLength => "FULL_REQUEST_LENGTH",
            Var::Geo => "GEO",
            Var::HighestSeverity => "HIGHEST_SEVERITY",
            Var::InboundDataError => "INBOUND_DATA_ERROR",
            Var::MatchedVar => "MATCHED_VAR",
            Var::MatchedVars => "MATCHED_VARS",
            Var::MatchedVarName => "MATCHED_VAR_NAME",
            Var::MatchedVarsNames => "MATCHED_VARS_NAMES",
            Var::ModsecBuild => "MODSEC_BUILD",
            Var::MultipartBoundaryQuoted => "MULTIPART_BOUNDARY_QUOTED",
            Var::MultipartBoundaryWhitespace => "MULTIPART_BOUNDARY_WHITESPACE",
            Var::MultipartCrlfLfLines => "MULTIPART_CRLF_LF_LINES",
            Var::MultipartDataAfter => "MULTIPART_DATA_AFTER",
            Var::MultipartDataBefore => "MULTIPART_DATA_BEFORE",
            Var::MultipartFileLimitExceeded => "MULTIPART_FILE_LIMIT_EXCEEDED",
            Var::MultipartFilename => "MULTIPART_FILENAME",
            Var::MultipartHeaderFolding => "MULTIPART_HEADER_FOLDING",
            Var::MultipartInvalidHeaderFolding => "MULTIPART_INVALID_HEADER_FOLDING",
            Var::MultipartInvalidPart => "MULTIPART_INVALID_PART",
            Var::MultipartInvalidQuoting => "MULTIPART_INVALID_QUOTING",
            Var::MultipartLfLine => "MULTIPART_LF_LINE",
            Var::MultipartMissingSemicolon => "MULTIPART_MISSING_SEMICOLON",
            Var::MultipartName => "MULTIPART_NAME",
            Var::MultipartPartHeaders => "MULTIPART_PART_HEADERS",
            Var::MultipartStrictError => "MULTIPART_STRICT_ERROR",
            Var::MultipartUnmatchedBoundary => "MULTIPART_UNMATCHED_BOUNDARY",
            Var::OutboundDataError => "OUTBOUND_DATA_ERROR",
            Var::PathInfo => "PATH_INFO",
            Var::QueryString => "QUERY_STRING",
            Var::RemoteAddr => "REMOTE_ADDR",
            Var::RemoteHost => "REMOTE_HOST",
            Var::RemotePort => "REMOTE_PORT",
            Var::RemoteUser => "REMOTE_USER",
            Var::ReqbodyError => "REQBODY_ERROR",
            Var::ReqbodyErrorMsg => "REQBODY_ERROR_MSG",
            Var::ReqbodyProcessor => "REQBODY_PROCESSOR",
            Var::ReqbodyProcessorError => "REQBODY_PROCESSOR_ERROR",
            Var::ReqbodyProcessorErrorMsg => "REQBODY_PROCESSOR_ERROR_MSG",
            Var::RequestBasename => "REQUEST_BASENAME",
            Var::RequestBody => "REQUEST_BODY",
            Var::RequestBodyLength => "REQUEST_BODY_LENGTH",
            Var::RequestCookies => "REQUEST_COOKIES",
            Var::RequestCookiesNames => "REQUEST_COOKIES_NAMES",
            Var::RequestFilename => "REQUEST_FILENAME",
            Var::RequestHeaders => "REQUEST_HEADERS",
            Var::RequestHeadersNames => "REQUEST_HEADERS_NAMES",
            Var::RequestLine => "REQUEST_LINE",
            Var::RequestMethod => "REQUEST_METHOD",
            Var::RequestProtocol => "REQUEST_PROTOCOL",
            Var::RequestUri => "REQUEST_URI",
            Var::RequestUriRaw => "REQUEST_URI_RAW",
            Var::Resource => "RESOURCE",
            Var::ResponseBody => "RESPONSE_BODY",
            Var::ResponseContentLength => "RESPONSE_CONTENT_LENGTH",
            Var::ResponseContentType => "RESPONSE_CONTENT_TYPE",
            Var::ResponseHeaders => "RESPONSE_HEADERS",
            Var::ResponseHeadersNames => "RESPONSE_HEADERS_NAMES",
            Var::ResponseProtocol => "RESPONSE_PROTOCOL",
            Var::ResponseStatus => "RESPONSE_STATUS",
            Var::Rule => "RULE",
            Var::ServerAddr => "SERVER_ADDR",
            Var::ServerName => "SERVER_NAME",
            Var::ServerPort => "SERVER_PORT",
            Var::Session => "SESSION",
            Var::SessionId => "SESSIONID",
            Var::Status => "STATUS",
            Var::StatusLine => "STATUS_LINE",
            Var::Time => "TIME",
            Var::TimeDay => "TIME_DAY",
            Var::TimeEpoch => "TIME_EPOCH",
            Var::TimeHour => "TIME_HOUR",
            Var::TimeMin => "TIME_MIN",
            Var::TimeMon => "TIME_MON",
            Var::TimeSec => "TIME_SEC",
            Var::TimeWday => "TIME_WDAY",
            Var::TimeYear => "TIME_YEAR",
            Var::Tx => "TX",
            Var::UniqueId => "UNIQUE_ID",
            Var::UrlencodedError => "URLENCODED_ERROR",
            Var::User => "USER",
            Var::UserId => "USERID",
            Var::WebappId => "WEBAPPID",
            Var::WebserverErrorLog => "WEBSERVER_ERROR_LOG",
            Var::Xml => "XML",
            Var::Global => "GLOBAL",
            Var::Ip => "IP",
        }
    }

    /// The lower-case name under which a transaction keeps this collection's members
    /// (`TX` → `tx`); empty for variables that are not such collections.
    pub fn coll_name(self) -> &'static str {
        match self {
            Var::Tx => "tx",
            Var::Env => "env",
            Var::Ip => "ip",
            Var::Global => "global",
            Var::Session => "session",
            Var::User => "user",
            Var::Resource => "resource",
            Var::Geo => "geo",
            _ => "",
        }
    }

    /// Whether the transaction stores this collection's members itself (`TX`, `ENV`,
    /// `IP`, …: the ones with a [`Var::coll_name`]).
    pub fn is_stored(self) -> bool {
        !self.coll_name().is_empty()
    }

    /// The collection of the names of this argument collection (`ARGS` → `ARGS_NAMES`,
    /// `ARGS_GET` → `ARGS_GET_NAMES`, `ARGS_POST` → `ARGS_POST_NAMES`).
    pub fn names_collection(self) -> Option<Var> {
        match self {
            Var::Args => Some(Var::ArgsNames),
            Var::ArgsGet => Some(Var::ArgsGetNames),
            Var::ArgsPost => Some(Var::ArgsPostNames),
            _ => None,
        }
    }

    /// Whether the variable is a collection (takes `:key` selectors).
    pub fn is_collection(self) -> bool {
        matches!(
            self,
            Var::Args
                | Var::ArgsGet
                | Var::ArgsPost
                | Var::ArgsNames
                | Var::ArgsGetNames
                | Var::ArgsPostNames
                | Var::Env
                | Var::Files
                | Var::FilesNames
                | Var::FilesSizes
                | Var::FilesTmpNames
                | Var::FilesTmpContent
                | Var::Geo
                | Var::MatchedVars
                | Var::MatchedVarsNames
                | Var::MultipartFilename
                | Var::MultipartName
                | Var::MultipartPartHeaders
                | Var::RequestCookies
                | Var::RequestCookiesNames
                | Var::RequestHeaders
                | Var::RequestHeadersNames
                | Var::ResponseHeaders
                | Var::ResponseHeadersNames
                | Var::Rule
                | Var::Session
                | Var::Tx
                | Var::Xml
                | Var::User
                | Var::Global
                | Var::Ip
                | Var::Resource
        )
    }
}

/// How a target picks members of a collection.
#[derive(Debug, Clone)]
pub enum Selector {
    /// The whole collection.
    All,
    /// Members whose key equals this (compared case-insensitively, as libmodsecurity 3's
    /// anchored collections do); the key as written and lower-cased.
    Key(String, String),
    /// Members whose key matches the regex (`ARGS:/^id_/`).
    Regex(KeyPattern),
    /// An XPath expression (`XML:/*`).
    XPath(String),
}

impl Selector {
    /// Whether a member named `key` is selected.
    pub fn selects(&self, key: &[u8]) -> bool {
        match self {
            Selector::All | Selector::XPath(_) => true,
            Selector::Key(k, _) => k.as_bytes().eq_ignore_ascii_case(key),
            Selector::Regex(r) => r.is_match(key),
        }
    }

    /// The selector as written, for logs (`foo`, `/^x/`).
    pub fn text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }

    /// Appends [`Selector::text`] to `out` (no intermediate string).
    pub fn write_text(&self, out: &mut String) {
        match self {
            Selector::All => {}
            Selector::Key(k, _) | Selector::XPath(k) => out.push_str(k),
            Selector::Regex(r) => {
                out.push('/');
                out.push_str(r.re.as_str().trim_start_matches("(?i)"));
                out.push('/');
            }
        }
    }
}

/// A key regex (`ARGS:/^id_/`, `%{TX:/re/}`), compared ASCII-case-insensitively as
/// libmodsecurity 3 does, with the literal test it amounts to when it is one: a prefix
/// (`^header_name_920450_`, what CRS's key regexes mostly are) or a literal anywhere in the
/// name (922110's `MULTIPART_HEADERS_CONTENT_TYPES_*`, 931130's `rfi_parameter_.*`). CRS
/// tests every `TX` member's name against such a pattern (920450 once per request
/// header), and a byte comparison is a fraction of a regex call.
#[derive(Debug, Clone)]
pub struct KeyPattern {
    /// The compiled regex.
    pub re: Regex,
    /// The lower-case literal the pattern amounts to, and whether it must start the name.
    literal: Option<(Vec<u8>, bool)>,
}

/// Two patterns are equal when written alike.
impl PartialEq for KeyPattern {
    fn eq(&self, other: &Self) -> bool {
        self.re.as_str() == other.re.as_str()
    }
}

impl Eq for KeyPattern {}

/// Whether `b` stands for itself in a regex and may be in a literal key test.
fn plain_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

impl KeyPattern {
    /// Compiles `pat` (without the slashes).
    pub fn compile(pat: &str) -> Result<KeyPattern, regex::Error> {
        let re = regex::bytes::RegexBuilder::new(pat)
            .case_insensitive(true)
            .unicode(false)
            .build()?;
        let (anchored, body) = match pat.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, pat),
        };
        // A trailing `.*`, or `c*` after a literal ending in `c`, matches the empty string:
        // it changes nothing for a match that need not reach the end of the name.
        let body = body
            .strip_suffix(".*")
            .or_else(|| {
                let b = body.strip_suffix('*')?;
                let last = *b.as_bytes().last()?;
                (plain_key_byte(last) && b.len() > 1).then(|| &b[..b.len() - 1])
            })
            .unwrap_or(body);
        let literal = (!body.is_empty() && body.bytes().all(plain_key_byte))
            .then(|| (body.to_ascii_lowercase().into_bytes(), anchored));
        Ok(KeyPattern { re, literal })
    }

    /// The lower-case literal the pattern amounts to, if it does, and whether it must start
    /// the name (else it may be anywhere in it).
    pub fn literal(&self) -> Option<(&[u8], bool)> {
        self.literal.as_ref().map(|(l, a)| (l.as_slice(), *a))
    }

    /// Whether `key` matches.
    pub fn is_match(&self, key: &[u8]) -> bool {
        match &self.literal {
            // The first byte alone rejects most names (CRS tests ~150 `TX` names per
            // header against `^header_name_920450_`).
            Some((p, true)) => key.get(..p.len()).is_some_and(|k| {
                k[0].to_ascii_lowercase() == p[0] && k[1..].eq_ignore_ascii_case(&p[1..])
            }),
            Some((p, false)) => key.windows(p.len()).any(|w| w.eq_ignore_ascii_case(p)),
            None => self.re.is_match(key),
        }
    }
}

/// One entry of a rule's target list.
#[derive(Debug, Clone)]
pub struct Target {
    /// The variable.
    pub var: Var,
    /// Which members.
    pub selector: Selector,
    /// `&VAR`: the count of selected members instead of their values.
    pub count: bool,
    /// `!VAR:key`: an exclusion rather than a target.
    pub exclude: bool,
}

impl Target {
    /// Appends the target as written in a rule (`ARGS`, `!ARGS:foo`, `&TX:x`, `ARGS:/^id_/`).
    pub fn write_text(&self, out: &mut String) {
        if self.exclude {
            out.push('!');
        }
        if self.count {
            out.push('&');
        }
        out.push_str(self.var.name());
        if !matches!(self.selector, Selector::All) {
            out.push(':');
            self.selector.write_text(out);
        }
    }
}

/// Parses a rule's variable list (`ARGS|!ARGS:foo|&TX:x|XML:/*`).
pub fn parse_targets(text: &str) -> Result<Vec<Target>, String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Leading separators / whitespace.
        while i < b.len() && (b[i] == b'|' || b[i] == b' ') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut exclude = false;
        let mut count = false;
        loop {
            match b.get(i) {
                Some(b'!') => exclude = true,
                Some(b'&') => count = true,
                _ => break,
            }
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        let name = &text[start..i];
        let var = Var::from_name(name).ok_or_else(|| format!("unknown variable `{name}`"))?;
        if var == Var::WebserverErrorLog {
            // Never populated behind a proxy (nor by libmodsecurity 3, whose parser refuses
            // it with this message): a rule on it could never match.
            return Err(
                "Variable VARIABLE_WEBSERVER_ERROR_LOG is not supported by libModSecurity".into(),
            );
        }
        let mut selector = Selector::All;
        if b.get(i) == Some(&b':') || (b.get(i) == Some(&b'.') && var.is_collection()) {
            i += 1;
            let (key, next) = if var == Var::Xml {
                // XPath may contain slashes: it runs to the next `|`.
                let end = text[i..].find('|').map_or(text.len(), |p| i + p);
                (text[i..end].to_string(), end)
            } else {
                read_key(text, i)?
            };
            i = next;
            selector = make_selector(var, key)?;
        }
        if !matches!(selector, Selector::All) && !var.is_collection() {
            return Err(format!("variable `{name}` takes no key"));
        }
        out.push(Target {
            var,
            selector,
            count,
            exclude,
        });
        if i < b.len() && b[i] != b'|' {
            return Err(format!("unexpected `{}` in variable list", &text[i..]));
        }
    }
    if out.is_empty() {
        return Err("empty variable list".into());
    }
    Ok(out)
}

/// Reads a key after `:`; returns the key (with slashes kept for regexes) and the index
/// after it.
fn read_key(text: &str, start: usize) -> Result<(String, usize), String> {
    let b = text.as_bytes();
    let mut i = start;
    match b.get(i) {
        Some(b'\'') => {
            i += 1;
            let s = i;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            if i >= b.len() {
                return Err("unterminated quoted key".into());
            }
            Ok((text[s..i].to_string(), i + 1))
        }
        Some(b'/') => {
            // A regex key: up to the closing unescaped slash.
            i += 1;
            while i < b.len() && b[i] != b'/' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            if i >= b.len() {
                // An XPath such as `XML:/*` has no closing slash: take the rest.
                let end = text[start..].find('|').map_or(text.len(), |p| start + p);
                return Ok((text[start..end].to_string(), end));
            }
            Ok((text[start..=i].to_string(), i + 1))
        }
        _ => {
            let end = text[start..].find('|').map_or(text.len(), |p| start + p);
            Ok((text[start..end].to_string(), end))
        }
    }
}

fn make_selector(var: Var, key: String) -> Result<Selector, String> {
    if var == Var::Xml {
        return Ok(Selector::XPath(key));
    }
    if key.len() >= 2 && key.starts_with('/') && key.ends_with('/') {
        let pat = &key[1..key.len() - 1];
        let re = KeyPattern::compile(pat).map_err(|e| format!("bad key regex `{pat}`: {e}"))?;
        return Ok(Selector::Regex(re));
    }
    let lower = key.to_ascii_lowercase();
    Ok(Selector::Key(key, lower))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webserver_error_log_is_refused() {
        let e = parse_targets("ARGS|WEBSERVER_ERROR_LOG").unwrap_err();
        assert!(
            e.contains("VARIABLE_WEBSERVER_ERROR_LOG is not supported"),
            "{e}"
        );
    }

    #[test]
    fn targets_are_written_back_as_in_the_rule() {
        for t in [
            "ARGS",
            "!ARGS:foo",
            "&TX:x",
            "&ARGS",
            "ARGS:/^id_/",
            "XML:/*",
        ] {
            let parsed = parse_targets(t).unwrap();
            let mut out = String::new();
            parsed[0].write_text(&mut out);
            assert_eq!(out, t);
        }
    }

    #[test]
    fn key_patterns_that_are_literal_tests_match_as_their_regex_does() {
        let keys: &[&[u8]] = &[
            b"header_name_920450_host",
            b"HEADER_NAME_920450_x",
            b"header_name_920450_",
            b"header_name_92045",
            b"xheader_name_920450_a",
            b"",
            b"id_1",
            b"ID-2",
            b"multipart_headers_content_types_x",
            b"tx_MULTIPART_HEADERS_CONTENT_TYPE",
            b"paramcounter_",
            b"xparamcounter_7",
            b"name_920450",
            b"0_",
            b"10",
            b"id_",
        ];
        for pat in [
            "^header_name_920450_",
            "^id_",
            "^ID-",
            "^id_|x",
            "^id.",
            "id_",
            "^",
            "MULTIPART_HEADERS_CONTENT_TYPES_*",
            "name_920450_*",
            "^header_name_.*",
            "paramcounter_.*",
            "x*",
            "a.*b",
            "^id_$",
            "0_*",
        ] {
            let p = KeyPattern::compile(pat).unwrap();
            let literal = matches!(
                pat,
                "^header_name_920450_"
                    | "^id_"
                    | "^ID-"
                    | "id_"
                    | "MULTIPART_HEADERS_CONTENT_TYPES_*"
                    | "name_920450_*"
                    | "^header_name_.*"
                    | "paramcounter_.*"
                    | "0_*"
            );
            assert_eq!(p.literal.is_some(), literal, "{pat}");
            for k in keys {
                assert_eq!(
                    p.is_match(k),
                    p.re.is_match(k),
                    "{pat} on {:?}",
                    String::from_utf8_lossy(k)
                );
            }
        }
    }

    #[test]
    fn argument_collections_know_their_names_collection() {
        assert_eq!(Var::Args.names_collection(), Some(Var::ArgsNames));
        assert_eq!(Var::ArgsPost.names_collection(), Some(Var::ArgsPostNames));
        assert_eq!(Var::ArgsNames.names_collection(), None);
    }

    #[test]
    fn parses_selectors_counts_and_exclusions() {
        let t = parse_targets(
            "REQUEST_HEADERS:User-Agent|!ARGS:foo|&TX:x|ARGS:/^id_|x/|XML:/*|XML://@*",
        )
        .unwrap();
        assert_eq!(t.len(), 6);
        assert!(matches!(&t[5].selector, Selector::XPath(x) if x == "//@*"));
        assert!(
            matches!(&t[0].selector, Selector::Key(k, l) if k == "User-Agent" && l == "user-agent")
        );
        assert!(t[1].exclude);
        assert!(t[2].count);
        assert!(t[3].selector.selects(b"ID_3"));
        assert!(t[3].selector.selects(b"x"));
        assert!(matches!(&t[4].selector, Selector::XPath(x) if x == "/*"));
    }

    #[test]
    fn unknown_variables_are_errors() {
        assert!(parse_targets("NOPE").is_err());
        assert!(parse_targets("REQUEST_METHOD:x").is_err());
    }
}
