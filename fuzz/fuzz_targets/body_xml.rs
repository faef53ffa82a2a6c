//! Fuzz target `body_xml`: `body::xml::parse` on arbitrary bytes, then XPath queries.
//!
//! The input is split at the first NUL: before it an XPath expression (UTF-8, lossy), after
//! it the body. The fixed expressions CRS uses (`/*`, `//@*`) are always queried too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wafer::body::xml;

fuzz_target!(|data: &[u8]| {
    let (expr, body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            &data[i + 1..],
        ),
        None => (String::new(), data),
    };
    if let Ok(doc) = xml::parse(body) {
        let _ = doc.xpath("/*");
        let _ = doc.xpath("//@*");
        if !expr.is_empty() {
            let _ = doc.xpath(&expr);
        }
    }
});
