//! Any text as a TOML or JSON rule set: parsed and compiled, or refused with an
//! error; a compiled one checks a dossier without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [kehu::RuleSet::from_toml(text), kehu::RuleSet::from_json(text)] {
        if let Ok(set) = parsed {
            if let Ok(rules) = kehu::Rules::new(set) {
                let mut c = kehu::Customer::person("Wei", "Zhang")
                    .with_email("wei@example.com")
                    .with_phone("13800138000");
                let _ = rules.check(&mut c, chrono_now());
            }
        }
    }
});

fn chrono_now() -> kehu::Timestamp {
    kehu::Timestamp::from_timestamp(1_800_000_000, 0).unwrap()
}
