//! Every public method of the Rust `Book` has a counterpart in the FFI's
//! `Book`, or a line in the README's list of methods it does not mirror
//! (between `<!-- ffi-not-mirrored -->` markers) saying why.

use std::path::Path;

/// Names of `pub fn`s in `impl Book` / `impl crate::Book` blocks of a source file.
fn book_methods(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in source.lines() {
        if line.starts_with("impl Book {") || line.starts_with("impl crate::Book {") {
            inside = true;
        } else if line.starts_with('}') {
            inside = false;
        } else if inside {
            if let Some(rest) = line.strip_prefix("    pub fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_book_method_is_mirrored_or_explained() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut core = Vec::new();
    sources(&root.join("src"), &mut core);
    let methods: Vec<String> = core.iter().flat_map(|s| book_methods(s)).collect();
    assert!(
        methods.len() > 60,
        "found only {methods:?}: is the scan stale?"
    );

    let ffi = std::fs::read_to_string(root.join("bindings/ffi/src/book.rs")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let listed = readme
        .split("<!-- ffi-not-mirrored -->")
        .nth(1)
        .and_then(|s| s.split("<!-- /ffi-not-mirrored -->").next())
        .expect("the README lists the methods the FFI does not mirror");

    let mut missing = Vec::new();
    for m in &methods {
        let mirrored = ffi.contains(&format!("pub fn {m}("));
        let explained = listed.contains(&format!("`{m}`"));
        if !mirrored && !explained {
            missing.push(m.clone());
        }
        assert!(
            !(mirrored && explained),
            "`{m}` is mirrored and also listed as not mirrored"
        );
    }
    assert!(
        missing.is_empty(),
        "Book methods with neither an FFI counterpart nor a README line: {missing:?}"
    );
}
