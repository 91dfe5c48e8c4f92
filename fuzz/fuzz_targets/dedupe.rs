//! Any bytes as a CSV file to dedupe, and any text as dedupe settings or a
//! survivorship policy: an answer or a clear error, never a panic.
#![no_main]

use kehu::dedupe::{Dataset, Deduper, Settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Settings::parse(text);
        let _ = kehu::Survivorship::parse(text);
    }
    let Ok(ds) = Dataset::from_csv(data, None, &[]) else {
        return;
    };
    let n = ds.len();
    if let Ok(mut dd) = Deduper::new(ds, Settings::default()) {
        if let Ok(out) = dd.run(&mut |_| {}) {
            assert_eq!(out.clusters.of.len(), n);
        }
    }
});
