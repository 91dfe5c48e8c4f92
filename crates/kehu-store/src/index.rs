use kehu_model::Customer;

/// A key in one of a store's secondary indexes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexKey {
    /// A normalised e-mail address, compared without case.
    Email(String),
    /// A phone number in E.164 form.
    Phone(String),
    /// The id in the source system.
    ExternalId(String),
    /// A tag.
    Tag(String),
    /// A resident ID in its 18-character form.
    ResidentId(String),
    /// A unified social credit code.
    CreditCode(String),
    /// A key in a named index kept for an engine (for example dedupe blocking keys).
    Keyed {
        /// The index's name.
        index: String,
        /// The key.
        key: Vec<u8>,
    },
}

impl IndexKey {
    /// The key for an e-mail address: trimmed and lower-cased, as the index keeps it.
    pub fn email(address: &str) -> Self {
        Self::Email(address.trim().to_lowercase())
    }

    /// The bytes a backend stores: a tag byte, then the value (for a keyed index,
    /// the index name, a zero byte and the key).
    pub fn encode(&self) -> Vec<u8> {
        let (tag, name, value): (u8, &[u8], &[u8]) = match self {
            Self::Email(v) => (1, b"", v.as_bytes()),
            Self::Phone(v) => (2, b"", v.as_bytes()),
            Self::ExternalId(v) => (3, b"", v.as_bytes()),
            Self::Tag(v) => (4, b"", v.as_bytes()),
            Self::ResidentId(v) => (6, b"", v.as_bytes()),
            Self::CreditCode(v) => (7, b"", v.as_bytes()),
            Self::Keyed { index, key } => (5, index.as_bytes(), key),
        };
        let mut out = Vec::with_capacity(2 + name.len() + value.len());
        out.push(tag);
        if tag == 5 {
            out.extend_from_slice(name);
            out.push(0);
        }
        out.extend_from_slice(value);
        out
    }
}

/// The standard index keys of a dossier: its e-mails, phones, external id,
/// tags, resident ID and credit code.
pub fn index_keys(customer: &Customer) -> Vec<IndexKey> {
    let mut keys: Vec<IndexKey> = customer
        .emails
        .iter()
        .filter(|e| !e.address.is_empty())
        .map(|e| IndexKey::email(&e.address))
        .chain(
            customer
                .phones
                .iter()
                .filter(|p| !p.number.is_empty())
                .map(|p| IndexKey::Phone(p.number.clone())),
        )
        .chain(
            customer
                .external_id
                .iter()
                .filter(|x| !x.is_empty())
                .map(|x| IndexKey::ExternalId(x.clone())),
        )
        .chain(customer.tags.iter().map(|t| IndexKey::Tag(t.clone())))
        .chain(
            customer
                .resident_id
                .iter()
                .filter(|x| !x.is_empty())
                .map(|x| IndexKey::ResidentId(x.clone())),
        )
        .chain(
            customer
                .credit_code
                .iter()
                .filter(|x| !x.is_empty())
                .map(|x| IndexKey::CreditCode(x.clone())),
        )
        .collect();
    keys.sort();
    keys.dedup();
    keys
}
