//! Loads CRS from `CRS_DIR` and reports the rule count, load time and prefilter size.
use std::time::Instant;
use wafer::{FileSet, RuleSet};

fn main() {
    let dir = std::env::var("CRS_DIR").unwrap_or_else(|_| "../shared/crs/v4.28.0".into());
    let mut fs = FileSet::new();
    let mut text = String::new();
    fs.insert(
        "crs/crs-setup.conf",
        std::fs::read(format!("{dir}/crs-setup.conf.example")).expect("crs-setup"),
    );
    let mut names: Vec<_> = std::fs::read_dir(format!("{dir}/rules"))
        .expect("rules dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in &names {
        fs.insert(
            format!("crs/rules/{n}"),
            std::fs::read(format!("{dir}/rules/{n}")).unwrap(),
        );
    }
    text.push_str("Include crs/crs-setup.conf\nInclude crs/rules/*.conf\n");
    let t = Instant::now();
    match RuleSet::compile("main", &text, &fs) {
        Ok(rs) => println!(
            "{} rules in {:?}; prefilter: {} groups, {} clusters, {} bytes of automata",
            rs.rules.len(),
            t.elapsed(),
            rs.prefilter.groups.len(),
            rs.prefilter.clusters.len(),
            rs.prefilter.memory_usage()
        ),
        Err(e) => println!("error: {e}"),
    }
}
