//! What a column holds, and how to tell from its header and its values.

use kehu_model::catalogue::{self, Field};

use serde::{Deserialize, Serialize};

/// The kind of value a field holds; it decides normalisation, comparison
/// levels and blocking keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// A person's given (first) name.
    GivenName,
    /// A person's family name (surname).
    FamilyName,
    /// A person's whole name in one field, in either order.
    PersonName,
    /// A company or other organisation's name.
    OrgName,
    /// An e-mail address.
    Email,
    /// A telephone number in any format.
    Phone,
    /// A calendar date, such as a birth date, in any common format.
    Date,
    /// A postal code.
    Postcode,
    /// Free address text: a street line, a building.
    Address,
    /// A small number such as a house number.
    Number,
    /// A city, town or suburb.
    City,
    /// An identifier that is (nearly) unique per person: a national id, a
    /// membership number.
    Identifier,
    /// Free text.
    Text,
    /// One of a few values: a state, a country, a gender.
    Category,
    /// Not used for matching.
    Ignore,
}

impl FieldType {
    /// Every type, for help texts and settings checks.
    pub const ALL: [FieldType; 15] = [
        FieldType::GivenName,
        FieldType::FamilyName,
        FieldType::PersonName,
        FieldType::OrgName,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Date,
        FieldType::Postcode,
        FieldType::Address,
        FieldType::Number,
        FieldType::City,
        FieldType::Identifier,
        FieldType::Text,
        FieldType::Category,
        FieldType::Ignore,
    ];

    /// The name used in settings files.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::GivenName => "given_name",
            FieldType::FamilyName => "family_name",
            FieldType::PersonName => "person_name",
            FieldType::OrgName => "org_name",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Date => "date",
            FieldType::Postcode => "postcode",
            FieldType::Address => "address",
            FieldType::Number => "number",
            FieldType::City => "city",
            FieldType::Identifier => "identifier",
            FieldType::Text => "text",
            FieldType::Category => "category",
            FieldType::Ignore => "ignore",
        }
    }
}

/// One field of the records: its name (a column header) and its type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// The field's name, as in the file's header.
    pub name: String,
    /// What it holds.
    #[serde(rename = "type")]
    pub kind: FieldType,
}

/// A header reduced to lower-case letters and digits, words joined by `_`.
fn header_key(header: &str) -> String {
    let mut out = String::new();
    for c in header.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The type a header names, when it names one: a field of the catalogue
/// (in any language it knows), or one of the few things files hold that a
/// dossier does not (national ids, house numbers, genders).
pub fn type_from_header(header: &str) -> Option<FieldType> {
    use FieldType::*;
    if let Some(field) = catalogue::field(header) {
        if let Some(t) = header_type(field) {
            return Some(t);
        }
    }
    let key = header_key(header);
    let k = key.as_str();
    let table: &[(FieldType, &[&str])] = &[
        (
            Number,
            &[
                "street_number",
                "house_number",
                "number",
                "street_no",
                "house_no",
                "hausnummer",
                "门牌号",
            ],
        ),
        (
            Category,
            &["gender", "sex", "geschlecht", "sexe", "sexo", "性别"],
        ),
    ];
    if let Some((t, _)) = table.iter().find(|(_, names)| names.contains(&k)) {
        return Some(*t);
    }
    let identifier = [
        "ssn",
        "soc_sec_id",
        "social_security",
        "national_id",
        "passport",
        "tax_id",
        "身份证",
        "身份证号",
    ];
    if identifier.contains(&k) || (k.ends_with("_id") && k.len() > 3) {
        return Some(Identifier);
    }
    // Headers of other shapes, by the words they contain ("Customer First
    // Name", "Mobile No.", "Home Address Line 1", "Date of Birth (DD/MM)").
    let words: Vec<&str> = k.split('_').collect();
    let has = |w: &str| words.contains(&w);
    let any = |ws: &[&str]| ws.iter().any(|w| has(w));
    let named = any(&["name", "names"]);
    if named && any(&["first", "given", "fore", "christian"]) {
        Some(GivenName)
    } else if named && any(&["last", "family", "sur"]) || any(&["surname", "surnames"]) {
        Some(FamilyName)
    } else if any(&[
        "company",
        "organisation",
        "organization",
        "employer",
        "firm",
    ]) {
        Some(OrgName)
    } else if any(&["email", "mail"]) || k.contains("email") {
        Some(Email)
    } else if any(&["phone", "mobile", "tel", "telephone", "cell", "fax"]) {
        Some(Phone)
    } else if any(&["birth", "dob", "birthday", "born"]) {
        Some(Date)
    } else if any(&["zip", "postcode", "postal", "post"]) {
        Some(Postcode)
    } else if any(&["street", "address", "addr", "line"]) {
        Some(Address)
    } else if any(&["city", "town", "suburb", "locality"]) {
        Some(City)
    } else if named {
        Some(PersonName)
    } else {
        None
    }
}

/// How a catalogue field's column is compared when a file names it; none
/// when its values should decide (titles, tags, sources are often categories).
pub fn header_type(field: Field) -> Option<FieldType> {
    use FieldType::*;
    Some(match field {
        Field::GivenName => GivenName,
        Field::FamilyName => FamilyName,
        Field::Name | Field::FullName => PersonName,
        Field::Organization | Field::Company => OrgName,
        Field::Emails => Email,
        Field::Phones => Phone,
        Field::BirthDate => Date,
        Field::Street | Field::Addresses => Address,
        Field::City => City,
        Field::Postcode => Postcode,
        Field::District | Field::Region | Field::Country => Category,
        Field::ExternalId | Field::ResidentId | Field::CreditCode => Identifier,
        Field::OrgSize => Number,
        Field::KehuId | Field::CreatedAt | Field::UpdatedAt | Field::VerifiedAt => Ignore,
        Field::Kind
        | Field::Industry
        | Field::JobTitle
        | Field::Tags
        | Field::Owner
        | Field::Source
        | Field::Stage => return None,
    })
}

/// What a sample of a column's values looks like.
#[derive(Default)]
struct Sample {
    seen: usize,
    email: usize,
    date: usize,
    phone: usize,
    digits: usize,
    /// Values of two or more words.
    words: usize,
    distinct: Vec<String>,
}

impl Sample {
    fn of<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut s = Sample::default();
        for v in values {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            s.seen += 1;
            if v.contains('@') && v.contains('.') {
                s.email += 1;
            }
            if crate::normalize::date_key(v).is_some() {
                s.date += 1;
            }
            let ds = v.chars().filter(char::is_ascii_digit).count();
            let phone_chars = v
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if phone_chars && (7..=15).contains(&ds) {
                s.phone += 1;
            }
            if v.chars().all(|c| c.is_ascii_digit()) {
                s.digits += 1;
            }
            if v.split_whitespace().nth(1).is_some() {
                s.words += 1;
            }
            if s.distinct.len() < 64 && !s.distinct.iter().any(|d| d == v) {
                s.distinct.push(v.to_string());
            }
        }
        s
    }

    /// Whether `n` of the values are most of them (80 %).
    fn most(&self, n: usize) -> bool {
        n * 10 >= self.seen * 8
    }

    /// Whether `n` of the values are at most a few of them (under half),
    /// in a sample big enough to say so.
    fn few(&self, n: usize) -> bool {
        self.seen >= 20 && n * 2 < self.seen
    }

    /// The type the values alone suggest.
    fn kind(&self) -> FieldType {
        if self.seen == 0 {
            FieldType::Text
        } else if self.most(self.email) {
            FieldType::Email
        } else if self.most(self.date) {
            FieldType::Date
        } else if self.most(self.phone) && !self.most(self.digits) {
            FieldType::Phone
        } else if self.distinct.len() <= 12 && self.seen >= 50 {
            FieldType::Category
        } else if self.most(self.digits) {
            FieldType::Identifier
        } else {
            FieldType::Text
        }
    }
}

/// The type of a column: its header suggests, its values decide. A header
/// that names a date, an e-mail or a phone whose values are mostly not one
/// (`birth_place` of place names) is overruled by them; a given or family
/// name column whose values are 60 % two words or more
/// (`first_and_surname`) holds whole names. A header that says nothing
/// leaves the type to the values.
pub fn guess_type<'a>(header: &str, sample: impl IntoIterator<Item = &'a str>) -> FieldType {
    let s = Sample::of(sample);
    match type_from_header(header) {
        Some(FieldType::Date) if s.few(s.date) => s.kind(),
        Some(FieldType::Email) if s.few(s.email) => s.kind(),
        Some(FieldType::Phone) if s.few(s.phone) => s.kind(),
        Some(FieldType::GivenName | FieldType::FamilyName)
            if s.seen >= 20 && s.words * 10 >= s.seen * 6 =>
        {
            FieldType::PersonName
        }
        Some(t) => t,
        None => s.kind(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn febrl_headers() {
        let want = [
            ("given_name", FieldType::GivenName),
            ("surname", FieldType::FamilyName),
            ("street_number", FieldType::Number),
            ("address_1", FieldType::Address),
            ("address_2", FieldType::Address),
            ("suburb", FieldType::City),
            ("postcode", FieldType::Postcode),
            ("state", FieldType::Category),
            ("date_of_birth", FieldType::Date),
            ("soc_sec_id", FieldType::Identifier),
        ];
        for (h, t) in want {
            assert_eq!(type_from_header(h), Some(t), "{h}");
        }
    }

    #[test]
    fn common_and_chinese_headers() {
        let want = [
            ("First Name", FieldType::GivenName),
            ("last_name", FieldType::FamilyName),
            ("E-mail", FieldType::Email),
            ("Phone", FieldType::Phone),
            ("DOB", FieldType::Date),
            ("City", FieldType::City),
            ("ZIP", FieldType::Postcode),
            ("姓名", FieldType::PersonName),
            ("Vorname", FieldType::GivenName),
            ("Nachname", FieldType::FamilyName),
            ("PLZ", FieldType::Postcode),
            ("Straße", FieldType::Address),
            ("Ort", FieldType::City),
            ("Geburtsdatum", FieldType::Date),
            ("Prénom", FieldType::GivenName),
            ("Téléphone", FieldType::Phone),
            ("Código postal", FieldType::Postcode),
            ("手机", FieldType::Phone),
            ("邮箱", FieldType::Email),
            ("地址", FieldType::Address),
            ("company", FieldType::OrgName),
        ];
        for (h, t) in want {
            assert_eq!(type_from_header(h), Some(t), "{h}");
        }
    }

    #[test]
    fn headers_of_other_shapes_by_their_words() {
        let want = [
            ("Customer First Name", FieldType::GivenName),
            ("Given Names", FieldType::GivenName),
            ("Family Name(s)", FieldType::FamilyName),
            ("Mobile No.", FieldType::Phone),
            ("Home Address Line 1", FieldType::Address),
            ("Date of Birth (DD/MM/YYYY)", FieldType::Date),
            ("Work E-Mail", FieldType::Email),
            ("E-Mail Address", FieldType::Email),
            ("Mailing Address", FieldType::Address),
            ("Postal Code", FieldType::Postcode),
            ("Contact Name", FieldType::PersonName),
            ("Company Name", FieldType::OrgName),
        ];
        for (h, t) in want {
            assert_eq!(type_from_header(h), Some(t), "{h}");
        }
        assert_eq!(type_from_header("notes"), None);
    }

    #[test]
    fn values_decide_when_the_header_does_not() {
        let emails = ["a@x.com", "b@y.org", "", "c@z.net"];
        assert_eq!(guess_type("contact", emails), FieldType::Email);
        let dates = ["1990-01-02", "19851231", "03/04/2001"];
        assert_eq!(guess_type("geburtstag", dates), FieldType::Date);
        let phones = ["+86 138 0013 8000", "(555) 123-4567", "0152 1234567"];
        assert_eq!(guess_type("kontakt", phones), FieldType::Phone);
        assert_eq!(guess_type("notes", ["hello there", "x"]), FieldType::Text);
        assert_eq!(guess_type("empty", [""; 3]), FieldType::Text);
    }

    #[test]
    fn values_overrule_a_header_that_lies() {
        let places = ["Berlin", "Hamburg", "Lyon", "München", "Graz"].repeat(6);
        assert_eq!(
            guess_type("birth_place", places.iter().copied()),
            FieldType::Text
        );
        let dates = ["1970-01-02", "1985-12-31", "19560909"].repeat(10);
        assert_eq!(
            guess_type("birth_place", dates.iter().copied()),
            FieldType::Date
        );
        // A date column with a few bad values stays a date.
        let mut mostly = ["1970-01-02", "1985-12-31"].repeat(12);
        mostly.extend(["unknown"; 6]);
        assert_eq!(
            guess_type("date_of_birth", mostly.iter().copied()),
            FieldType::Date
        );
        let whole = ["Anna Meyer", "Ben Schulz", "Clara Wagner", "Dora"].repeat(6);
        assert_eq!(
            guess_type("first_and_surname", whole.iter().copied()),
            FieldType::PersonName
        );
        let given = ["Anna", "Ben", "Mary Ann", "Dora"].repeat(6);
        assert_eq!(
            guess_type("given_name", given.iter().copied()),
            FieldType::GivenName
        );
        // Too few values to overrule the header.
        assert_eq!(guess_type("birth_place", ["Berlin"; 5]), FieldType::Date);
        let phones = ["call me", "n/a", "later"].repeat(10);
        assert_eq!(guess_type("phone", phones.iter().copied()), FieldType::Text);
    }
}
