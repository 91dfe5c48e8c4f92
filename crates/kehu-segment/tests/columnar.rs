//! The columnar projection gives the same members as the row-wise evaluation,
//! for random segments over random customers with activity.

mod common;

use common::{book, expression, now, schema, Rng};
use kehu_segment::{Projection, Segment};

#[test]
fn projection_agrees_with_row_wise_evaluation() {
    let mut rng = Rng(0x0c01_u64 << 40 | 0xabcdef);
    let book = book(&mut rng, 500);
    let segments: Vec<Segment> = (0..600)
        .map(|_| Segment::parse(&expression(&mut rng, 3), &schema()).unwrap())
        .collect();
    let refs: Vec<&Segment> = segments.iter().collect();
    let projection = Projection::build(book.iter().map(|(c, r)| (c, r.as_slice())), &refs);
    assert_eq!(projection.len(), book.len());
    for s in &segments {
        let rows: Vec<_> = book
            .iter()
            .filter(|(c, r)| s.matches(c, r, now()))
            .map(|(c, _)| c.id)
            .collect();
        assert_eq!(projection.members(s, now()), rows, "{}", s.source());
        assert_eq!(projection.count(s, now()), rows.len());
    }
}

/// Rows with several values (two e-mails, several tags, sums in two currencies)
/// and rows with none, through every kind of test.
#[test]
fn several_values_and_none() {
    use kehu_model::{Customer, Money, Purchase, Related};
    let now = now();
    let two = Customer::person("A", "B")
        .with_email("a@qq.com")
        .with_email("b@163.com")
        .with_tag("VIP")
        .with_tag("老客户");
    let none = Customer::person("C", "D");
    let cny = "CNY".parse().unwrap();
    let eur = "EUR".parse().unwrap();
    let related: Vec<Related> = vec![
        Purchase::new(two.id, now, Money::new(50_000, cny)).into(),
        Purchase::new(two.id, now, Money::new(20_000, eur)).into(),
    ];
    let book = [(two.clone(), related), (none.clone(), Vec::new())];
    let cases = [
        ("email not in [\"a@qq.com\"]", vec![]),
        ("email not in [\"x@qq.com\"]", vec![two.id]),
        ("email in [\"b@163.com\"]", vec![two.id]),
        ("email != \"a@qq.com\"", vec![two.id]),
        ("email ends_with \"163.com\"", vec![two.id]),
        ("email is empty", vec![none.id]),
        ("not (email = \"a@qq.com\")", vec![]),
        ("has tag \"老客户\"", vec![two.id]),
        ("not has tag \"VIP\"", vec![none.id]),
        ("tags is empty", vec![none.id]),
        ("purchases.sum > 400", vec![two.id]),
        ("purchases.sum < 300", vec![two.id, none.id]),
        ("purchases.sum between 150 and 250", vec![two.id]),
        ("purchases.avg > 100", vec![two.id]),
        ("purchases.avg is empty", vec![none.id]),
    ];
    let segments: Vec<Segment> = cases
        .iter()
        .map(|(src, _)| Segment::parse(src, &schema()).unwrap())
        .collect();
    let refs: Vec<&Segment> = segments.iter().collect();
    let projection = Projection::build(book.iter().map(|(c, r)| (c, r.as_slice())), &refs);
    for (s, (src, expected)) in segments.iter().zip(&cases) {
        let rows: Vec<_> = book
            .iter()
            .filter(|(c, r)| s.matches(c, r, now))
            .map(|(c, _)| c.id)
            .collect();
        assert_eq!(&rows, expected, "row-wise: {src}");
        assert_eq!(&projection.members(s, now), expected, "columnar: {src}");
    }
}
