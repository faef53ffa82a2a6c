//! XML bodies: a parsed document that answers the XPath forms rules use (`XML:/*`,
//! `XML://@*`). External entities are never loaded.
//!
//! libmodsecurity parses with libxml2 (`src/request_body_processor/xml.cc`) and evaluates
//! the `XML:` selector with `xmlXPathEvalExpression`, returning each selected node's
//! string value (`xmlNodeGetContent`). We parse with `roxmltree` (pure Rust, maintained,
//! builds for wasm32-wasip1): it performs no I/O at all, so a `SYSTEM` entity can never be
//! fetched (libmodsecurity's default, `SecXmlExternalEntity Off`); references to external
//! entities are an error. Internal entities are expanded with roxmltree's own loop and
//! depth checks, and we cap the node count, so billion-laughs style documents fail fast.
//!
//! Supported selectors (what CRS and common rules use), anything else yields nothing:
//! `/*` (root string value), `//@*` (every attribute value), absolute paths of element
//! names or `*` (`/a/b`, `/a/*/c`), paths from anywhere (`//name`, `//a/b`), steps with a
//! `[local-name()='x']` or `[name()='x']` predicate (libmodsecurity regression
//! `variable-XML.json`), each optionally ending in `/text()` (direct text nodes), `/@name`
//! or `/@*` (attributes).
//! Not here: XML schema/DTD validation (`@validateSchema`, `@validateDTD`) and namespaces
//! in selectors (`xmlns` action): names match on the local name.

/// Most nodes a document may have; beyond that parsing fails (entity expansion bombs).
const NODES_LIMIT: u32 = 100_000;

/// One element, flattened.
#[derive(Debug, Clone)]
struct Element {
    name: String,
    parent: Option<usize>,
    /// The text nodes of this element's subtree are `XmlDoc::texts[text_start..text_end]`
    /// (document order), so the XPath string value is their concatenation.
    text_start: usize,
    text_end: usize,
    /// Indices of direct text children in `XmlDoc::texts`.
    own_texts: Vec<usize>,
    /// Attributes as (local name, value), in document order.
    attributes: Vec<(String, Vec<u8>)>,
}

/// A parsed XML document.
#[derive(Debug, Default, Clone)]
pub struct XmlDoc {
    /// Elements in document order; index 0 is the root element.
    elements: Vec<Element>,
    /// Every text node (CDATA included, entities expanded), in document order.
    texts: Vec<Vec<u8>>,
}

impl XmlDoc {
    /// Evaluates an XPath expression from a rule's `XML:` selector; returns the string
    /// values of the selected nodes.
    pub fn xpath(&self, expr: &str) -> Vec<Vec<u8>> {
        let expr = expr.trim();
        if expr == "//@*" {
            return self
                .elements
                .iter()
                .flat_map(|e| e.attributes.iter().map(|(_, v)| v.clone()))
                .collect();
        }
        // `//first/...`: the first step selects matching elements anywhere; `/first/...`:
        // only the root. Later steps select children.
        let (anywhere, rest) = match expr.strip_prefix("//") {
            Some(rest) => (true, rest),
            None => match expr.strip_prefix('/') {
                Some(rest) => (false, rest),
                None => return Vec::new(),
            },
        };
        let (path, tail) = split_tail(rest);
        let mut sel: Vec<usize> = Vec::new();
        for (depth, step) in path.split('/').enumerate() {
            if step.is_empty() {
                return Vec::new();
            }
            sel = if depth == 0 && anywhere {
                (0..self.elements.len())
                    .filter(|&i| name_matches(step, &self.elements[i].name))
                    .collect()
            } else if depth == 0 {
                self.elements
                    .first()
                    .filter(|e| name_matches(step, &e.name))
                    .map(|_| vec![0])
                    .unwrap_or_default()
            } else {
                let mut member = vec![false; self.elements.len()];
                for &i in &sel {
                    if let Some(m) = member.get_mut(i) {
                        *m = true;
                    }
                }
                (0..self.elements.len())
                    .filter(|&i| {
                        self.elements[i]
                            .parent
                            .is_some_and(|p| member.get(p).copied().unwrap_or(false))
                            && name_matches(step, &self.elements[i].name)
                    })
                    .collect()
            };
        }
        let selected = sel;
        let elements = selected.into_iter().filter_map(|i| self.elements.get(i));
        match tail {
            Tail::None => elements
                .map(|e| {
                    self.texts
                        .get(e.text_start..e.text_end)
                        .unwrap_or_default()
                        .concat()
                })
                .collect(),
            Tail::Text => elements
                .flat_map(|e| {
                    e.own_texts
                        .iter()
                        .filter_map(|&t| self.texts.get(t).cloned())
                })
                .collect(),
            Tail::Attr(name) => elements
                .flat_map(|e| {
                    e.attributes
                        .iter()
                        .filter(move |(n, _)| name_matches(name, n))
                        .map(|(_, v)| v.clone())
                })
                .collect(),
        }
    }
}

enum Tail<'a> {
    None,
    Text,
    Attr(&'a str),
}

/// Splits a trailing `/text()` or `/@name` off a path.
fn split_tail(path: &str) -> (&str, Tail<'_>) {
    if let Some(p) = path.strip_suffix("/text()") {
        return (p, Tail::Text);
    }
    if let Some((p, last)) = path.rsplit_once('/') {
        if let Some(attr) = last.strip_prefix('@') {
            return (p, Tail::Attr(attr));
        }
    }
    (path, Tail::None)
}

/// Whether a location step (`name`, `*`, optionally with a `[local-name()='x']` or
/// `[name()='x']` predicate) selects an element named `name`. Any other predicate selects
/// nothing.
fn name_matches(step: &str, name: &str) -> bool {
    let (test, predicate) = match step.split_once('[') {
        Some((test, pred)) => (test, Some(pred)),
        None => (step, None),
    };
    if !(test == "*" || test == name) {
        return false;
    }
    let Some(pred) = predicate else {
        return true;
    };
    let Some(pred) = pred.strip_suffix(']') else {
        return false;
    };
    let Some((func, value)) = pred.split_once('=') else {
        return false;
    };
    if !matches!(func.trim(), "local-name()" | "name()") {
        return false;
    }
    let value = value.trim();
    let unquoted = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')));
    unquoted == Some(name)
}

/// Parses an XML body; the error message becomes `REQBODY_ERROR_MSG` (after the
/// transaction's `XML parsing error: ` prefix).
pub fn parse(body: &[u8]) -> Result<XmlDoc, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("invalid UTF-8: {e}"))?;
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        nodes_limit: NODES_LIMIT,
    };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| e.to_string())?;
    let mut elements: Vec<Element> = Vec::new();
    let mut texts: Vec<Vec<u8>> = Vec::new();
    // Open elements as (our index, roxmltree id); descendants() is pre-order, so an
    // element is closed when a node arrives whose parent is not on top of the stack.
    let mut stack: Vec<(usize, roxmltree::NodeId)> = Vec::new();
    let close = |stack: &mut Vec<(usize, roxmltree::NodeId)>,
                 elements: &mut Vec<Element>,
                 texts_len: usize| {
        if let Some(e) = stack.pop().and_then(|(i, _)| elements.get_mut(i)) {
            e.text_end = texts_len;
        }
    };
    for node in doc.root().descendants() {
        if !(node.is_element() || node.is_text()) {
            continue;
        }
        let parent = node.parent().map(|p| p.id());
        while stack.last().is_some_and(|&(_, id)| Some(id) != parent) {
            close(&mut stack, &mut elements, texts.len());
        }
        if node.is_element() {
            let parent_index = stack.last().map(|&(i, _)| i);
            stack.push((elements.len(), node.id()));
            elements.push(Element {
                name: node.tag_name().name().to_string(),
                parent: parent_index,
                text_start: texts.len(),
                text_end: texts.len(),
                own_texts: Vec::new(),
                attributes: node
                    .attributes()
                    .map(|a| (a.name().to_string(), a.value().as_bytes().to_vec()))
                    .collect(),
            });
        } else {
            if let Some(e) = stack.last().and_then(|&(i, _)| elements.get_mut(i)) {
                e.own_texts.push(texts.len());
            }
            texts.push(node.text().unwrap_or_default().as_bytes().to_vec());
        }
    }
    while !stack.is_empty() {
        close(&mut stack, &mut elements, texts.len());
    }
    Ok(XmlDoc { elements, texts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[Vec<u8>]) -> Vec<String> {
        v.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    // request-body-parser-xml.json / variable-XML.json style document.
    #[test]
    fn root_string_value_and_attributes() {
        let doc = parse(
            br#"<?xml version="1.0"?>
<xml><strom a="1">hello <b k="v">world</b><![CDATA[ cdata]]></strom><!-- no --><x>2</x></xml>"#,
        )
        .unwrap();
        assert_eq!(s(&doc.xpath("/*")), vec!["hello world cdata2"]);
        assert_eq!(s(&doc.xpath("//@*")), vec!["1", "v"]);
        assert_eq!(s(&doc.xpath("/xml/strom")), vec!["hello world cdata"]);
        assert_eq!(s(&doc.xpath("/xml/strom/text()")), vec!["hello ", " cdata"]);
        assert_eq!(s(&doc.xpath("/xml/*/b")), vec!["world"]);
        assert_eq!(s(&doc.xpath("//b")), vec!["world"]);
        assert_eq!(s(&doc.xpath("/xml/strom/@a")), vec!["1"]);
        assert_eq!(s(&doc.xpath("/xml/strom/@*")), vec!["1"]);
        assert!(doc.xpath("/nope").is_empty());
        assert!(doc.xpath("count(//b)").is_empty());
    }

    // variable-XML.json 0: `//a/*[local-name()='x']`.
    #[test]
    fn descendant_paths_and_name_predicates() {
        let doc = parse(
            b"<bookstore><some-tag>aaa</some-tag><other>ccc</other><some-tag>bbb</some-tag>\
              </bookstore>",
        )
        .unwrap();
        let want = vec!["aaa", "bbb"];
        assert_eq!(
            s(&doc.xpath("//bookstore/*[local-name()='some-tag']")),
            want
        );
        assert_eq!(s(&doc.xpath("/bookstore/*[name()=\"some-tag\"]")), want);
        assert_eq!(s(&doc.xpath("//bookstore/other")), vec!["ccc"]);
        assert!(doc.xpath("//bookstore/*[position()=1]").is_empty());
        assert!(doc
            .xpath("//bookstore/*[local-name()='some-tag'")
            .is_empty());
    }

    #[test]
    fn malformed_xml_is_an_error() {
        for bad in [
            &b"<a>"[..],
            b"<a></b>",
            b"",
            b"text",
            b"<a x='1' x='2'/>",
            b"\xff<a/>",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    // config-xml_external_entity.json: an external entity must never be loaded.
    #[test]
    fn external_entities_are_not_loaded() {
        let body = br#"<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<foo>&xxe;</foo>"#;
        // roxmltree does no I/O: the reference to the external entity is an error.
        let e = parse(body).unwrap_err();
        assert!(e.contains("unknown entity reference 'xxe'"), "{e}");
        // Internal entities are expanded.
        let doc = parse(br#"<!DOCTYPE a [ <!ENTITY e "ent"> ]><a>&e;</a>"#).unwrap();
        assert_eq!(s(&doc.xpath("/*")), vec!["ent"]);
    }

    #[test]
    fn billion_laughs_fails_fast() {
        let mut dtd = String::from("<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for i in 1..10 {
            let prev = if i == 1 {
                "lol".to_string()
            } else {
                format!("lol{}", i - 1)
            };
            dtd.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&{prev};").repeat(10)
            ));
        }
        dtd.push_str("]><lolz>&lol9;</lolz>");
        let start = std::time::Instant::now();
        assert!(parse(dtd.as_bytes()).is_err());
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u32 = 0x2545_f491;
        const ALPHABET: &[u8] = b"<>/=\"' a&;![CDATA]?xml-";
        for len in 0..400 {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    ALPHABET[x as usize % ALPHABET.len()]
                })
                .collect();
            if let Ok(doc) = parse(&buf) {
                let _ = doc.xpath("/*");
                let _ = doc.xpath("//@*");
            }
        }
    }
}
