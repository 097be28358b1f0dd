//! An archive tracked from the real pages of `../shared/corpus/html/` (served from
//! 127.0.0.1; read there, never copied), and the provision comparison over it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::support::{TestArchive, TestServer, corpus};

/// The latest snapshot of each (service, type) in the corpus.
fn latest_pages(corpus: &std::path::Path) -> BTreeMap<(String, String), PathBuf> {
    let mut latest: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    for entry in std::fs::read_dir(corpus.join("html")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let parts: Vec<&str> = name.trim_end_matches(".html").split("__").collect();
        if let [service, doc_type, _date] = parts.as_slice() {
            let key = (service.to_string(), doc_type.to_string());
            // File names end in the date, so the greatest name is the newest snapshot.
            if latest
                .get(&key)
                .is_none_or(|p| *p.file_name().unwrap().to_string_lossy() < *name)
            {
                latest.insert(key, entry.path());
            }
        }
    }
    latest
}

#[test]
fn compare_over_real_platform_pages() {
    let Some(corpus) = corpus() else { return };
    let server = TestServer::start();
    let archive = TestArchive::new();
    let mut services: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for ((service, doc_type), path) in latest_pages(&corpus) {
        let route = format!("/{service}/{doc_type}");
        server.page(&route, &String::from_utf8_lossy(&std::fs::read(path).unwrap()));
        services
            .entry(service)
            .or_default()
            .push((doc_type, server.url(&route)));
    }
    assert!(services.len() >= 15, "{} services in the corpus", services.len());
    for (service, documents) in &services {
        let documents: Vec<(&str, &str)> = documents.iter().map(|(t, u)| (t.as_str(), u.as_str())).collect();
        archive.declare_simple(service, service, &documents);
    }
    let (code, stdout, _) = archive.run(&["track", "--jobs", "4"]);
    let failed = stdout.lines().filter(|l| l.starts_with("failed")).count();
    assert!(code <= 1 && failed <= 3, "real pages track cleanly: {stdout}");

    let (code, matrix, stderr) = archive.run(&["compare", "--all"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        matrix.contains("| AI training on user content or data (`ai-training`) |"),
        "{matrix}"
    );
    let row = matrix.lines().find(|l| l.contains("`ai-training`")).unwrap();
    // Cells after the provision's: a position, or "—" where the platform says nothing.
    let stated = row
        .split('|')
        .skip(2)
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != "—" && !c.starts_with("mentions it"))
        .count();
    assert!(
        stated >= 3,
        "several real platforms take a position on AI training: {row}"
    );

    let (code, md, _) = archive.run(&["compare", "ai-training"]);
    assert_eq!(code, 0);
    assert!(
        md.contains("| service | position | document | since | strongest sentence |"),
        "{md}"
    );
    assert!(
        md.contains("| service | document | stance | since | sentence |"),
        "{md}"
    );
}
