//! What the book answers: reports, duplicates, merges, history, segments,
//! classes, imports, audit — as records, converted from the core types.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::dossier::{system_time, Customer, LifecycleStage};
use crate::related::{Consent, RelatedRecord};

/// How much a violation weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Severity {
    /// Not reported.
    Off,
    /// Reported; the record is still saved.
    Warning,
    /// The record is refused.
    Error,
}

/// One problem the entry rules found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Violation {
    /// The field path: `emails[0].address`, `name`, `custom.level`.
    pub path: String,
    /// A stable code: `email.invalid`, `required`.
    pub code: String,
    /// The rule that found it.
    pub rule: String,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong (never the value itself).
    pub message: String,
}

/// The region a record's phone numbers without a country code were read in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImpliedRegion {
    /// ISO 3166-1 alpha-2.
    pub region: String,
    /// What decided it: `address_country`, `city`, `province`, `street`,
    /// `postcode`, `email_domain`, `mail_provider`, `number` or `default`.
    pub clue: String,
}

/// What the rules say of a record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Report {
    /// No errors (warnings allowed).
    pub ok: bool,
    /// Every violation, errors and warnings.
    pub violations: Vec<Violation>,
    /// The region numbers without a country code were read in, when one was needed.
    pub region: Option<ImpliedRegion>,
}

/// A saved dossier and what the rules and the duplicate check said.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Saved {
    /// The dossier as stored (normalised, with its id and version; as it
    /// would have been stored, when skipped; the merged one, when merged).
    pub customer: Customer,
    /// Warnings, if any.
    pub violations: Vec<Violation>,
    /// The region its numbers without a country code were read in, when one was needed.
    pub region: Option<ImpliedRegion>,
    /// Dossiers (or earlier records of the same call) it may duplicate.
    pub duplicates: Vec<DuplicateCandidate>,
    /// What the write did with it.
    pub status: WriteStatus,
    /// The dossier it was merged into, when it was.
    pub merged_into: Option<String>,
}

/// What a write did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum WriteStatus {
    /// Written as a new dossier.
    Added,
    /// An existing dossier was changed.
    Updated,
    /// Merged into the dossier it duplicates.
    Merged,
    /// Not written: it duplicates a dossier.
    Skipped,
}

impl From<kehu::WriteStatus> for WriteStatus {
    fn from(s: kehu::WriteStatus) -> Self {
        match s {
            kehu::WriteStatus::Added => Self::Added,
            kehu::WriteStatus::Updated => Self::Updated,
            kehu::WriteStatus::Merged => Self::Merged,
            kehu::WriteStatus::Skipped => Self::Skipped,
        }
    }
}

/// What the book does with a likely duplicate at entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DuplicateAction {
    /// Refuse the new dossier.
    Block,
    /// Save it and report the candidate.
    Warn,
    /// Save it silently.
    Allow,
}

/// The decision for a pair of records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Decision {
    /// The same customer.
    Match,
    /// Someone should look.
    Review,
    /// Different customers.
    NonMatch,
}

/// How one field compared.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FieldMatch {
    /// The field.
    pub field: String,
    /// Its value on the left.
    pub left: String,
    /// Its value on the right.
    pub right: String,
    /// The comparison level reached ("exact", "jaro-winkler ≥ 0.92", "else").
    pub level: String,
    /// The evidence it adds (log2 of the likelihood ratio).
    pub weight: f64,
}

/// Why two records match, field by field.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MatchExplanation {
    /// The left record's id.
    pub id_left: String,
    /// The right record's id.
    pub id_right: String,
    /// The prior's weight.
    pub prior_weight: f64,
    /// Each field's contribution.
    pub fields: Vec<FieldMatch>,
    /// The total weight.
    pub weight: f64,
    /// The match probability.
    pub probability: f64,
    /// The decision.
    pub decision: Decision,
    /// A rule that vetoed the match, if any.
    pub veto: Option<String>,
}

/// A dossier a new one likely duplicates.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DuplicateCandidate {
    /// The existing dossier.
    pub id: String,
    /// When it is a record of the same call: its position there.
    pub index: Option<u64>,
    /// The match probability.
    pub probability: f64,
    /// What the book does about it.
    pub action: DuplicateAction,
    /// Why, field by field.
    pub explanation: MatchExplanation,
}

/// A dossier a refused one likely duplicates, without the compared values
/// (an error's text may end up in logs): `checkDuplicates` on the draft gives
/// the field-by-field explanation.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DuplicateHit {
    /// The existing dossier.
    pub id: String,
    /// The match probability.
    pub probability: f64,
    /// What the book does about it.
    pub action: DuplicateAction,
}

/// A pair the book's dedupe scored.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ScoredPair {
    /// One dossier.
    pub left: String,
    /// The other.
    pub right: String,
    /// The match probability.
    pub probability: f64,
    /// The decision.
    pub decision: Decision,
    /// Whether the pair ended in one cluster.
    pub clustered: bool,
}

/// The result of deduping the whole book.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct BookDedupe {
    /// Pairs scored as matches or for review.
    pub pairs: Vec<ScoredPair>,
    /// Groups of dossiers of one customer (two or more each).
    pub clusters: Vec<Vec<String>>,
    /// What the run noticed (a field too sparse to learn, say).
    pub warnings: Vec<String>,
}

/// A merge, kept so it can be undone.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MergeReceipt {
    /// The receipt's id (give it to `unmerge`).
    pub id: String,
    /// When.
    pub at: SystemTime,
    /// Who merged.
    pub actor: String,
    /// The dossier that stayed.
    pub survivor: String,
    /// The survivor's version after the merge.
    pub merged_version: u64,
    /// The dossiers as they were.
    pub before: Vec<Customer>,
    /// Related records moved to the survivor: (record id, from customer).
    pub moved: Vec<MovedRecord>,
    /// Whether it was undone.
    pub unmerged: bool,
}

/// A related record a merge moved.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MovedRecord {
    /// The record.
    pub record: String,
    /// The dossier it belonged to.
    pub from_customer: String,
}

/// The result of a merge (or of a dry run: no receipt).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Merged {
    /// The surviving dossier.
    pub customer: Customer,
    /// The receipt; none for a dry run.
    pub receipt: Option<MergeReceipt>,
    /// Other dossiers the merged one may duplicate.
    pub duplicates: Vec<DuplicateCandidate>,
}

/// One field a change touched.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldChange {
    /// The field path.
    pub path: String,
    /// The value before, as JSON text.
    pub before: Option<String>,
    /// The value after, as JSON text.
    pub after: Option<String>,
}

/// An entry of a dossier's history.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Change {
    /// Its place in the book's change log.
    pub seq: u64,
    /// The dossier.
    pub customer_id: String,
    /// When.
    pub at: SystemTime,
    /// Who.
    pub actor: String,
    /// `created`, `updated`, `deleted`, `related`, `unrelated`.
    pub op: String,
    /// For related/unrelated: the record's kind (`purchase`, …) and id.
    pub record_kind: Option<String>,
    /// For related/unrelated: the record's id.
    pub record_id: Option<String>,
    /// The fields that changed.
    pub fields: Vec<FieldChange>,
}

/// One entry of the change feed: which dossier, what happened, which fields
/// — never a value. `seq` is the cursor to ask again from.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FeedEntry {
    /// The store-wide sequence number.
    pub seq: u64,
    /// When.
    pub at: SystemTime,
    /// The dossier.
    pub customer_id: String,
    /// `created`, `updated`, `deleted`, `related`, `unrelated`, `erased`.
    pub kind: String,
    /// For related/unrelated: the record's kind.
    pub related_kind: Option<String>,
    /// For related/unrelated: the record's id.
    pub record_id: Option<String>,
    /// The field paths an update changed.
    pub fields: Vec<String>,
    /// Who (none for an erasure).
    pub actor: Option<String>,
}

/// A saved segment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SavedSegment {
    /// Its name.
    pub name: String,
    /// The filter condition.
    pub condition: String,
    /// Kept current as data changes.
    pub dynamic: bool,
    /// When it was saved.
    pub saved_at: SystemTime,
    /// Its members when saved (a static segment) or now (a dynamic one).
    pub members: Vec<String>,
}

/// One test of a segment condition, as it went for one customer.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TestOutcome {
    /// The test as written.
    pub test: String,
    /// The dossier field it tests, by its catalogue name; none for aggregates.
    pub field: Option<String>,
    /// Whether it held; none: not reached.
    pub held: Option<bool>,
    /// The values it looked at, as text.
    pub seen: Vec<String>,
}

/// Why a customer is or is not in a segment.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SegmentExplanation {
    /// Whether the customer is a member.
    pub member: bool,
    /// Each test of the condition.
    pub tests: Vec<TestOutcome>,
}

/// RFM scores (1–5, 5 best) and the group they put a customer in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Rfm {
    /// Recency.
    pub r: u8,
    /// Frequency.
    pub f: u8,
    /// Monetary.
    pub m: u8,
    /// `champions`, `loyal`, `at_risk`, `lost`, …
    pub group: String,
}

/// A customer's classes.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Classes {
    /// The customer.
    pub id: String,
    /// Purchases counted.
    pub purchases: u32,
    /// Their total, in minor units of the report's currency.
    pub monetary_minor: i64,
    /// RFM scores (buyers only).
    pub rfm: Option<Rfm>,
    /// `high`, `medium`, `low` (buyers only).
    pub tier: Option<String>,
    /// The lifecycle stage.
    pub stage: LifecycleStage,
}

/// Counts over the whole book.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BookStats {
    /// Dossiers.
    pub customers: u64,
    /// Per kind.
    pub by_kind: HashMap<String, u64>,
    /// Per lifecycle stage.
    pub by_stage: HashMap<String, u64>,
    /// Per source.
    pub by_source: HashMap<String, u64>,
    /// Per tag.
    pub by_tag: HashMap<String, u64>,
    /// Dossiers created per month (`2026-11`).
    pub imported_per_month: HashMap<String, u64>,
}

/// The book's report: classes and segments counted.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BookReport {
    /// The currency of the monetary figures.
    pub currency: String,
    /// Dossiers.
    pub customers: u64,
    /// Customers with a purchase.
    pub buyers: u64,
    /// Per RFM group.
    pub rfm_groups: HashMap<String, u64>,
    /// Recency (rows) by frequency (columns), 5 × 5.
    pub rfm_grid: Vec<Vec<u64>>,
    /// Per value tier.
    pub tiers: HashMap<String, u64>,
    /// Per lifecycle stage.
    pub stages: HashMap<String, u64>,
    /// New customers per month.
    pub new_per_month: HashMap<String, u64>,
    /// Members per saved segment.
    pub saved_segments: HashMap<String, u64>,
}

/// A problem with one row of an import.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RowProblem {
    /// The line in the file.
    pub line: u64,
    /// The column, if one.
    pub column: Option<String>,
    /// The cell as read (shortened).
    pub value: Option<String>,
    /// A stable code.
    pub code: String,
    /// Error (row rejected) or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ImportReport {
    /// The import's id (none for a dry run).
    pub import_id: Option<String>,
    /// Nothing was written.
    pub dry_run: bool,
    /// The file.
    pub source: String,
    /// Rows read.
    pub rows: u64,
    /// New dossiers or records written.
    pub imported: u64,
    /// Dossiers updated.
    pub updated: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Rows skipped (blank, or already present).
    pub skipped: u64,
    /// Rows that repeated an earlier row's natural key.
    pub duplicates_in_file: u64,
    /// Rows the duplicate check kept out: duplicates of a dossier or an earlier row.
    pub duplicates: u64,
    /// Rows merged into the dossier they duplicate (counted as updated).
    pub merged: u64,
    /// Every row the duplicate check matched, with its candidates.
    pub duplicate_rows: Vec<RowDuplicate>,
    /// Rows that changed nothing.
    pub unchanged: u64,
    /// Warnings on rows written.
    pub warnings: u64,
    /// Columns and the fields they filled (`ignore` or none for unused ones).
    pub columns: HashMap<String, String>,
    /// Columns no field matched.
    pub unknown_columns: Vec<String>,
    /// Problems, row by row (the first thousand warnings; every error).
    pub problems: Vec<RowProblem>,
    /// Where rejected rows were written, if asked.
    pub rejects_file: Option<String>,
}

/// An import as the book's journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportSummary {
    /// The import's id.
    pub id: String,
    /// The file.
    pub source: String,
    /// `customers`, `purchases`, …
    pub kind: String,
    /// `create`, `update`, `upsert`.
    pub mode: String,
    /// Who imported.
    pub actor: String,
    /// When it started.
    pub started_at: SystemTime,
    /// `running`, `done`, `failed`, `reverted`.
    pub status: String,
    /// Rows read.
    pub rows: u64,
    /// Written new.
    pub imported: u64,
    /// Updated.
    pub updated: u64,
    /// Refused.
    pub rejected: u64,
}

/// What reverting an import did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RevertReport {
    /// The import.
    pub import_id: String,
    /// Dossiers it created, removed.
    pub removed: u64,
    /// Dossiers it updated, restored.
    pub restored: u64,
    /// Related records it added, removed.
    pub unrelated: u64,
}

/// A customer erased from the book.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Erasure {
    /// The customer's id (the only thing kept).
    pub id: String,
    /// When.
    pub at: SystemTime,
    /// Who.
    pub actor: String,
}

/// An entry of the audit trail (no personal values).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditEntry {
    /// Its place in the chain.
    pub seq: u64,
    /// When.
    pub at: SystemTime,
    /// Who.
    pub actor: String,
    /// `create`, `update`, `export`, `denied`, …
    pub op: String,
    /// The customer concerned.
    pub target: Option<String>,
    /// Field paths touched.
    pub fields: Vec<String>,
    /// A note without personal data.
    pub note: Option<String>,
}

/// Whether the audit chain is intact.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditCheck {
    /// Entries checked.
    pub entries: u64,
    /// Intact.
    pub intact: bool,
    /// Where it breaks and how, if it does.
    pub problem_seq: Option<u64>,
    /// What is wrong there.
    pub problem: Option<String>,
}

/// What a compaction did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CompactSummary {
    /// The file's size before, in bytes.
    pub bytes_before: u64,
    /// The file's size after, in bytes.
    pub bytes_after: u64,
    /// Entries rewritten.
    pub entries: u64,
}

impl From<kehu::store::CompactSummary> for CompactSummary {
    fn from(s: kehu::store::CompactSummary) -> Self {
        Self {
            bytes_before: s.bytes_before,
            bytes_after: s.bytes_after,
            entries: s.entries,
        }
    }
}

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BackupSummary {
    /// Entries written.
    pub entries: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Checksummed with the book's key (an encrypted book).
    pub keyed: bool,
}

/// Everything the book holds about one customer (a data subject's access request).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SubjectExport {
    /// When it was made.
    pub generated_at: SystemTime,
    /// The dossier.
    pub customer: Customer,
    /// Every related record.
    pub related: Vec<RelatedRecord>,
    /// The consent events.
    pub consents: Vec<Consent>,
    /// The dossier's history.
    pub history: Vec<Change>,
    /// Audit entries about the customer.
    pub audit: Vec<AuditEntry>,
    /// Merges the customer was part of.
    pub merges: Vec<MergeReceipt>,
}

fn ids<T: ToString>(list: impl IntoIterator<Item = T>) -> Vec<String> {
    list.into_iter().map(|i| i.to_string()).collect()
}

fn map<V>(m: std::collections::BTreeMap<String, V>) -> HashMap<String, V> {
    m.into_iter().collect()
}

impl From<kehu::Severity> for Severity {
    fn from(s: kehu::Severity) -> Self {
        match s {
            kehu::Severity::Off => Self::Off,
            kehu::Severity::Warning => Self::Warning,
            kehu::Severity::Error => Self::Error,
        }
    }
}

impl From<kehu::Violation> for Violation {
    fn from(v: kehu::Violation) -> Self {
        Self {
            path: v.path,
            code: v.code,
            rule: v.rule,
            severity: v.severity.into(),
            message: v.message,
        }
    }
}

impl From<kehu::Report> for Report {
    fn from(r: kehu::Report) -> Self {
        Self {
            ok: r.is_ok(),
            violations: r.violations.into_iter().map(Into::into).collect(),
            region: r.region.map(Into::into),
        }
    }
}

impl From<kehu::ImpliedRegion> for ImpliedRegion {
    fn from(r: kehu::ImpliedRegion) -> Self {
        Self {
            region: r.region,
            clue: r.clue.code().to_string(),
        }
    }
}

impl From<kehu::Saved> for Saved {
    fn from(s: kehu::Saved) -> Self {
        Self {
            customer: s.customer.into(),
            violations: s.report.violations.into_iter().map(Into::into).collect(),
            region: s.report.region.map(Into::into),
            duplicates: s.duplicates.into_iter().map(Into::into).collect(),
            status: s.status.into(),
            merged_into: s.merged_into.map(|i| i.to_string()),
        }
    }
}

impl From<kehu::dedupe::Decision> for Decision {
    fn from(d: kehu::dedupe::Decision) -> Self {
        match d {
            kehu::dedupe::Decision::Match => Self::Match,
            kehu::dedupe::Decision::Review => Self::Review,
            kehu::dedupe::Decision::NonMatch => Self::NonMatch,
        }
    }
}

impl From<kehu::dedupe::Explanation> for MatchExplanation {
    fn from(e: kehu::dedupe::Explanation) -> Self {
        Self {
            id_left: e.id_l,
            id_right: e.id_r,
            prior_weight: e.prior_weight,
            fields: e
                .fields
                .into_iter()
                .map(|f| FieldMatch {
                    field: f.field,
                    left: f.left,
                    right: f.right,
                    level: f.level,
                    weight: f.weight,
                })
                .collect(),
            weight: e.weight,
            probability: e.probability,
            decision: e.decision.into(),
            veto: e.veto,
        }
    }
}

impl From<kehu::DuplicateCandidate> for DuplicateCandidate {
    fn from(c: kehu::DuplicateCandidate) -> Self {
        Self {
            id: c.id.to_string(),
            index: c.index.map(|i| i as u64),
            probability: c.probability,
            action: c.action.into(),
            explanation: c.explanation.into(),
        }
    }
}

impl From<kehu::DuplicateAction> for DuplicateAction {
    fn from(a: kehu::DuplicateAction) -> Self {
        match a {
            kehu::DuplicateAction::Block => Self::Block,
            kehu::DuplicateAction::Warn => Self::Warn,
            kehu::DuplicateAction::Allow => Self::Allow,
        }
    }
}

impl From<kehu::DuplicateCandidate> for DuplicateHit {
    fn from(c: kehu::DuplicateCandidate) -> Self {
        Self {
            id: c.id.to_string(),
            probability: c.probability,
            action: c.action.into(),
        }
    }
}

impl From<kehu::BookDedupe> for BookDedupe {
    fn from(d: kehu::BookDedupe) -> Self {
        Self {
            pairs: d
                .pairs
                .into_iter()
                .map(|p| ScoredPair {
                    left: p.id_l.to_string(),
                    right: p.id_r.to_string(),
                    probability: p.probability,
                    decision: p.decision.into(),
                    clustered: p.clustered,
                })
                .collect(),
            clusters: d.clusters.into_iter().map(ids).collect(),
            warnings: d.warnings,
        }
    }
}

impl From<kehu::MergeReceipt> for MergeReceipt {
    fn from(r: kehu::MergeReceipt) -> Self {
        Self {
            id: r.id.to_string(),
            at: system_time(r.at),
            actor: r.actor,
            survivor: r.survivor.to_string(),
            merged_version: r.merged_version,
            before: r.before.into_iter().map(Into::into).collect(),
            moved: r
                .moved
                .into_iter()
                .map(|(record, from)| MovedRecord {
                    record: record.to_string(),
                    from_customer: from.to_string(),
                })
                .collect(),
            unmerged: r.unmerged,
        }
    }
}

impl From<kehu::Merged> for Merged {
    fn from(m: kehu::Merged) -> Self {
        Self {
            customer: m.customer.into(),
            receipt: m.receipt.map(Into::into),
            duplicates: m.duplicates.into_iter().map(Into::into).collect(),
        }
    }
}

fn kind_name(k: kehu::RelatedKind) -> String {
    match k {
        kehu::RelatedKind::Purchase => "purchase",
        kehu::RelatedKind::Interaction => "interaction",
        kehu::RelatedKind::Feedback => "feedback",
        kehu::RelatedKind::Consent => "consent",
        kehu::RelatedKind::Note => "note",
    }
    .to_string()
}

impl From<kehu::FeedEntry> for FeedEntry {
    fn from(e: kehu::FeedEntry) -> Self {
        Self {
            seq: e.seq,
            at: system_time(e.at),
            customer_id: e.customer_id.to_string(),
            kind: e.kind.name().into(),
            related_kind: e.related_kind.map(kind_name),
            record_id: e.record_id.map(|r| r.to_string()),
            fields: e.fields,
            actor: e.actor,
        }
    }
}

impl From<kehu::Change> for Change {
    fn from(c: kehu::Change) -> Self {
        use kehu::ChangeOp as Op;
        let (op, record_kind, record_id) = match c.op {
            Op::Created => ("created", None, None),
            Op::Updated => ("updated", None, None),
            Op::Deleted => ("deleted", None, None),
            Op::Related { kind, record } => {
                ("related", Some(kind_name(kind)), Some(record.to_string()))
            }
            Op::Unrelated { kind, record } => {
                ("unrelated", Some(kind_name(kind)), Some(record.to_string()))
            }
        };
        Self {
            seq: c.seq,
            customer_id: c.customer_id.to_string(),
            at: system_time(c.at),
            actor: c.actor,
            op: op.into(),
            record_kind,
            record_id,
            fields: c
                .fields
                .into_iter()
                .map(|f| FieldChange {
                    path: f.path,
                    before: f.before,
                    after: f.after,
                })
                .collect(),
        }
    }
}

impl From<kehu::SavedSegment> for SavedSegment {
    fn from(s: kehu::SavedSegment) -> Self {
        Self {
            name: s.name,
            condition: s.condition,
            dynamic: s.dynamic,
            saved_at: system_time(s.saved_at),
            members: ids(s.members),
        }
    }
}

fn seen_text(s: kehu::segment::Seen) -> String {
    use kehu::segment::Seen;
    match s {
        Seen::Text(t) => t,
        Seen::Number(n) => n.to_string(),
        Seen::Date(d) => d.to_string(),
        Seen::Time(t) => t.to_rfc3339(),
        Seen::Stage(i) => kehu::LifecycleStage::ALL
            .get(i as usize)
            .map_or_else(|| i.to_string(), |s| s.as_str().to_string()),
    }
}

impl From<kehu::Explanation> for SegmentExplanation {
    fn from(e: kehu::Explanation) -> Self {
        Self {
            member: e.member,
            tests: e
                .tests
                .into_iter()
                .map(|t| TestOutcome {
                    test: t.test,
                    field: t.field,
                    held: t.held,
                    seen: t.seen.into_iter().map(seen_text).collect(),
                })
                .collect(),
        }
    }
}

/// Classes with monetary totals in minor units of `currency`.
pub(crate) fn classes_out(currency: kehu::Currency, list: Vec<kehu::Classes>) -> Vec<Classes> {
    let scale = 10f64.powi(currency.exponent() as i32);
    list.into_iter()
        .map(|k| Classes {
            id: k.id.to_string(),
            purchases: k.purchases,
            monetary_minor: (k.monetary * scale).round() as i64,
            rfm: k.rfm.map(|r| Rfm {
                r: r.r,
                f: r.f,
                m: r.m,
                group: r.group.as_str().to_string(),
            }),
            tier: k.tier.map(|t| snake(&t)),
            stage: k.stage.into(),
        })
        .collect()
}

impl From<kehu::BookStats> for BookStats {
    fn from(s: kehu::BookStats) -> Self {
        Self {
            customers: s.customers,
            by_kind: map(s.by_kind),
            by_stage: map(s.by_stage),
            by_source: map(s.by_source),
            by_tag: map(s.by_tag),
            imported_per_month: map(s.imported_per_month),
        }
    }
}

impl From<kehu::BookReport> for BookReport {
    fn from(r: kehu::BookReport) -> Self {
        Self {
            currency: r.currency,
            customers: r.customers,
            buyers: r.buyers,
            rfm_groups: map(r.rfm_groups),
            rfm_grid: r.rfm_grid,
            tiers: map(r.tiers),
            stages: map(r.stages),
            new_per_month: map(r.new_per_month),
            saved_segments: map(r.saved_segments),
        }
    }
}

/// A row the duplicate check matched.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RowDuplicate {
    /// The row's line.
    pub line: u64,
    /// Skipped, added (a possible match) or merged.
    pub outcome: WriteStatus,
    /// What it matches, most likely first.
    pub candidates: Vec<RowMatch>,
}

/// A dossier, or an earlier row of the file, a row matches.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RowMatch {
    /// The dossier.
    pub id: String,
    /// The earlier row's line, when it is one.
    pub line: Option<u64>,
    /// The match probability.
    pub probability: f64,
    /// Block (sure) or warn (possible).
    pub action: DuplicateAction,
}

impl From<kehu::io::ImportReport> for ImportReport {
    fn from(r: kehu::io::ImportReport) -> Self {
        Self {
            import_id: r.import_id.map(|i| i.to_string()),
            dry_run: r.dry_run,
            source: r.source,
            rows: r.rows,
            imported: r.imported,
            updated: r.updated,
            rejected: r.rejected,
            skipped: r.skipped,
            duplicates_in_file: r.duplicates_in_file,
            duplicates: r.duplicates,
            merged: r.merged,
            duplicate_rows: r
                .duplicate_rows
                .into_iter()
                .map(|d| RowDuplicate {
                    line: d.line,
                    outcome: d.outcome.into(),
                    candidates: d
                        .candidates
                        .into_iter()
                        .map(|m| RowMatch {
                            id: m.id.to_string(),
                            line: m.line,
                            probability: m.probability,
                            action: m.action.into(),
                        })
                        .collect(),
                })
                .collect(),
            unchanged: r.unchanged,
            warnings: r.warnings,
            columns: r
                .columns
                .into_iter()
                .map(|c| (c.column, c.field.unwrap_or_default()))
                .collect(),
            unknown_columns: r.unknown_columns,
            problems: r
                .problems
                .into_iter()
                .map(|p| RowProblem {
                    line: p.line,
                    column: p.column,
                    value: p.value,
                    code: p.code,
                    severity: p.severity.into(),
                    message: p.message,
                })
                .collect(),
            rejects_file: r.rejects_file,
        }
    }
}

fn snake<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl From<kehu::io::ImportSummary> for ImportSummary {
    fn from(s: kehu::io::ImportSummary) -> Self {
        Self {
            id: s.id.to_string(),
            kind: snake(&s.kind),
            mode: snake(&s.mode),
            status: snake(&s.status),
            source: s.source,
            actor: s.actor,
            started_at: system_time(s.started_at),
            rows: s.rows,
            imported: s.imported,
            updated: s.updated,
            rejected: s.rejected,
        }
    }
}

impl From<kehu::io::RevertReport> for RevertReport {
    fn from(r: kehu::io::RevertReport) -> Self {
        Self {
            import_id: r.import_id.to_string(),
            removed: r.removed,
            restored: r.restored,
            unrelated: r.unrelated,
        }
    }
}

impl From<kehu::Erasure> for Erasure {
    fn from(e: kehu::Erasure) -> Self {
        Self {
            id: e.id.to_string(),
            at: system_time(e.at),
            actor: e.actor,
        }
    }
}

impl From<kehu::AuditEntry> for AuditEntry {
    fn from(e: kehu::AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at: system_time(e.at),
            actor: e.actor,
            op: e.op,
            target: e.target.map(|t| t.to_string()),
            fields: e.fields,
            note: e.note,
        }
    }
}

impl From<kehu::AuditCheck> for AuditCheck {
    fn from(c: kehu::AuditCheck) -> Self {
        Self {
            entries: c.entries,
            intact: c.is_intact(),
            problem_seq: c.problem.as_ref().map(|p| p.seq),
            problem: c.problem.map(|p| p.message),
        }
    }
}

impl From<kehu::store::BackupSummary> for BackupSummary {
    fn from(b: kehu::store::BackupSummary) -> Self {
        Self {
            entries: b.entries,
            bytes: b.bytes,
            keyed: b.keyed,
        }
    }
}

impl From<kehu::SubjectExport> for SubjectExport {
    fn from(s: kehu::SubjectExport) -> Self {
        Self {
            generated_at: system_time(s.generated_at),
            customer: s.customer.into(),
            related: s.related.into_iter().map(Into::into).collect(),
            consents: s
                .consents
                .into_iter()
                .map(crate::related::consent_out)
                .collect(),
            history: s.history.into_iter().map(Into::into).collect(),
            audit: s.audit.into_iter().map(Into::into).collect(),
            merges: s.merges.into_iter().map(Into::into).collect(),
        }
    }
}
