//! Thirty-two read commands of the CLI as a sales user, over fields named in
//! English, Chinese and by their segment names: no masked or hidden value
//! appears in any output (standard output or error); every condition on
//! the hidden birth date, the hidden tags or a masked field is refused, and
//! so are whole-book answers for a role whose scope is `own`.

use std::process::{Command, Output};

fn kehu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kehu"))
        .args(args)
        .env_remove("KEHU_PASSPHRASE")
        .env_remove("KEHU_KEY_FILE")
        .env_remove("KEHU_POLICY")
        .output()
        .expect("run kehu")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Values the sales role may not see in full: e-mails and phones masked, the
/// birth date and tags hidden, the street masked; and a customer of another
/// owner outside the `own` scope.
const SECRETS: &[&str] = &[
    "zhang.wei@163.com",
    "8613812348000",
    "138 1234 8000",
    "1985-03-12",
    "19850312",
    "owes-5000",
    "88 Nanjing Road",
    "liu.fang@qq.com",
    "8613955551234",
    "Liu",
    "1979-11-02",
];

#[test]
fn thirty_read_commands_as_a_sales_user_show_nothing_unseen() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("shop.kehu");
    let csv = dir.path().join("customers.csv");
    std::fs::write(
        &csv,
        "客户编号,名,姓,邮箱,手机,生日,地址,城市,公司,标签,负责人\n\
         C1,Wei,Zhang,zhang.wei@163.com,+86 138 1234 8000,1985-03-12,88 Nanjing Road,上海,云帆贸易,owes-5000,li\n\
         C2,Fang,Liu,liu.fang@qq.com,+86 139 5555 1234,1979-11-02,9 Huaihai Road,上海,Acme,owes-5000,wang\n",
    )
    .unwrap();
    let purchases = dir.path().join("purchases.csv");
    std::fs::write(
        &purchases,
        "客户编号,amount,currency,at\nC1,880,CNY,2026-10-01T10:00:00Z\nC2,120,CNY,2026-09-01T10:00:00Z\n",
    )
    .unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[roles.sales]\noperations = [\"read\", \"export\"]\nscope = \"own\"\n\
         fields = { emails = \"masked\", phones = \"masked\", birth_date = \"hidden\", tags = \"hidden\", street = \"masked\" }\n",
    )
    .unwrap();
    let (b, p) = (book.to_str().unwrap(), policy.to_str().unwrap());
    let imported = kehu(&["import", b, csv.to_str().unwrap()]);
    assert_eq!(imported.status.code(), Some(0), "{}", text(&imported));
    let bought = kehu(&[
        "import",
        b,
        purchases.to_str().unwrap(),
        "--kind",
        "purchases",
    ]);
    assert_eq!(bought.status.code(), Some(0), "{}", text(&bought));
    let sales = ["--as", "li", "--roles", "sales", "--policy", p];

    let answered: &[&[&str]] = &[
        &["get", b, "C1"],
        &["get", b, "C1", "--json"],
        &["find", b, "--external-id", "C1", "--json"],
        &["stale", b, "--days", "0", "--json"],
        &["imports", b],
        &["segment", b, "职位 is empty", "--count"],
        &[
            "segment",
            b,
            "kind = person",
            "--as-of",
            "2026-12-31",
            "--json",
        ],
        &["segment", b, "kind = person", "--json"],
        &["segment", b, "城市 = \"上海\"", "--csv"],
        &["segment", b, "city = \"上海\"", "--explain", "C1"],
        &["segment", b, "姓 = \"Zhang\"", "--explain", "C1", "--json"],
        &["segment", b, "family_name = \"Zhang\"", "--ids"],
        &["segment", b, "公司 contains \"云帆\"", "--count"],
        &["segment", b, "purchases.sum >= 100", "--json"],
        &["segment", b, "name contains \"Wei\"", "--explain", "C1"],
        &["export", b, "--format", "jsonl"],
        &["export", b, "--format", "csv"],
        &["export", b, "--segment", "城市 = \"上海\""],
        &["subject-export", b, "C1"],
    ];
    let refused: &[&[&str]] = &[
        &["segment", b, "birthday < 1990-01-01"],
        &["segment", b, "生日 >= 1980-01-01", "--count"],
        &["segment", b, "birth_date < 1990-01-01", "--explain", "C1"],
        &["segment", b, "出生日期 < 1990-01-01", "--ids"],
        &["segment", b, "邮箱 contains \"163\"", "--explain", "C1"],
        &["segment", b, "phone starts_with \"+86138\""],
        &["segment", b, "has tag \"owes-5000\"", "--count"],
        &["find", b, "--email", "zhang.wei@163.com"],
        &["export", b, "--segment", "dob < 1990-01-01"],
        &["dedupe", b, "--json", "-q"],
        // Whole-book answers need scope all.
        &["stats", b],
        &["report", b],
        &["rfm", b, "--json"],
    ];
    assert!(answered.len() + refused.len() >= 30);
    for args in answered.iter().chain(refused) {
        let out = kehu(&[args, &sales[..]].concat());
        let said = text(&out);
        for secret in SECRETS {
            assert!(
                !said.contains(secret),
                "`kehu {}` shows {secret:?}:\n{said}",
                args.join(" ")
            );
        }
        let refusal = refused.contains(args);
        assert_eq!(
            out.status.code(),
            Some(if refusal { 1 } else { 0 }),
            "`kehu {}`:\n{said}",
            args.join(" ")
        );
        if refusal {
            assert!(
                said.contains("may not"),
                "`kehu {}`: {said}",
                args.join(" ")
            );
        }
    }
    // What the sales user may see does show: the masks, its own customer.
    let got = text(&kehu(&[&["get", b, "C1"][..], &sales[..]].concat()));
    assert!(
        got.contains("z***@163.com") && got.contains("138****8000") && got.contains("Wei"),
        "{got}"
    );
}
