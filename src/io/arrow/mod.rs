//! Arrow in and out (feature `arrow`): the book's tables, segment members
//! and a dedupe's pairs and clusters as typed record batches; record
//! batches read as a table's rows for dedupe. The bindings hand these to
//! Arrow's C stream interface; the typing lives here, once.

mod columns;
mod dedupe;
mod input;
mod tables;

pub use columns::{ArrowTable, Cell, ColumnType, TableBuilder, BATCH_ROWS};
pub use dedupe::{clusters_table, pairs_table};
pub use input::ArrowRows;
/// A table of the book: the kinds an import reads (`customers`, `purchases`…).
pub use kehu_table::ImportKind as BookTable;

/// Arrow's array and schema crates, as kehu builds them.
pub use arrow_array;
pub use arrow_schema;
