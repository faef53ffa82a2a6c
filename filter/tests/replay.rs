//! Replay of fixed rules (`filter/src/replay.rs`): rules that read only `TX` are replayed
//! from their outcome on the benign path, and evaluated as soon as a request leaves it.
//! Each test below is a way of leaving it; what it checks is what evaluating every rule
//! gives.

use std::sync::Arc;

use wafer::{FileSet, RuleSet, Transaction};

fn rules(text: &str) -> Arc<RuleSet> {
    Arc::new(RuleSet::compile("test.conf", text, &FileSet::new()).expect("rules compile"))
}

/// Runs a GET through phases 1 and 2 (and 3 to 5 when `all`); returns the status of the
/// intervention, if any, and the transaction.
fn get(rs: &Arc<RuleSet>, uri: &str, all: bool) -> (Option<u16>, Transaction) {
    let mut tx = Transaction::new(rs.clone(), "req-42");
    tx.set_request_line("GET", uri.as_bytes(), "HTTP/1.1");
    tx.add_request_header(b"Host", b"example.com");
    let mut status = tx.process_request_headers().map(|iv| iv.status);
    if status.is_none() {
        status = tx.process_request_body().map(|iv| iv.status);
    }
    if all {
        tx.set_response_status(200, "HTTP/1.1");
        let _ = tx.process_response_headers();
        let _ = tx.process_response_body();
        tx.process_logging();
    }
    (status, tx)
}

fn ids(tx: &Transaction) -> Vec<u64> {
    tx.matches().iter().map(|m| m.id).collect()
}

/// CRS-like bookkeeping: defaults, a paranoia-level skip, an attack rule adding to a
/// score, and a blocking check on the score.
const SCORING: &str = r#"SecRuleEngine On
SecAction "id:1,phase:1,pass,nolog,setvar:tx.level=1"
SecRule &TX:threshold "@eq 0" "id:2,phase:1,pass,nolog,setvar:tx.threshold=5"
SecAction "id:3,phase:1,pass,nolog,setvar:tx.score=0"
SecRule TX:LEVEL "@lt 1" "id:10,phase:2,pass,nolog,skipAfter:END-1"
SecRule ARGS "@rx evil" "id:11,phase:2,pass,log,setvar:'tx.score=+%{tx.threshold}'"
SecMarker END-1
SecRule TX:LEVEL "@lt 2" "id:12,phase:2,pass,nolog,skipAfter:END-2"
SecRule ARGS "@rx wicked" "id:13,phase:2,pass,log,setvar:'tx.score=+1'"
SecMarker END-2
SecRule TX:SCORE "@ge %{tx.threshold}" "id:20,phase:2,deny,status:403,log,msg:'score %{tx.score}'"
"#;

#[test]
fn fixed_rules_are_replayed_with_the_effects_of_evaluation() {
    let rs = rules(SCORING);
    assert_eq!(rs.replay.replayable(), 6, "rules 1, 2, 3, 10, 12 and 20");
    let (status, tx) = get(&rs, "/?q=shoes", false);
    assert_eq!(status, None);
    let s = tx.stats();
    assert_eq!(s.replayed, 6, "{s:?}");
    assert_eq!(
        s.rules, 1,
        "only the attack rule on the path is evaluated: {s:?}"
    );
    // Their effects are those of evaluating them: members set, matches recorded, and
    // rule 12's jump past rule 13.
    assert_eq!(tx.tx("threshold"), Some(&b"5"[..]));
    assert_eq!(tx.tx("score"), Some(&b"0"[..]));
    assert_eq!(ids(&tx), [1, 2, 3, 12]);
    // Rule 13 is past rule 12's jump, replayed or not.
    assert_eq!(get(&rs, "/?q=wicked", false).0, None);
}

#[test]
fn a_member_written_by_an_evaluated_rule_is_read_again() {
    let rs = rules(SCORING);
    // Rule 11 adds 5 to the score: rule 20 must see it and block, not replay its
    // benign-path non-match.
    let (status, tx) = get(&rs, "/?q=evil", false);
    assert_eq!(status, Some(403));
    assert_eq!(ids(&tx), [1, 2, 3, 11, 12, 20]);
    assert_eq!(tx.matches()[5].msg(), "score 5");
}

#[test]
fn a_jump_over_a_benign_match_ends_replay() {
    // Rule 2 jumps over rule 3, which sets `tx.a` on the benign path: rule 4, which
    // reads only `tx.a` (still clean), must be evaluated and see it unset.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS:skip "@streq yes" "id:2,phase:1,pass,nolog,skipAfter:AFTER-3"
SecAction "id:3,phase:1,pass,nolog,setvar:tx.a=1"
SecMarker AFTER-3
SecRule &TX:a "@eq 0" "id:4,phase:1,deny,status:403"
"#,
    );
    assert_eq!(get(&rs, "/?skip=no", false).0, None);
    let (status, tx) = get(&rs, "/?skip=yes", false);
    assert_eq!(status, Some(403));
    assert_eq!(ids(&tx), [2, 4]);
}

#[test]
fn a_jump_over_rules_that_do_not_match_keeps_replaying() {
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS:skip "@streq yes" "id:2,phase:1,pass,nolog,skipAfter:AFTER-3"
SecRule TX:a "@streq 1" "id:3,phase:1,deny,status:403"
SecMarker AFTER-3
SecAction "id:4,phase:1,pass,nolog,setvar:tx.b=1"
"#,
    );
    let (status, tx) = get(&rs, "/?skip=yes", false);
    assert_eq!(status, None);
    assert_eq!(tx.stats().replayed, 1, "rule 4");
    assert_eq!(tx.tx("b"), Some(&b"1"[..]));
}

#[test]
fn removing_a_fixed_rule_at_run_time_ends_replay() {
    // Rule 20 is removed by rule 10's `ctl`: rule 30 must see `tx.set` unset.
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS:x "@streq y" "id:10,phase:1,pass,nolog,ctl:ruleRemoveById=20"
SecAction "id:20,phase:1,pass,nolog,setvar:tx.set=1"
SecRule &TX:set "@eq 0" "id:30,phase:1,deny,status:403"
"#,
    );
    assert_eq!(get(&rs, "/?x=n", false).0, None);
    assert_eq!(get(&rs, "/?x=y", false).0, Some(403));
}

#[test]
fn removing_a_tx_target_at_run_time_ends_replay() {
    // Rule 30 matches `TX:a` on the benign path; without that target it has no value.
    let rs = rules(
        r#"SecRuleEngine On
SecAction "id:1,phase:1,pass,nolog,setvar:tx.a=1"
SecRule ARGS:x "@streq y" "id:10,phase:1,pass,nolog,ctl:ruleRemoveTargetById=30;TX:a"
SecRule TX:a "@eq 1" "id:30,phase:1,pass,nolog,setvar:tx.seen=1"
"#,
    );
    let (_, tx) = get(&rs, "/?x=n", false);
    assert_eq!(tx.tx("seen"), Some(&b"1"[..]));
    let (_, tx) = get(&rs, "/?x=y", false);
    assert_eq!(tx.tx("seen"), None, "TX:a is no longer a target");
}

#[test]
fn a_capture_makes_its_members_dirty() {
    let rs = rules(
        r#"SecRuleEngine On
SecRule ARGS "@rx (evil)" "id:1,phase:1,pass,nolog,capture"
SecRule TX:1 "@streq evil" "id:2,phase:1,deny,status:403"
"#,
    );
    assert_eq!(get(&rs, "/?q=good", false).0, None);
    assert_eq!(get(&rs, "/?q=evil", false).0, Some(403));
}

#[test]
fn a_logged_match_is_evaluated_for_its_record() {
    // Rule 1 matches on every request and is logged: its record names this request.
    let rs = rules(
        r#"SecRuleEngine On
SecAction "id:1,phase:1,pass,log,msg:'level %{tx.level}',setvar:tx.level=2"
"#,
    );
    assert_eq!(rs.replay.replayable(), 0);
    let (_, tx) = get(&rs, "/", false);
    assert!(tx.matches()[0].line().contains("[unique_id \"req-42\"]"));
}

#[test]
fn a_phase_run_without_the_one_before_ends_replay() {
    // Rule 50 replays a non-match on the benign path, where phase 3 set `tx.resp`; run
    // without phases 3 and 4, it must be evaluated and match.
    let rs = rules(
        r#"SecRuleEngine On
SecAction "id:30,phase:3,pass,nolog,setvar:tx.resp=1"
SecRule &TX:resp "@eq 0" "id:50,phase:5,pass,log,msg:'no response phases'"
"#,
    );
    let (_, tx) = get(&rs, "/", true);
    assert_eq!(ids(&tx), [30]);
    let (_, mut tx) = get(&rs, "/", false);
    tx.process_logging();
    assert_eq!(ids(&tx), [50]);
}

#[test]
fn crs_replays_its_bookkeeping_and_still_scores_attacks() {
    let rs = crs();
    let (status, tx) = get(&rs, "/search?q=shoes&page=2", true);
    assert_eq!(status, None);
    let s = tx.stats();
    assert!(s.replayed > 100, "{s:?}");
    assert_eq!(tx.tx("blocking_inbound_anomaly_score"), Some(&b"0"[..]));
    assert_eq!(tx.tx("detection_paranoia_level"), Some(&b"1"[..]));
    let (status, tx) = get(&rs, "/?id=1%27%20or%201=1--", true);
    assert_eq!(status, Some(403));
    assert!(ids(&tx).contains(&949110), "the blocking evaluation ran");
    let score = tx.tx("blocking_inbound_anomaly_score").unwrap_or_default();
    assert!(std::str::from_utf8(score).is_ok_and(|s| s.parse::<u32>().is_ok_and(|n| n >= 5)));
}

/// `@recommended-conf` and CRS at PL1 from the embedded bundle (`bundle.rs`).
fn crs() -> Arc<RuleSet> {
    let files = wafer::bundle::file_set().expect("embedded bundle");
    let text = "Include @recommended-conf\nInclude @crs-setup-conf\nInclude @owasp_crs/*.conf\n";
    Arc::new(RuleSet::compile("crs.conf", text, &files).expect("CRS compiles"))
}

#[test]
fn a_replayed_capture_removes_the_digits_an_evaluated_one_left() {
    // Rule 3 reads TX only and captures on the benign path: it is replayed. After rule 2
    // (evaluated) captured three groups, the replayed capture of one group must still
    // remove TX:2 and TX:3, as evaluating it would.
    let rs = rules(
        r#"SecRuleEngine On
SecAction "id:1,phase:1,pass,nolog,setvar:tx.fixed=a"
SecRule ARGS:q "@rx ^(x)(y)(z)$" "id:2,phase:1,pass,nolog,capture"
SecRule TX:fixed "@rx ^(a)$" "id:3,phase:1,pass,nolog,capture"
SecRule &TX:2 "@eq 0" "id:4,phase:1,pass,log,msg:'TX:2 gone'"
"#,
    );
    let (_, tx) = get(&rs, "/?q=xyz", false);
    assert!(tx.stats().replayed >= 1, "rule 3 is replayed");
    let logged: Vec<u64> = tx
        .matches()
        .iter()
        .filter(|m| m.log)
        .map(|m| m.id)
        .collect();
    assert_eq!(logged, [4]);
}
