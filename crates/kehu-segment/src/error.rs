//! Errors of the filter language: where, what, and a caret under it.

use std::fmt;

/// A segment that cannot be parsed or does not fit the schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// The line of the problem, from 1.
    pub line: usize,
    /// The column of the problem, in characters from 1.
    pub column: usize,
    /// How many characters the problem spans (at least 1).
    pub width: usize,
    /// What is wrong.
    pub message: String,
    /// The nearest known name, for a misspelt field.
    pub suggestion: Option<String>,
    /// The source line, for the caret.
    pub source_line: String,
}

impl ParseError {
    /// An error over the bytes `start..end` of `src`.
    pub(crate) fn at(src: &str, start: usize, end: usize, message: impl Into<String>) -> Self {
        let start = start.min(src.len());
        let before = &src[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let column = src[line_start..start].chars().count() + 1;
        let width = src
            .get(start..end.clamp(start, line_end))
            .map_or(1, |s| s.chars().count().max(1));
        Self {
            line,
            column,
            width,
            message: message.into(),
            suggestion: None,
            source_line: src[line_start..line_end].to_string(),
        }
    }

    pub(crate) fn suggest(mut self, name: Option<String>) -> Self {
        self.suggestion = name;
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean {s}?)")?;
        }
        // Wide characters (CJK) take two columns in a terminal.
        let pad: usize = self
            .source_line
            .chars()
            .take(self.column - 1)
            .map(display_width)
            .sum();
        let marks: usize = self
            .source_line
            .chars()
            .skip(self.column - 1)
            .take(self.width)
            .map(display_width)
            .sum();
        write!(
            f,
            "\n  {}\n  {}{}",
            self.source_line,
            " ".repeat(pad),
            "^".repeat(marks.max(1))
        )
    }
}

fn display_width(c: char) -> usize {
    if ('\u{1100}'..='\u{115f}').contains(&c)
        || ('\u{2e80}'..='\u{a4cf}').contains(&c)
        || ('\u{ac00}'..='\u{d7a3}').contains(&c)
        || ('\u{f900}'..='\u{faff}').contains(&c)
        || ('\u{fe30}'..='\u{fe4f}').contains(&c)
        || ('\u{ff00}'..='\u{ff60}').contains(&c)
        || ('\u{ffe0}'..='\u{ffe6}').contains(&c)
    {
        2
    } else {
        1
    }
}
