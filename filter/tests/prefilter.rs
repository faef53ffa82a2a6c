//! The rule prefilter (`filter/src/prefilter.rs`) skips rules none of whose literals occurs in
//! their values; these tests check that what it skips could not have matched and that what
//! could match still blocks.

use std::sync::Arc;

use wafer::{FileSet, RuleSet, Transaction};

fn rules(text: &str) -> Arc<RuleSet> {
    Arc::new(RuleSet::compile("test.conf", text, &FileSet::new()).expect("rules compile"))
}

/// Runs a request through phases 1 and 2; returns the status of the intervention, if any,
/// and the transaction.
fn request(rs: &Arc<RuleSet>, uri: &str, form_body: &str) -> (Option<u16>, Transaction) {
    let mut tx = Transaction::new(rs.clone(), "pf-1");
    let method = if form_body.is_empty() { "GET" } else { "POST" };
    tx.set_request_line(method, uri.as_bytes(), "HTTP/1.1");
    tx.add_request_header(b"Host", b"example.com");
    if !form_body.is_empty() {
        tx.add_request_header(b"Content-Type", b"application/x-www-form-urlencoded");
    }
    if let Some(iv) = tx.process_request_headers() {
        return (Some(iv.status), tx);
    }
    if let Some(iv) = tx.append_request_body(form_body.as_bytes()) {
        return (Some(iv.status), tx);
    }
    let status = tx.process_request_body().map(|iv| iv.status);
    (status, tx)
}

#[test]
fn benign_values_skip_rules_and_an_attack_still_blocks() {
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx (?i)\bunion\b.+\bselect\b" "id:1,phase:2,deny,t:urlDecodeUni,t:lowercase"
SecRule ARGS "@rx <script" "id:2,phase:2,deny,t:urlDecodeUni,t:lowercase"
SecRule ARGS "@pm passwd shadow" "id:3,phase:2,deny,t:urlDecodeUni,t:lowercase"
"#,
    );
    let (status, tx) = request(&rs, "/?q=shoes&page=2", "");
    assert_eq!(status, None);
    assert_eq!(
        tx.stats().skipped,
        3,
        "no literal of any rule is in the values"
    );
    // The literal is found after the rule's transformations (`%3C` decoded, case folded).
    let (status, tx) = request(&rs, "/?q=%253CScRiPt%253Ealert(1)", "");
    assert_eq!(status, Some(403));
    assert_eq!(tx.matches().last().map(|m| m.id), Some(2));
    let (status, _) = request(&rs, "/?q=1%20UNION%20all%20SELECT%201", "");
    assert_eq!(status, Some(403));
    let (status, _) = request(&rs, "/?f=/etc/PASSWD", "");
    assert_eq!(status, Some(403));
}

#[test]
fn a_lone_letter_literal_keeps_a_rule_out_of_the_prefilter() {
    // `x|<script` requires "x" or "<script"; "x" is in most values, so rule 1 is always
    // evaluated (and still matches), while rules 2 and 3 are skipped on benign values.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx x\d{9}|<script" "id:1,phase:2,deny,t:none"
SecRule ARGS "@rx <iframe" "id:2,phase:2,deny,t:none"
SecRule ARGS "@rx javascript:" "id:3,phase:2,deny,t:none"
"#,
    );
    let (status, tx) = request(&rs, "/?q=shoes", "");
    assert_eq!(status, None);
    assert_eq!(tx.stats().skipped, 2);
    assert_eq!(tx.stats().rules, 1);
    let (status, tx) = request(&rs, "/?q=x123456789", "");
    assert_eq!(status, Some(403));
    assert_eq!(tx.matches().last().map(|m| m.id), Some(1));
}

#[test]
fn an_evasion_tolerant_pattern_is_skipped_on_plain_values_without_its_words() {
    // CRS 932230's shape: optional quotes and backslashes between the letters leave no
    // literal but single letters; on values of letters, digits, space and `.,-_/:` only,
    // the word itself is needed. Any other byte makes the rule run.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx (?i)\bc[\"'\x5c]*u[\"'\x5c]*r[\"'\x5c]*l\b" "id:1,phase:2,deny,t:none"
SecRule ARGS "@rx (?i)\bw[\"'\x5c]*g[\"'\x5c]*e[\"'\x5c]*t\b" "id:2,phase:2,deny,t:none"
"#,
    );
    let (status, tx) = request(&rs, "/?q=shoes,+size+42&page=2", "");
    assert_eq!(status, None);
    assert_eq!(
        tx.stats().skipped,
        2,
        "no plain value holds `curl` or `wget`"
    );
    let (status, tx) = request(&rs, "/?q=curly+hair", "");
    assert_eq!(status, None);
    assert_eq!(
        tx.stats().skipped,
        1,
        "`curl` is there: rule 1 runs (and finds no word)"
    );
    let (status, tx) = request(&rs, "/?q=curl+-o+x", "");
    assert_eq!(status, Some(403));
    assert_eq!(tx.matches().last().map(|m| m.id), Some(1));
    // A quote makes the value not plain: both rules run, the evasion is caught.
    let (status, tx) = request(&rs, "/?q=w%27g%27et%20x", "");
    assert_eq!(status, Some(403));
    assert_eq!(tx.matches().last().map(|m| m.id), Some(2));
    let (status, tx) = request(&rs, "/?q=it%27s+fine", "");
    assert_eq!(status, None);
    assert_eq!(tx.stats().skipped, 0, "a quote marks both rules");
}

#[test]
fn a_candidate_rule_runs_only_on_the_values_holding_its_literal() {
    // The literal "<script" is in `b` only: rules 1 and 2 are candidates, but their
    // operators run on `b` alone (2 calls, not 6); the match and what it logs are unchanged.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx <script[^>]*>" "id:1,phase:2,pass,log,t:none,t:urlDecodeUni"
SecRule ARGS "@rx <script" "id:2,phase:2,deny,t:none,t:urlDecodeUni,msg:'%{MATCHED_VAR_NAME}'"
"#,
    );
    let (status, tx) = request(&rs, "/?a=shoes&b=%3Cscript%3E&c=red", "");
    assert_eq!(status, Some(403));
    assert_eq!(tx.stats().skipped, 0);
    assert_eq!(tx.stats().rules, 2);
    assert_eq!(tx.stats().op_calls, 2, "one operator call per rule, on `b`");
    let ids: Vec<u64> = tx.matches().iter().map(|m| m.id).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(tx.matches()[1].msg(), "ARGS:b");
}

#[test]
fn a_candidate_rule_sees_its_values_in_target_order_with_exclusions() {
    // Rule 1 is evaluated on the members holding its literal only: they still come target
    // by target (names before values, as written), in list order, without the excluded
    // `c`, and each match runs the rule's actions with its own MATCHED_VAR_NAME.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS_NAMES|ARGS|!ARGS:c "@rx <script" "id:1,phase:2,pass,nolog,t:none,t:urlDecodeUni,setvar:'tx.seen=%{tx.seen}|%{MATCHED_VAR_NAME}'"
SecRule ARGS "@rx <iframe" "id:2,phase:2,pass,nolog,t:none,t:urlDecodeUni"
"#,
    );
    let uri = "/?a=%253Cscript&b=x&c=%253Cscript&%253Cscript=1&d=%253Cscript&e=y";
    let (status, tx) = request(&rs, uri, "");
    assert_eq!(status, None);
    assert_eq!(
        tx.tx("seen"),
        Some(&b"|ARGS_NAMES:%3Cscript|ARGS:a|ARGS:d"[..])
    );
    assert_eq!(tx.stats().skipped, 1, "rule 2 has no literal in the values");
    assert_eq!(
        tx.stats().op_calls,
        3,
        "rule 1 runs on its three candidates only"
    );
}

#[test]
fn the_body_is_scanned_for_the_rules_that_read_it() {
    // One group: rule 1 reads arguments, rule 2 the raw body as well. The body holds
    // rule 1's literal (`%25`, decoded away in the argument) and that marks nothing; rule
    // 2's literal in the body still blocks.
    let rs = rules(
        r#"SecRuleEngine On
SecRequestBodyAccess On
SecRule ARGS "@rx %25" "id:1,phase:2,deny,t:none"
SecRule ARGS_NAMES|REQUEST_BODY "@rx include\(" "id:2,phase:2,deny,t:none"
"#,
    );
    let (status, tx) = request(&rs, "/submit", "q=x%2541");
    assert_eq!(status, None);
    assert_eq!(tx.stats().skipped, 2);
    let (status, tx) = request(&rs, "/submit", "q=include(x)");
    assert_eq!(status, Some(403));
    assert_eq!(tx.matches().last().map(|m| m.id), Some(2));
    assert_eq!(tx.stats().skipped, 1);
}

#[test]
fn a_body_shown_by_ctl_mid_phase_is_scanned_again() {
    // The XML processor hides REQUEST_BODY; rule 12's `ctl:forceRequestBodyVariable`
    // shows it after the group of rules 10, 11 and 13 was scanned without it: rule 13
    // must still see the body.
    let rs = rules(
        r#"SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@rx xml" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_BODY "@rx alpha" "id:10,phase:2,pass,log,t:none"
SecRule REQUEST_BODY "@rx beta" "id:11,phase:2,pass,log,t:none"
SecAction "id:12,phase:2,pass,nolog,ctl:forceRequestBodyVariable=On"
SecRule REQUEST_BODY "@rx gamma" "id:13,phase:2,deny,t:none"
"#,
    );
    let mut tx = Transaction::new(rs.clone(), "pf-xml");
    tx.set_request_line("POST", b"/", "HTTP/1.1");
    tx.add_request_header(b"Host", b"example.com");
    tx.add_request_header(b"Content-Type", b"text/xml");
    assert!(tx.process_request_headers().is_none());
    assert!(tx.append_request_body(b"<a>alpha gamma</a>").is_none());
    let iv = tx.process_request_body();
    assert_eq!(iv.map(|iv| iv.status), Some(403));
    let ids: Vec<u64> = tx.matches().iter().map(|m| m.id).collect();
    assert_eq!(ids, [1, 12, 13], "rule 10 ran before the body was shown");
}

#[test]
fn groups_of_a_section_share_the_scan_of_unchanged_values() {
    // Two groups of one section (chains `none` and `urlDecodeUni`) form a cluster: a value
    // that `urlDecodeUni` leaves alone is scanned once for both, and each literal found
    // marks only the rules of the groups that scanned it that way.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx <script" "id:1,phase:2,deny,t:none"
SecRule ARGS "@rx javascript:" "id:2,phase:2,pass,log,t:none"
SecRule ARGS "@rx onerror=" "id:3,phase:2,pass,log,t:urlDecodeUni"
SecRule ARGS "@rx alert\(" "id:4,phase:2,pass,log,t:urlDecodeUni"
"#,
    );
    let (status, tx) = request(&rs, "/?q=shoes&page=2", "");
    assert_eq!(status, None);
    assert_eq!(tx.stats().skipped, 4);
    // Unchanged by `urlDecodeUni`: one shared scan marks rules 3 and 4 only.
    let (status, tx) = request(&rs, "/?q=onerror=alert(1)", "");
    assert_eq!(status, None);
    assert_eq!(tx.stats().skipped, 2);
    let ids: Vec<u64> = tx.matches().iter().map(|m| m.id).collect();
    assert_eq!(ids, [3, 4]);
    // Changed by `urlDecodeUni` (`%3D` is `=`): the decoded value is scanned for the
    // second group; the raw one, for the first, holds none of its literals.
    let (status, tx) = request(&rs, "/?q=x%2520onerror%253D", "");
    assert_eq!(status, None);
    let ids: Vec<u64> = tx.matches().iter().map(|m| m.id).collect();
    assert_eq!(ids, [3]);
    assert_eq!(tx.stats().skipped, 3);
    let (status, tx) = request(&rs, "/?q=%3Cscript%3Ealert(1)", "");
    assert_eq!(status, Some(403));
    assert_eq!(tx.matches().last().map(|m| m.id), Some(1));
}

#[test]
fn a_keyed_target_beside_its_whole_collection_is_scanned_with_it() {
    // A cluster of four groups (one per chain) reads `ARGS` whole (rules 1 and 3) and
    // `ARGS:q` (rule 2, and rule 4 through a key regex; their groups read nothing else):
    // each value is walked once, and a literal found in `q` marks the keyed rules, one
    // found in another argument does not.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx <script" "id:1,phase:2,deny,t:none"
SecRule ARGS:q "@rx javascript:" "id:2,phase:2,pass,log,t:removeNulls"
SecRule ARGS "@rx onerror=" "id:3,phase:2,pass,log,t:urlDecodeUni"
SecRule ARGS:/^q$/ "@rx alert\(" "id:4,phase:2,pass,log,t:urlDecodeUni,t:removeNulls"
"#,
    );
    let (status, tx) = request(&rs, "/?q=shoes&page=2", "");
    assert_eq!(status, None);
    assert_eq!(tx.stats().skipped, 4);
    let (status, tx) = request(&rs, "/?q=javascript:alert(1)&p=x", "");
    assert_eq!(status, None);
    let ids: Vec<u64> = tx.matches().iter().map(|m| m.id).collect();
    assert_eq!(ids, [2, 4]);
    assert_eq!(tx.stats().skipped, 2);
    // In another argument, the keyed rules' literals mark nothing: all four are skipped.
    let (status, tx) = request(&rs, "/?q=shoes&p=javascript:alert(1)", "");
    assert_eq!(status, None);
    assert!(tx.matches().is_empty());
    assert_eq!(tx.stats().skipped, 4);
    let (status, tx) = request(&rs, "/?p=%3Cscript%3E", "");
    assert_eq!(status, Some(403));
    assert_eq!(tx.matches().last().map(|m| m.id), Some(1));
}

#[test]
fn large_literal_sets_are_found_in_any_case_and_in_long_values() {
    // Literal sets past 100 bytes (here 1,320), and every cluster, get a double-array
    // automaton over lower-cased literals that lower-cases each byte of a value it walks
    // (`Walker::DoubleArray`): neither the case of a value nor where in a long one the
    // literal is may hide it. One chain: one group. Two chains: a cluster of two one-rule
    // groups (at most 64 literals each).
    let words: Vec<String> = (0..120).map(|i| format!("keyword{i:03}x")).collect();
    let (first, second) = words.split_at(60);
    // Rule 2's chain: `none` as rule 1's makes one group, `urlDecodeUni` a cluster.
    let with_second_chain = |chain: &str| {
        rules(&format!(
            "SecRuleEngine On\n\
             SecRule ARGS \"@pm {}\" \"id:1,phase:2,deny,t:none\"\n\
             SecRule ARGS \"@pm {}\" \"id:2,phase:2,deny,t:{chain}\"\n",
            first.join(" "),
            second.join(" ")
        ))
    };
    let (group, cluster) = (with_second_chain("none"), with_second_chain("urlDecodeUni"));
    let long = "a".repeat(300);
    for rs in [&group, &cluster] {
        let (status, tx) = request(rs, "/?q=shoes", "");
        assert_eq!(status, None);
        assert_eq!(tx.stats().skipped, 2, "no literal in a benign value");
        for (value, id) in [
            ("KEYWORD007X".to_string(), 1),
            (format!("{long}KeyWord100X"), 2),
            (format!("{long}keyword119x{long}"), 2),
        ] {
            let (status, tx) = request(rs, &format!("/?q={value}"), "");
            assert_eq!(status, Some(403), "{value}");
            assert_eq!(tx.matches().last().map(|m| m.id), Some(id), "{value}");
        }
    }
}

#[test]
fn a_lone_rule_is_prefiltered_only_beside_other_groups() {
    // Alone in its section, a rule is always evaluated (its own regex does what a scan
    // would); next to another group of its section, it joins their cluster and is skipped
    // on values without its literal.
    let alone = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx onerror=" "id:3,phase:2,deny,t:urlDecodeUni"
"#,
    );
    let (status, tx) = request(&alone, "/?q=shoes", "");
    assert_eq!(status, None);
    assert_eq!((tx.stats().skipped, tx.stats().rules), (0, 1));
    let beside = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx <script" "id:1,phase:2,deny,t:none"
SecRule ARGS "@rx javascript:" "id:2,phase:2,deny,t:none"
SecRule ARGS "@rx onerror=" "id:3,phase:2,deny,t:urlDecodeUni"
"#,
    );
    let (status, tx) = request(&beside, "/?q=shoes", "");
    assert_eq!(status, None);
    assert_eq!((tx.stats().skipped, tx.stats().rules), (3, 0));
    let (status, tx) = request(&beside, "/?q=x%2520onerror%253D1", "");
    assert_eq!(status, Some(403));
    assert_eq!(tx.matches().last().map(|m| m.id), Some(3));
}

#[test]
fn a_multi_match_rule_is_skipped_only_on_values_its_chain_leaves_alone() {
    // `multiMatch` also runs the operator on the value before `urlDecode`: `a%62c` is in
    // the argument (the parser decoded `%25` once) but not in its decoded form `abc`, the
    // one the group scans. A value the chain may change marks the rule; one it leaves
    // alone is scanned as the rule sees it at every step. A chain that may change any
    // value (`base64Decode`) keeps the rule out of the prefilter.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx <script" "id:1,phase:2,deny,t:none"
SecRule ARGS "@rx javascript:" "id:2,phase:2,deny,t:none"
SecRule ARGS "@rx a%62c" "id:3,phase:2,deny,status:418,t:none,t:urlDecode,multiMatch"
SecRule ARGS "@rx evil" "id:4,phase:2,deny,status:419,t:none,t:base64Decode,multiMatch"
"#,
    );
    let (status, tx) = request(&rs, "/?q=shoes", "");
    assert_eq!(status, None);
    assert_eq!((tx.stats().skipped, tx.stats().rules), (3, 1));
    let (status, tx) = request(&rs, "/?q=x%2541", "");
    assert_eq!(status, None);
    assert_eq!((tx.stats().skipped, tx.stats().rules), (2, 2));
    let (status, tx) = request(&rs, "/?q=a%2562c", "");
    assert_eq!(status, Some(418));
    assert_eq!(tx.matches().last().map(|m| m.id), Some(3));
    // `ZXZpbA` is base64 for `evil`.
    assert_eq!(request(&rs, "/?q=ZXZpbA", "").0, Some(419));
}

#[test]
fn a_value_too_short_to_match_is_not_tested_unless_its_chain_can_lengthen_it() {
    // `abcdefgh` needs 8 bytes: `abc` is skipped; a longer value is tested. A negated
    // operator matches the short value; `md5` and `hexEncode` turn `a` into 32 hex digits,
    // and `utf8toUnicode` turns each byte of `é` (2 bytes) into `%uXXXX` (a chain that
    // changes this value may lengthen it).
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS:q "@rx abcdefgh" "id:1,phase:2,deny,t:lowercase"
SecRule ARGS:n "!@rx ^abcdefgh$" "id:2,phase:2,deny,status:418,t:none"
SecRule ARGS:h "@rx ^[0-9a-f]{32}$" "id:3,phase:2,deny,status:419,t:none,t:md5,t:hexEncode"
SecRule ARGS:u "@rx %u00e9" "id:4,phase:2,deny,status:420,t:none,t:utf8toUnicode"
"#,
    );
    let (status, tx) = request(&rs, "/?q=abc", "");
    assert_eq!(status, None);
    assert_eq!(tx.stats().op_calls, 0);
    let (status, tx) = request(&rs, "/?q=xxABCDEFGH", "");
    assert_eq!(status, Some(403));
    assert_eq!(tx.stats().op_calls, 1);
    assert_eq!(request(&rs, "/?n=ab", "").0, Some(418));
    assert_eq!(request(&rs, "/?h=a", "").0, Some(419));
    assert_eq!(request(&rs, "/?u=%C3%A9", "").0, Some(420));
}

#[test]
fn a_group_never_spans_phases() {
    // Same (empty) transformation chain and no marker in between: the phase-1 rule must not
    // decide for the phase-2 rule, whose POST arguments do not exist yet in phase 1.
    let rs = rules(
        r#"SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Host "@rx ^evil\.example$" "id:1,phase:1,deny,t:none"
SecRule REQUEST_HEADERS:Host "@rx ^bad\.example$" "id:2,phase:1,deny,t:none"
SecRule ARGS "@rx rolex" "id:3,phase:2,deny,t:none"
SecRule ARGS "@rx pills" "id:4,phase:2,deny,t:none"
"#,
    );
    let (status, _) = request(&rs, "/form", "item=rolex");
    assert_eq!(status, Some(403));
}

#[test]
fn sections_behind_equal_guards_share_a_group() {
    // Two "files", each with a section behind `TX:level @lt 2` (as CRS's paranoia levels):
    // their rules are scanned as one group; a section behind another guard is its own.
    let rs = rules(
        r#"SecRuleEngine On
SecAction "id:10,phase:1,pass,nolog,setvar:tx.level=2"
SecRule TX:level "@lt 2" "id:11,phase:2,pass,nolog,skipAfter:END-A"
SecRule ARGS "@rx rolex" "id:1,phase:2,deny,t:none"
SecRule ARGS "@rx pills" "id:2,phase:2,deny,t:none"
SecMarker END-A
SecRule TX:level "@lt 2" "id:12,phase:2,pass,nolog,skipAfter:END-B"
SecRule ARGS "@rx casino" "id:3,phase:2,deny,status:418,t:none"
SecRule ARGS "@rx poker" "id:4,phase:2,deny,t:none"
SecMarker END-B
SecRule TX:level "@lt 3" "id:13,phase:2,pass,nolog,skipAfter:END-C"
SecRule ARGS "@rx lottery" "id:5,phase:2,deny,t:none"
SecRule ARGS "@rx jackpot" "id:6,phase:2,deny,t:none"
SecMarker END-C
"#,
    );
    assert_eq!(rs.prefilter.groups.len(), 2);
    let (status, tx) = request(&rs, "/?q=shoes", "");
    assert_eq!(status, None);
    assert_eq!(
        tx.stats().skipped,
        4,
        "rules 1-4 skipped; 5 and 6 behind a true guard"
    );
    // A rule of the second section matches from the shared scan.
    let (status, tx) = request(&rs, "/?q=casino", "");
    assert_eq!(status, Some(418));
    assert_eq!(tx.matches().last().map(|m| m.id), Some(3));
    assert_eq!(request(&rs, "/?q=rolex", "").0, Some(403));
}

#[test]
fn a_trailing_lowercase_does_not_split_a_group() {
    // `t:lowercase` at the end of a chain changes nothing an ASCII-case-insensitive scan
    // finds: both rules are one group, each still evaluated on its own chain.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx ROLEX" "id:1,phase:2,deny,status:418,t:none"
SecRule ARGS "@rx pills" "id:2,phase:2,deny,t:none,t:lowercase"
SecRule ARGS "@rx casino" "id:3,phase:2,deny,t:none,t:lowercase"
"#,
    );
    assert_eq!(rs.prefilter.groups.len(), 1);
    assert_eq!(request(&rs, "/?q=shoes", "").1.stats().skipped, 3);
    // Rule 1 is case-sensitive: "rolex" has its literal but does not match; "ROLEX" does.
    assert_eq!(request(&rs, "/?q=rolex", "").0, None);
    assert_eq!(request(&rs, "/?q=ROLEX", "").0, Some(418));
    assert_eq!(request(&rs, "/?q=PiLLs", "").0, Some(403));
}

#[test]
fn exclusions_and_negation_keep_their_meaning() {
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS|!ARGS:safe "@rx attack" "id:1,phase:2,deny,t:none"
SecRule ARGS "@rx nothing-here" "id:3,phase:2,pass,t:none"
SecRule ARGS:check "!@rx ^ok$" "id:2,phase:2,deny,status:418,t:none"
"#,
    );
    assert_eq!(request(&rs, "/?safe=attack&check=ok", "").0, None);
    assert_eq!(request(&rs, "/?other=attack&check=ok", "").0, Some(403));
    // A negated operator matches values without its literals: never skipped.
    assert_eq!(request(&rs, "/?check=nope", "").0, Some(418));
}

#[test]
fn updated_transformations_are_the_ones_prefiltered() {
    // SecRuleUpdateActionById adds a decoding step after the rule was read: the value is
    // checked for `<script` only after `%3C` is decoded.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx never-there" "id:2,phase:2,pass,t:none"
SecRule ARGS "@rx <script" "id:1,phase:2,deny,t:none"
SecRule ARGS "@rx also-never-there" "id:3,phase:2,pass,t:none"
SecRuleUpdateActionById 1 "t:urlDecodeUni"
"#,
    );
    // ARGS are decoded once by the parser; the rule's t:urlDecodeUni decodes `%3C`.
    assert_eq!(request(&rs, "/?q=%253Cscript%253E", "").0, Some(403));
}

#[test]
fn crs_skips_most_rules_of_a_benign_request_and_blocks_attacks() {
    let rs = crs();
    let (status, tx) = request(&rs, "/search?q=shoes&page=2&sort=price", "");
    assert_eq!(status, None);
    let s = tx.stats();
    assert!(
        s.skipped >= 50,
        "a benign GET should skip many detection rules: {s:?}"
    );
    for attack in [
        "/?id=1%27%20or%201=1--",
        "/?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/?f=../../../../etc/passwd",
        "/?cmd=;cat%20/etc/passwd",
    ] {
        assert_eq!(request(&rs, attack, "").0, Some(403), "{attack}");
    }
}

/// `@recommended-conf` and CRS at PL1 from the embedded bundle (`bundle.rs`).
fn crs() -> Arc<RuleSet> {
    let files = wafer::bundle::file_set().expect("embedded bundle");
    let text = "Include @recommended-conf\nInclude @crs-setup-conf\nInclude @owasp_crs/*.conf\n";
    Arc::new(RuleSet::compile("crs.conf", text, &files).expect("CRS compiles"))
}

#[test]
fn a_multi_match_rule_with_base64_decode_hands_a_step_to_its_operator_only_with_a_literal_prefix() {
    // CRS 934100's shape: `base64Decode` may change any value, so the prefilter leaves the
    // rule out and it runs on every value; at each step of the chain, a value without the
    // first four bytes of one of its literals (`eval(`, `function(`) is not handed to the
    // operator. `ZXZhbCg` is base64 for `eval(`: only the decoded step holds it.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx (?:eval|function)\(" "id:1,phase:2,deny,t:none,t:urlDecodeUni,t:base64Decode,multiMatch"
"#,
    );
    let (status, tx) = request(&rs, "/?q=shoes+and+socks", "");
    assert_eq!(status, None);
    assert!(tx.stats().gated >= 2, "{:?}", tx.stats());
    assert_eq!(request(&rs, "/?q=ZXZhbCg", "").0, Some(403));
    assert_eq!(request(&rs, "/?q=eval(1)", "").0, Some(403));
    // A prefix without the literal reaches the operator, which does not match.
    let (status, tx) = request(&rs, "/?q=evaluate", "");
    assert_eq!(status, None);
    assert!(tx.stats().gated < 2, "{:?}", tx.stats());
}

#[test]
fn a_run_of_skippable_rules_is_passed_over_only_when_none_is_a_candidate() {
    // Rules 2-5 follow each other in two groups (two chains): passed over together on a
    // benign request, one by one when one of them may match, wherever it is in the run.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx ^\d+$" "id:1,phase:2,pass,nolog,t:none"
SecRule ARGS "@rx fooattack" "id:2,phase:2,deny,t:none"
SecRule ARGS "@rx <script" "id:3,phase:2,deny,t:urlDecodeUni,t:lowercase"
SecRule ARGS "@rx baranother" "id:4,phase:2,deny,t:none"
SecRule ARGS "@rx <iframe" "id:5,phase:2,deny,t:urlDecodeUni,t:lowercase"
"#,
    );
    let (status, tx) = request(&rs, "/?q=shoes&page=2", "");
    assert_eq!(status, None);
    assert_eq!(tx.stats().skipped, 4);
    assert_eq!(tx.stats().rules, 1);
    for (uri, id) in [
        ("/?q=fooattack", 2),
        ("/?q=%253CScRiPt%253E", 3),
        ("/?q=baranother", 4),
        ("/?q=%3CIFRAME", 5),
    ] {
        let (status, tx) = request(&rs, uri, "");
        assert_eq!(status, Some(403), "{uri}");
        assert_eq!(tx.matches().last().map(|m| m.id), Some(id), "{uri}");
        // Every rule up to the one that denies was reached.
        assert_eq!(
            u64::from(tx.stats().skipped + tx.stats().rules),
            id,
            "{uri}"
        );
    }
}
