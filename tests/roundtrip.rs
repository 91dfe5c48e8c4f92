//! Property tests: any dossier or related record survives serde unchanged.

use kehu::{Customer, CustomerId, Related};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn customers_round_trip_through_json(c in kehu_model::arbitrary::customer()) {
        let json = serde_json::to_string(&c).unwrap();
        prop_assert_eq!(serde_json::from_str::<Customer>(&json).unwrap(), c);
    }

    #[test]
    fn related_records_round_trip_through_json(r in kehu_model::arbitrary::related(CustomerId::new())) {
        let json = serde_json::to_string(&r).unwrap();
        prop_assert_eq!(serde_json::from_str::<Related>(&json).unwrap(), r);
    }
}
