//! End-to-end behaviour of the engine: configuration in, verdicts and log lines out.

use std::sync::Arc;

use wafer::{Action, FileSet, RuleSet, Transaction};

fn rules(text: &str) -> Arc<RuleSet> {
    Arc::new(RuleSet::compile("test.conf", text, &FileSet::new()).expect("rules compile"))
}

/// Runs a whole request (and a 200 text/html response) and returns the transaction.
fn run(
    rs: &Arc<RuleSet>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Transaction {
    let mut tx = Transaction::new(rs.clone(), "test-1");
    tx.set_request_line(method, uri.as_bytes(), "HTTP/1.1");
    for (k, v) in headers {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    if tx.process_request_headers().is_some() {
        return tx;
    }
    if tx.append_request_body(body).is_some() {
        return tx;
    }
    if tx.process_request_body().is_some() {
        return tx;
    }
    tx.set_response_status(200, "HTTP/1.1");
    tx.add_response_header(b"Content-Type", b"text/html");
    if tx.process_response_headers().is_some() {
        return tx;
    }
    let _ = tx.append_response_body(b"<html>hello</html>");
    let _ = tx.process_response_body();
    tx.process_logging();
    tx
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// The ids of the logged matches, in order.
fn logged_ids(tx: &Transaction) -> Vec<u64> {
    tx.matches()
        .iter()
        .filter(|m| m.log)
        .map(|m| m.id)
        .collect()
}

#[test]
fn tutorial_spam_rule_without_phase_blocks_a_posted_rolex() {
    // The ModSecurity tutorial's chained rule, unchanged: no phase, so phase 2.
    let rs = rules(
        r#"SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_FILENAME "form.php" "id:1000,chain,deny,log,msg:'Spam detected'"
    SecRule REQUEST_BODY "@rx (?i:(pills|insurance|rolex))"
"#,
    );
    let tx = run(
        &rs,
        "POST",
        "/form.php",
        &[("Host", "shop"), FORM],
        b"data=cheap rolex",
    );
    let iv = tx.intervention().expect("blocked");
    assert_eq!((iv.status, iv.phase, iv.rule_id), (403, 2, Some(1000)));
    assert!(iv.log.contains("[msg \"Spam detected\"]"), "{}", iv.log);
    let ok = run(
        &rs,
        "POST",
        "/form.php",
        &[("Host", "shop"), FORM],
        b"data=cheap watch",
    );
    assert!(ok.intervention().is_none());
    let other = run(
        &rs,
        "POST",
        "/other.php",
        &[("Host", "shop"), FORM],
        b"data=rolex",
    );
    assert!(other.intervention().is_none());
}

#[test]
fn tutorial_spam_rule_alone_needs_no_other_directive() {
    // Pasted on its own: the engine is On and the body inspected by default (libmodsecurity
    // 3 skips a body only on an explicit `SecRequestBodyAccess Off`).
    let rs = rules(
        r#"SecRule REQUEST_FILENAME "form.php" "id:1000,chain,deny,log,msg:'Spam detected'"
    SecRule REQUEST_BODY "@rx (?i:(pills|insurance|rolex))"
"#,
    );
    let post = |body: &[u8]| run(&rs, "POST", "/form.php", &[("Host", "shop"), FORM], body);
    let iv = post(b"data=cheap rolex").intervention().cloned();
    assert_eq!(iv.map(|iv| (iv.status, iv.phase)), Some((403, 2)));
    assert!(post(b"data=cheap watch").intervention().is_none());
}

#[test]
fn tutorial_sql_injection_in_a_posted_username() {
    let rs = rules(
        r#"SecRuleEngine On
SecRequestBodyAccess On
SecDefaultAction "phase:2,log,auditlog,deny,status:403"
SecRule ARGS "@detectSQLi" "id:942100,phase:2,block,t:none,t:urlDecodeUni,msg:'SQL Injection Attack Detected via libinjection',logdata:'Matched Data: %{TX.0} found within %{MATCHED_VAR_NAME}: %{MATCHED_VAR}',capture"
"#,
    );
    let tx = run(
        &rs,
        "POST",
        "/login.php",
        &[("Host", "shop"), FORM],
        b"username=%27+or+true+--+&password=",
    );
    let iv = tx.intervention().expect("blocked");
    assert_eq!(iv.rule_id, Some(942100));
    let m = &tx.matches()[0];
    assert!(
        m.data()
            .contains("found within ARGS:username: ' or true -- "),
        "{}",
        m.data()
    );
    let ok = run(
        &rs,
        "POST",
        "/login.php",
        &[("Host", "shop"), FORM],
        b"username=alice&password=s3cret",
    );
    assert!(ok.intervention().is_none());
}

#[test]
fn detection_only_logs_but_never_blocks() {
    let rs = rules(
        "SecRuleEngine DetectionOnly\nSecRule ARGS:q \"@contains attack\" \"id:1,phase:1,deny,log,msg:'m'\"",
    );
    let tx = run(&rs, "GET", "/?q=an+attack", &[("Host", "h")], b"");
    assert!(tx.intervention().is_none());
    assert_eq!(tx.would_interrupt().and_then(|i| i.rule_id), Some(1));
    assert_eq!(tx.matches().len(), 1);
}

#[test]
fn engine_off_runs_nothing() {
    let rs = rules("SecRuleEngine Off\nSecRule ARGS \"@contains x\" \"id:1,phase:1,deny\"");
    let tx = run(&rs, "GET", "/?a=x", &[], b"");
    assert!(tx.intervention().is_none());
    assert!(tx.matches().is_empty());
}

#[test]
fn setvar_macros_and_anomaly_scoring() {
    let rs = rules(
        r#"SecAction "id:1,phase:1,pass,nolog,setvar:tx.score=0,setvar:tx.limit=5"
SecRule ARGS "@contains bad" "id:2,phase:2,pass,log,setvar:tx.score=+3"
SecRule TX:score "@ge %{tx.limit}" "id:3,phase:2,deny,status:406,msg:'score %{tx.score}'"
"#,
    );
    let one = run(&rs, "GET", "/?a=bad", &[], b"");
    assert!(one.intervention().is_none());
    assert_eq!(one.tx("score"), Some(&b"3"[..]));
    let two = run(&rs, "GET", "/?a=bad&b=bad", &[], b"");
    let iv = two.intervention().expect("score 6 ≥ 5");
    assert_eq!(iv.status, 406);
    assert_eq!(two.matches().last().map(|m| m.msg()), Some("score 6"));
}

#[test]
fn rules_on_one_stored_member_or_its_count_report_what_matched() {
    // One `TX` member or its count, untransformed: the engine's shortcut for CRS's
    // bookkeeping rules must set MATCHED_VAR(_NAME) and MATCHED_VARS like any rule.
    let rs = rules(
        r#"SecAction "id:1,phase:1,pass,nolog,setvar:tx.level=2,setvar:tx.Mixed=x"
SecRule &TX:missing "@eq 0" "id:2,phase:1,pass,log,msg:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule TX:level "@ge 2" "id:3,phase:1,pass,log,msg:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}',chain"
    SecRule MATCHED_VARS "@streq 2" "setvar:tx.chained=%{MATCHED_VAR}"
SecRule TX:level "!@lt 3" "id:4,phase:1,pass,log,msg:'negated'"
SecRule TX:absent "!@lt 3" "id:5,phase:1,pass,log,msg:'an absent member is not tested'"
SecRule &TX:level "@eq 1" "id:6,phase:1,pass,log,msg:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule TX:MIXED "@streq x" "id:7,phase:1,pass,log,msg:'%{MATCHED_VAR_NAME}'"
"#,
    );
    let tx = run(&rs, "GET", "/", &[], b"");
    let logged: Vec<(u64, &str)> = tx
        .matches()
        .iter()
        .filter(|m| m.log)
        .map(|m| (m.id, m.msg()))
        .collect();
    assert_eq!(
        logged,
        [
            (2, "&TX:missing=0"),
            (3, "TX:level=2"),
            (6, "&TX:level=1"),
            (7, "TX:mixed"),
        ]
    );
    assert_eq!(tx.tx("chained"), Some(&b"2"[..]));
}

#[test]
fn an_operator_with_macros_follows_its_expansion_from_request_to_request() {
    // The compiled `@rx` is reused while the expansion stays the same and rebuilt when it
    // changes: each request must see its own pattern.
    let rs = rules(
        r#"SecRule ARGS:p "@rx ^(.*)$" "id:1,phase:1,pass,nolog,capture,setvar:tx.pat=%{tx.1}"
SecRule ARGS:v "@rx %{tx.pat}" "id:2,phase:1,deny,status:403"
"#,
    );
    let blocked = |uri: &str| run(&rs, "GET", uri, &[], b"").intervention().is_some();
    assert!(blocked("/?p=^abc&v=abcdef"));
    assert!(blocked("/?p=^abc&v=abcxyz"));
    assert!(!blocked("/?p=^abc&v=xyz"));
    assert!(blocked("/?p=xyz$&v=abcxyz"));
    assert!(!blocked("/?p=xyz$&v=abcdef"));
    assert!(blocked("/?p=^abc&v=abc"));
}

#[test]
fn skip_after_and_markers() {
    let rs = rules(
        r#"SecRule REQUEST_URI "@beginsWith /static" "id:1,phase:1,pass,nolog,skipAfter:END"
SecRule ARGS "@contains x" "id:2,phase:1,deny"
SecMarker END
SecRule ARGS "@contains y" "id:3,phase:1,deny,status:401"
"#,
    );
    assert!(run(&rs, "GET", "/static/a?q=x", &[], b"")
        .intervention()
        .is_none());
    assert_eq!(
        run(&rs, "GET", "/static/a?q=y", &[], b"")
            .intervention()
            .map(|i| i.status),
        Some(401)
    );
    assert_eq!(
        run(&rs, "GET", "/app?q=x", &[], b"")
            .intervention()
            .map(|i| i.rule_id),
        Some(Some(2))
    );
}

#[test]
fn exclusions_by_target_and_ctl() {
    let rs = rules(
        r#"SecRule REQUEST_FILENAME "@streq /login" "id:10,phase:1,pass,nolog,ctl:ruleRemoveTargetById=20;ARGS:password"
SecRule ARGS|!ARGS:token "@contains '" "id:20,phase:1,deny"
SecRuleUpdateTargetById 20 "!ARGS:comment"
"#,
    );
    assert!(run(&rs, "GET", "/login?password=a'b", &[], b"")
        .intervention()
        .is_none());
    assert!(run(&rs, "GET", "/other?token=a'b&comment=x'", &[], b"")
        .intervention()
        .is_none());
    assert!(run(&rs, "GET", "/other?password=a'b", &[], b"")
        .intervention()
        .is_some());
}

#[test]
fn remove_by_id_range_and_tag() {
    let rs = rules(
        r#"SecRule ARGS "@contains a" "id:100,phase:1,deny,tag:'t1'"
SecRule ARGS "@contains b" "id:101,phase:1,deny"
SecRule ARGS "@contains c" "id:200,phase:1,deny,tag:'keep'"
SecRuleRemoveById 101-150
SecRuleRemoveByTag t1
"#,
    );
    assert!(run(&rs, "GET", "/?x=ab", &[], b"").intervention().is_none());
    assert!(run(&rs, "GET", "/?x=c", &[], b"").intervention().is_some());
}

#[test]
fn body_limit_reject_answers_413_and_partial_inspects_the_start() {
    let rs = rules(
        "SecRequestBodyAccess On\nSecRequestBodyLimit 10\nSecRequestBodyLimitAction Reject\nSecRule REQUEST_BODY \"@contains evil\" \"id:1,phase:2,deny\"",
    );
    let tx = run(&rs, "POST", "/", &[FORM], b"a=aaaaaaaaaaaaaaaaaaaa");
    assert_eq!(tx.intervention().map(|i| i.status), Some(413));
    let rs = rules(
        "SecRequestBodyAccess On\nSecRequestBodyLimit 10\nSecRequestBodyLimitAction ProcessPartial\nSecRule REQUEST_BODY \"@contains evil\" \"id:1,phase:2,deny\"",
    );
    assert!(run(&rs, "POST", "/", &[FORM], b"a=aaaaaaaaaaaaaaaaevil")
        .intervention()
        .is_none());
    assert!(run(&rs, "POST", "/", &[FORM], b"a=evilaaaaaaaaaaaaaa")
        .intervention()
        .is_some());
}

#[test]
fn redirect_and_drop() {
    let rs = rules(
        "SecRule ARGS:go \"@streq r\" \"id:1,phase:1,redirect:http://example.com/%{tx.none}blocked\"\nSecRule ARGS:go \"@streq d\" \"id:2,phase:1,drop\"",
    );
    let tx = run(&rs, "GET", "/?go=r", &[], b"");
    let iv = tx.intervention().unwrap();
    assert_eq!(
        (iv.status, &iv.action),
        (302, &Action::Redirect("http://example.com/blocked".into()))
    );
    let tx = run(&rs, "GET", "/?go=d", &[], b"");
    assert_eq!(tx.intervention().map(|i| &i.action), Some(&Action::Drop));
}

#[test]
fn response_body_phase_4() {
    let rs = rules(
        "SecResponseBodyAccess On\nSecRule RESPONSE_BODY \"@contains hello\" \"id:1,phase:4,deny,status:403\"",
    );
    let tx = run(&rs, "GET", "/", &[], b"");
    let iv = tx.intervention().unwrap();
    assert_eq!((iv.status, iv.phase), (403, 4));
}

#[test]
fn configuration_errors_name_file_line_and_problem() {
    let e = RuleSet::compile(
        "inline",
        "SecRuleEngine On\nSecFrobnicate x",
        &FileSet::new(),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "inline:2: unknown directive `SecFrobnicate`");
    let e = RuleSet::compile(
        "inline",
        "SecRule ARGS \"@rx x\" \"phase:1,deny\"",
        &FileSet::new(),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "inline:1: Rules must have an ID.");
    let e = RuleSet::compile(
        "inline",
        "SecRule ARGS \"@nope x\" \"id:1\"",
        &FileSet::new(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    let e = RuleSet::compile(
        "inline",
        "SecRule ARGS \"@rx x\" \"id:1,chain\"",
        &FileSet::new(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("chain"), "{e}");
    let e = RuleSet::compile(
        "inline",
        "SecRule ARGS \"@rx x\" \"id:1\"\nSecRule ARGS \"@rx y\" \"id:1\"",
        &FileSet::new(),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "inline:2: Rule id: 1 is duplicated");
}

#[test]
fn chains_that_share_steps_each_give_their_own_result() {
    // The transformation cache shares a step's result between chains whose steps so far
    // changed the value alike (`utf8toUnicode` and `removeNulls` change nothing here); each
    // rule must still see exactly its own chain's result. Rule 9 has 11 changing steps,
    // more than the cache packs, and rule 10 one more that changes nothing.
    let deep = format!("%{}41", "25".repeat(10));
    let rs = rules(
        r#"SecRule REQUEST_HEADERS:X-A "@streq A%41" "id:1,phase:1,pass,log,t:urlDecodeUni"
SecRule REQUEST_HEADERS:X-A "@streq AA" "id:2,phase:1,pass,log,t:urlDecodeUni,t:urlDecodeUni"
SecRule REQUEST_HEADERS:X-A "@streq A%41" "id:3,phase:1,pass,log,t:utf8toUnicode,t:urlDecodeUni"
SecRule REQUEST_HEADERS:X-A "@streq a%41" "id:4,phase:1,pass,log,t:lowercase,t:urlDecodeUni"
SecRule REQUEST_HEADERS:X-A "@streq a%41" "id:5,phase:1,pass,log,t:urlDecodeUni,t:lowercase"
SecRule REQUEST_HEADERS:X-A "@streq aA" "id:6,phase:1,pass,log,t:removeNulls,t:urlDecodeUni,t:lowercase,t:urlDecodeUni"
SecRule REQUEST_HEADERS:X-A "@streq AA" "id:7,phase:1,pass,log,t:urlDecodeUni,t:removeNulls,t:urlDecodeUni"
SecRule REQUEST_HEADERS:X-A "@streq A%2541" "id:8,phase:1,pass,log,t:removeNulls"
SecRule REQUEST_HEADERS:X-B "@streq A" "id:9,phase:1,pass,log,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni"
SecRule REQUEST_HEADERS:X-B "@streq A" "id:10,phase:1,pass,log,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni"
SecRule REQUEST_HEADERS:X-B "@streq %41" "id:11,phase:1,pass,log,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni,t:urlDecodeUni"
"#,
    );
    let tx = run(
        &rs,
        "GET",
        "/",
        &[("X-A", "A%2541"), ("X-B", deep.as_str())],
        b"",
    );
    let ids: Vec<u64> = tx.matches().iter().map(|m| m.id).collect();
    assert_eq!(ids, (1..=11).collect::<Vec<u64>>());
}

#[test]
fn multi_match_tests_each_changed_step_whether_another_chain_computed_it_or_not() {
    // Rule 1 puts the first `urlDecodeUni` step of X-A in the transformation cache; the
    // multiMatch rules reuse it and compute the second step themselves. Each records the
    // value it matched (`MATCHED_VAR`), which rules 20-22 check.
    let rs = rules(
        r#"SecRule REQUEST_HEADERS:X-A "@streq A%41" "id:1,phase:1,pass,nolog,t:urlDecodeUni"
SecRule REQUEST_HEADERS:X-A "@streq A%2541" "id:2,phase:1,pass,nolog,multiMatch,t:urlDecodeUni,t:urlDecodeUni,setvar:tx.m2=%{MATCHED_VAR}"
SecRule REQUEST_HEADERS:X-A "@streq A%41" "id:3,phase:1,pass,nolog,multiMatch,t:urlDecodeUni,t:urlDecodeUni,setvar:tx.m3=%{MATCHED_VAR}"
SecRule REQUEST_HEADERS:X-A "@streq aa" "id:4,phase:1,pass,nolog,multiMatch,t:urlDecodeUni,t:urlDecodeUni,t:lowercase,setvar:tx.m4=%{MATCHED_VAR}"
SecRule REQUEST_HEADERS:X-A "@streq AA" "id:5,phase:1,pass,nolog,multiMatch,t:urlDecodeUni,t:removeNulls,t:lowercase"
SecRule TX:m2 "@streq A%2541" "id:20,phase:1,pass,log"
SecRule TX:m3 "@streq A%41" "id:21,phase:1,pass,log"
SecRule TX:m4 "@streq aa" "id:22,phase:1,pass,log"
"#,
    );
    let tx = run(&rs, "GET", "/", &[("X-A", "A%2541")], b"");
    let ids = logged_ids(&tx);
    // Rule 5 never sees "AA": its second step lower-cases the value.
    assert_eq!(ids, [20, 21, 22]);
}

#[test]
fn a_capture_replaces_tx_0_to_9_as_a_whole() {
    // Rule 3 captures one group: TX:2 and TX:3 from rule 1, and TX:5 from a setvar, are
    // gone after it; TX:0 and TX:1 hold its own.
    let rs = rules(
        r#"SecRule ARGS:a "@rx ^(x)(y)(z)$" "id:1,phase:1,pass,nolog,capture"
SecAction "id:2,phase:1,pass,nolog,setvar:tx.5=five"
SecRule TX:3 "@streq z" "id:10,phase:1,pass,log"
SecRule ARGS:b "@rx ^(q)$" "id:3,phase:1,pass,nolog,capture"
SecRule &TX:2 "@eq 0" "id:11,phase:1,pass,log"
SecRule &TX:3 "@eq 0" "id:12,phase:1,pass,log"
SecRule &TX:5 "@eq 0" "id:13,phase:1,pass,log"
SecRule TX:1 "@streq q" "id:14,phase:1,pass,log"
SecRule TX:0 "@streq q" "id:15,phase:1,pass,log"
"#,
    );
    let tx = run(&rs, "GET", "/?a=xyz&b=q", &[], b"");
    let ids = logged_ids(&tx);
    assert_eq!(ids, [10, 11, 12, 13, 14, 15]);
}

#[test]
fn a_transaction_sees_nothing_of_the_one_before_it_on_the_same_thread() {
    // Transactions hand their buffers (`TX`, the match list, the transformation cache, the
    // prefilter's sets) to the next one on the thread: only capacity may pass, never a
    // member, a match or a cached transformation.
    let rs = rules(
        r#"SecRule ARGS:a "@streq x" "id:1,phase:1,pass,log,setvar:tx.seen=1,setvar:tx.name_%{ARGS.a}=1"
SecRule &TX:seen "@eq 1" "id:2,phase:1,deny,status:403"
SecRule TX:/^name_/ "@rx ." "id:3,phase:1,deny,status:401"
SecRule ARGS:b "@streq %{tx.seen}" "id:6,phase:1,deny,status:406"
SecRule ARGS:q "@streq abc" "id:4,phase:2,t:lowercase,deny,status:402"
SecRule ARGS:q "@contains select" "id:5,phase:2,t:urlDecodeUni,t:lowercase,deny,status:405"
"#,
    );
    let status = |uri: &str| {
        let tx = run(&rs, "GET", uri, &[], b"");
        (tx.intervention().map(|i| i.status), logged_ids(&tx))
    };
    for _ in 0..3 {
        assert_eq!(status("/?a=x"), (Some(403), vec![1, 2]));
        assert_eq!(status("/?a=y"), (None, vec![]));
        assert_eq!(status("/?b=1"), (None, vec![]));
        assert_eq!(status("/?q=ABC"), (Some(402), vec![4]));
        assert_eq!(status("/?q=XYZ"), (None, vec![]));
        assert_eq!(status("/?q=SEL%45CT"), (Some(405), vec![5]));
        assert_eq!(status("/?q=SELXCT"), (None, vec![]));
    }
    // Many transactions alive at once, dropped in any order, then reused.
    let live: Vec<Transaction> = (0..20)
        .map(|_| run(&rs, "GET", "/?a=x", &[], b""))
        .collect();
    assert!(live
        .iter()
        .all(|t| t.intervention().map(|i| i.status) == Some(403)));
    drop(live);
    assert_eq!(status("/?b=1"), (None, vec![]));
}

/// An endpoint source that counts how often it is asked, and the count.
fn counted(
    addr: &'static str,
    port: u16,
) -> (wafer::EndpointSource, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&asked);
    let source = Box::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Some((addr.to_string(), port))
    });
    (source, asked)
}

#[test]
fn each_end_of_the_connection_is_asked_for_once_and_only_when_read() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let rs = rules(
        r#"SecRuleEngine On
SecAuditEngine RelevantOnly
SecAuditLogRelevantStatus "^(?:5|4(?!04))"
SecRule ARGS:q "@contains attack" "id:1,phase:1,deny,log"
SecRule ARGS:who "@streq me" "id:2,phase:1,pass,nolog,chain"
    SecRule REMOTE_ADDR "@ipMatch 203.0.113.0/24" "setvar:tx.mine=1"
SecRule TX:mine "@eq 1" "id:3,phase:1,deny,status:401,log,msg:'from %{REMOTE_ADDR}:%{REMOTE_PORT}'"
SecRule ARGS:port "@eq 8443" "id:4,phase:1,pass,log,chain"
    SecRule SERVER_PORT "@eq 8443""#,
    );
    let asked = |n: &Arc<AtomicUsize>| n.load(Ordering::SeqCst);
    let start = |uri: &str| {
        let mut tx = Transaction::new(rs.clone(), "conn-1");
        let (client, c) = counted("203.0.113.7", 51000);
        let (server, s) = counted("198.51.100.2", 8443);
        tx.set_connection_source(client, server);
        tx.set_request_line("GET", uri.as_bytes(), "HTTP/1.1");
        tx.add_request_header(b"Host", b"example.com");
        (tx, c, s)
    };

    // Nothing reads an address and nothing is audited: neither end is asked.
    let (mut tx, c, s) = start("/?q=hello&who=you");
    assert!(tx.process_request_headers().is_none());
    tx.process_logging();
    assert!(tx.audit_record().is_none());
    assert_eq!((asked(&c), asked(&s)), (0, 0));

    // A chain reads REMOTE_ADDR, a message expands it and REMOTE_PORT: the client's end is
    // asked once and every reader sees it; the server's end is not asked until the audit
    // record is written.
    let (mut tx, c, s) = start("/?who=me");
    let iv = tx.process_request_headers().expect("rule 3 denies");
    assert_eq!((iv.status, iv.rule_id), (401, Some(3)));
    let m = tx
        .matches()
        .iter()
        .find(|m| m.id == 3)
        .expect("rule 3 logged");
    assert!(m.msg().contains("from 203.0.113.7:51000"), "{}", m.msg());
    tx.process_logging();
    assert_eq!((asked(&c), asked(&s)), (1, 0));
    let record = tx.audit_record().expect("a 401 is audited");
    assert!(record.contains("\"client_ip\":\"203.0.113.7\""), "{record}");
    assert!(record.contains("\"host_ip\":\"198.51.100.2\""), "{record}");
    assert_eq!((asked(&c), asked(&s)), (1, 1));

    // SERVER_PORT alone asks the server's end only.
    let (mut tx, c, s) = start("/?port=8443");
    assert!(tx.process_request_headers().is_none());
    assert!(tx.matches().iter().any(|m| m.id == 4 && m.log));
    assert_eq!((asked(&c), asked(&s)), (0, 1));

    // No rule reads an address, but the audit record does.
    let (mut tx, c, s) = start("/?q=attack");
    assert!(tx.process_request_headers().is_some());
    tx.process_logging();
    assert_eq!((asked(&c), asked(&s)), (0, 0));
    let record = tx.audit_record().expect("a 403 is audited");
    assert!(record.contains("\"client_port\":51000"), "{record}");
    assert!(record.contains("\"host_port\":8443"), "{record}");
    assert_eq!((asked(&c), asked(&s)), (1, 1));
}

#[test]
fn modsecurity_recommended_relevant_status_with_look_ahead_audits_errors_but_404() {
    // modsecurity.conf-recommended, unchanged: PCRE look-ahead in SecAuditLogRelevantStatus.
    let rs = rules(
        r#"SecRuleEngine On
SecAuditEngine RelevantOnly
SecAuditLogRelevantStatus "^(?:5|4(?!04))"
SecAuditLogParts ABIJDEFHZ"#,
    );
    for (status, audited) in [
        (200, false),
        (301, false),
        (403, true),
        (404, false),
        (500, true),
    ] {
        let mut tx = Transaction::new(rs.clone(), "status-1");
        tx.set_request_line("GET", b"/", "HTTP/1.1");
        tx.add_request_header(b"Host", b"example.com");
        assert!(tx.process_request_headers().is_none());
        assert!(tx.process_request_body().is_none());
        tx.set_response_status(status, "HTTP/1.1");
        assert!(tx.process_response_headers().is_none());
        tx.process_logging();
        assert_eq!(tx.audit_record().is_some(), audited, "status {status}");
    }
    // A pattern no engine can compile is still a configuration error naming the directive.
    let err = RuleSet::compile(
        "bad.conf",
        "SecAuditLogRelevantStatus \"(\"",
        &FileSet::new(),
    )
    .expect_err("an unbalanced group");
    assert!(err.message.contains("SecAuditLogRelevantStatus"), "{err:?}");
}

#[test]
fn a_transaction_sees_only_its_own_headers_and_arguments() {
    // A finished transaction's header, argument and response-header vectors are reused by
    // the next one on the thread: shorter values must come out exactly, not over the
    // bytes of the longer ones before them.
    let rs = rules(
        r#"SecRuleEngine On
SecRule REQUEST_HEADERS:x-h "@streq y" "id:1,phase:1,pass,log"
SecRule ARGS_GET:a "@streq x" "id:2,phase:1,pass,log"
SecRule ARGS_POST:b "@streq z" "id:3,phase:2,pass,log"
SecRule RESPONSE_HEADERS:x-r "@streq w" "id:4,phase:3,pass,log"
SecRule REQUEST_HEADERS_NAMES "@streq x-h" "id:5,phase:1,pass,log"
"#,
    );
    let long = run(
        &rs,
        "POST",
        "/?a=xxxxxxxxxxxxxxxx",
        &[("x-hhhhhhhhhhhh", "yyyyyyyyyyyy"), FORM],
        b"b=zzzzzzzzzzzzzzzz",
    );
    assert_eq!(logged_ids(&long), Vec::<u64>::new());
    // Finished: its vectors go back to the thread's spares.
    drop(long);
    for _ in 0..3 {
        let mut tx = Transaction::new(rs.clone(), "test-2");
        tx.set_request_line("POST", b"/?a=x", "HTTP/1.1");
        tx.add_request_header(b"x-h", b"y");
        tx.add_request_header(FORM.0.as_bytes(), FORM.1.as_bytes());
        assert!(tx.process_request_headers().is_none());
        assert!(tx.append_request_body(b"b=z").is_none());
        assert!(tx.process_request_body().is_none());
        tx.set_response_status(200, "HTTP/1.1");
        tx.add_response_header(b"x-r", b"w");
        assert!(tx.process_response_headers().is_none());
        assert_eq!(logged_ids(&tx), [1, 2, 5, 3, 4]);
    }
}

/// Rules with the same operator and parameter share one compiled operator (CRS reads
/// `lfi-os-files.data` and `unix-shell.data` twice each); a data file of the same name in
/// another directory is another file, and each rule matches on its own.
#[test]
fn identical_operators_are_compiled_once_and_data_files_stay_per_directory() {
    let mut files = FileSet::new();
    files.insert("a/words.data", "rolex\n");
    files.insert("b/words.data", "pills\n");
    files.insert(
        "a/rules.conf",
        "SecRule ARGS \"@pmFromFile words.data\" \"id:1,phase:2,deny,status:403\"\n\
         SecRule REQUEST_HEADERS \"@pmFromFile words.data\" \"id:2,phase:2,deny,status:401\"\n\
         SecRule ARGS_NAMES \"@rx ^x\" \"id:3,phase:2,pass\"\n\
         SecRule ARGS_NAMES \"@rx ^x\" \"id:4,phase:2,pass\"\n",
    );
    files.insert(
        "b/rules.conf",
        "SecRule ARGS \"@pmFromFile words.data\" \"id:5,phase:2,deny,status:402\"\n",
    );
    let rs = Arc::new(
        RuleSet::compile(
            "main.conf",
            "SecRuleEngine On\nInclude a/rules.conf\nInclude b/rules.conf\n",
            &files,
        )
        .expect("rules compile"),
    );
    let op = |id: u64| {
        let rule = rs.rule_by_id(id).expect("rule");
        Arc::clone(
            rule.op
                .as_ref()
                .and_then(|o| o.compiled.as_ref())
                .expect("compiled"),
        )
    };
    assert!(Arc::ptr_eq(&op(1), &op(2)));
    assert!(Arc::ptr_eq(&op(3), &op(4)));
    assert!(!Arc::ptr_eq(&op(1), &op(5)));
    let status = |q: &str| {
        let tx = run(&rs, "GET", &format!("/?q={q}"), &[("Host", "a")], b"");
        tx.intervention().map(|iv| iv.status)
    };
    assert_eq!(status("rolex"), Some(403));
    assert_eq!(status("pills"), Some(402));
    assert_eq!(status("plain"), None);
}
