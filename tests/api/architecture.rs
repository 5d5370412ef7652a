//! The layer rules of ARCHITECTURE.md, checked on the sources: a rule a test does not hold is a rule
//! the next feature breaks.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn src(layer: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let dir = if layer.is_empty() {
        root.clone()
    } else {
        root.join(layer)
    };
    rust_files(&dir)
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.strip_prefix(&root).unwrap().display().to_string();
            (name, text)
        })
        .collect()
}

#[test]
fn only_use_cases_write_events() {
    for (file, text) in src("") {
        if text.contains("outbox::insert(") {
            assert!(
                file.starts_with("app/") || file == "db/outbox.rs",
                "{file} writes an outbox event: events belong to the use cases in src/app"
            );
        }
    }
}

#[test]
fn handlers_know_no_sql_and_use_cases_know_no_http() {
    for (file, text) in src("http") {
        for sql in [
            "sql_query(",
            "diesel::update",
            "diesel::insert_into",
            "diesel::delete",
        ] {
            assert!(
                !text.contains(sql),
                "http/{file} runs SQL ({sql}): put it in src/db"
            );
        }
    }
    for layer in ["app", "domain", "db"] {
        for (file, text) in src(layer) {
            for http in ["actix_web", "crate::http", "HttpResponse"] {
                assert!(
                    !text.contains(http),
                    "{file} depends on the HTTP layer ({http})"
                );
            }
        }
    }
    for (file, text) in src("domain") {
        // A `diesel` derive that maps a value to a column is allowed; queries and I/O are not.
        for io in [
            "diesel_async",
            "RunQueryDsl",
            "diesel::prelude",
            "tokio",
            "reqwest",
            "std::fs",
        ] {
            assert!(
                !text.contains(io),
                "{file} does I/O ({io}): the domain is pure"
            );
        }
    }
}
