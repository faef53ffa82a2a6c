//! Fuzz target `seclang`: arbitrary text through the SecLang parser and the rule compiler.
//!
//! Checks that `seclang::parse` and `RuleSet::compile` never panic, hang or overflow the
//! stack on any configuration text; errors are expected and fine. The file set holds an
//! includable file and a data file so `Include`, globs and `@pmFromFile` paths are reachable.
//! Not here: evaluating the compiled rules (see the `transaction` target).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wafer::{seclang, FileSet, RuleSet};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut files = FileSet::new();
    files.insert(
        "conf/inc.conf",
        "SecRule ARGS \"@rx a\" \"id:9,phase:1,pass\"\n",
    );
    files.insert("conf/words.data", "alpha\nbeta\n# comment\n");
    files.insert("conf/ips.data", "10.0.0.0/8\n::1\n");
    let _ = seclang::parse("conf/fuzz.conf", &text, &files);
    let _ = RuleSet::compile("conf/fuzz.conf", &text, &files);
});
