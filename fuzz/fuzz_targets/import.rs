//! Any bytes as an input file (CSV or JSON Lines, by the first byte): a report
//! whose counts add up, with a book holding exactly the imported rows, or a
//! clear input error; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let name = if first % 2 == 0 { "fuzz.csv" } else { "fuzz.jsonl" };
    let book = kehu::Book::in_memory();
    let options = kehu::io::ImportOptions::default();
    let input = Box::new(std::io::Cursor::new(rest.to_vec()));
    match book.import_reader(input, name, None, &options, &mut |_| {}) {
        Ok(report) => {
            assert!(report.balances(), "{}", report.summary());
            assert_eq!(book.count().unwrap(), report.imported);
        }
        Err(kehu::Error::Input { .. }) => {}
        Err(other) => panic!("unexpected error: {other}"),
    }
});
