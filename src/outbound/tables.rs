//! Conversion of GitHub-style pipe tables per `markdown.tables`.
//!
//! Rocket.Chat's message renderer does not draw markdown tables, so OpenClaw
//! lets each channel choose what a table becomes. This module follows
//! OpenClaw's `convertMarkdownTables`:
//!
//! - [`TableMode::Off`]: the text is returned unchanged.
//! - [`TableMode::Bullets`]: with two or more columns, each body row becomes its
//!   first cell in bold on its own line, followed by one `• Header: value` line
//!   per other non-empty cell (`• Column N: value` when the header is empty);
//!   rows are separated by a blank line. A one-column table gives one
//!   `• Header: value` line per row. Empty cells are skipped.
//! - [`TableMode::Code`]: the table is redrawn with padded, aligned columns
//!   (`| a | b |` with a `| --- |` divider) inside a fenced code block.
//! - [`TableMode::Block`]: in OpenClaw, `block` asks for a native table element
//!   on channels that have one, and text conversion falls back to `code`; a
//!   Rocket.Chat message has no such element, so `block` renders as `code`.
//!
//! Differences from OpenClaw, all deliberate: only the table lines are
//! rewritten (OpenClaw re-renders the whole message through its markdown IR
//! when a table is present, which also rewrites lists and headings); cell text
//! is kept as written (OpenClaw drops inline markup inside `code` tables);
//! column widths are at least 3 so the divider lines up, and `:--:`/`--:`
//! alignment is honoured when padding; a table with no body rows is left as it
//! is in `bullets` mode (OpenClaw drops it).
//!
//! Table syntax (GFM): a header row containing `|`, a delimiter row of
//! `:?-+:?` cells with the same cell count and at least one `|`, then body rows
//! until a blank line or a line without `|`. Leading and trailing pipes are
//! optional, `\|` is a literal pipe, missing cells are empty and extra cells are
//! ignored. Tables inside fenced code blocks are left alone.

use super::chunk::{fence_at, parse_fences};
use serde::{Deserialize, Serialize};

/// What markdown tables become in outgoing text (`markdown.tables`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TableMode {
    /// Leave tables as written (OpenClaw's default when a channel sets nothing).
    #[default]
    Off,
    /// One bullet line per cell, labelled with the column header.
    Bullets,
    /// An aligned plain-text table in a fenced code block.
    Code,
    /// A native table where the channel has one; `code` on Rocket.Chat.
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
    Right,
}

struct Table {
    headers: Vec<String>,
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
}

/// Rewrites every pipe table in `text` (outside fenced code) according to `mode`.
pub fn convert_tables(text: &str, mode: TableMode) -> String {
    if mode == TableMode::Off || !text.contains('|') {
        return text.to_string();
    }
    let fences = parse_fences(text);
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for line in text.split('\n') {
        lines.push((offset, line));
        offset += line.len() + 1;
    }
    let in_fence = |start: usize| {
        fence_at(&fences, start).is_some() || fences.iter().any(|f| f.start == start)
    };

    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let (start, line) = lines[i];
        if let Some((table, next)) = (!in_fence(start))
            .then(|| parse_table(&lines, i, &in_fence))
            .flatten()
        {
            if let Some(rendered) = render(&table, mode) {
                out.extend(rendered.split('\n').map(str::to_string));
                i = next;
                continue;
            }
        }
        out.push(line.to_string());
        i += 1;
    }
    out.join("\n")
}

/// Splits a table row into trimmed cells, honouring `\|` escapes.
fn split_row(line: &str) -> Vec<String> {
    let mut s = line.trim();
    s = s.strip_prefix('|').unwrap_or(s);
    if s.ends_with('|') && !s.ends_with("\\|") {
        s = &s[..s.len() - 1];
    }
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

fn parse_delimiter(line: &str) -> Option<Vec<Align>> {
    if !line.contains('|') {
        return None;
    }
    split_row(line)
        .iter()
        .map(|cell| {
            let left = cell.starts_with(':');
            let right = cell.len() > 1 && cell.ends_with(':');
            let dashes = cell.trim_start_matches(':').trim_end_matches(':');
            if dashes.is_empty() || !dashes.chars().all(|c| c == '-') {
                return None;
            }
            Some(match (left, right) {
                (true, true) => Align::Center,
                (false, true) => Align::Right,
                _ => Align::Left,
            })
        })
        .collect()
}

/// Parses a table whose header is line `i`; returns it and the index after it.
fn parse_table(
    lines: &[(usize, &str)],
    i: usize,
    in_fence: &dyn Fn(usize) -> bool,
) -> Option<(Table, usize)> {
    let header = lines[i].1;
    let (delim_start, delim) = *lines.get(i + 1)?;
    if !header.contains('|') || in_fence(delim_start) {
        return None;
    }
    let headers = split_row(header);
    let aligns = parse_delimiter(delim)?;
    if headers.len() != aligns.len() {
        return None;
    }
    let mut rows = Vec::new();
    let mut j = i + 2;
    while let Some(&(start, line)) = lines.get(j) {
        if line.trim().is_empty() || !line.contains('|') || in_fence(start) {
            break;
        }
        let mut cells = split_row(line);
        cells.resize(headers.len(), String::new());
        rows.push(cells);
        j += 1;
    }
    Some((
        Table {
            headers,
            aligns,
            rows,
        },
        j,
    ))
}

fn render(table: &Table, mode: TableMode) -> Option<String> {
    match mode {
        TableMode::Off => None,
        TableMode::Bullets => render_bullets(table),
        TableMode::Code | TableMode::Block => Some(render_code(table)),
    }
}

fn bullet(out: &mut String, header: &str, value: &str, column: Option<usize>) {
    if value.is_empty() {
        return;
    }
    out.push_str("• ");
    if !header.is_empty() {
        out.push_str(header);
        out.push_str(": ");
    } else if let Some(n) = column {
        out.push_str(&format!("Column {n}: "));
    }
    out.push_str(value);
    out.push('\n');
}

fn render_bullets(table: &Table) -> Option<String> {
    if table.rows.is_empty() {
        return None;
    }
    let mut out = String::new();
    let labelled = table.headers.len() > 1;
    for row in &table.rows {
        if labelled {
            if !row[0].is_empty() {
                out.push_str(&format!("**{}**\n", row[0]));
            }
            for (n, value) in row.iter().enumerate().skip(1) {
                bullet(&mut out, &table.headers[n], value, Some(n));
            }
        } else {
            for (n, value) in row.iter().enumerate() {
                bullet(&mut out, &table.headers[n], value, None);
            }
        }
        out.push('\n');
    }
    let trimmed = out.trim_end();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

fn render_code(table: &Table) -> String {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = table.headers.iter().map(|h| width(h).max(3)).collect();
    for row in &table.rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::from("|");
        for ((cell, w), align) in cells.iter().zip(&widths).zip(&table.aligns) {
            let pad = w - width(cell);
            let (before, after) = match align {
                Align::Left => (0, pad),
                Align::Right => (pad, 0),
                Align::Center => (pad / 2, pad - pad / 2),
            };
            s.push(' ');
            s.push_str(&" ".repeat(before));
            s.push_str(cell);
            s.push_str(&" ".repeat(after));
            s.push_str(" |");
        }
        s
    };
    let mut body = vec![line(&table.headers)];
    let divider: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    body.push(line(&divider));
    body.extend(table.rows.iter().map(|r| line(r)));
    let body = body.join("\n");
    let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
    format!("{fence}\n{body}\n{fence}")
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "| Name | Value |\n|------|:-----:|\n| A    | 1     |\n| B    | 2     |";

    #[test]
    fn off_is_unchanged() {
        assert_eq!(convert_tables(TABLE, TableMode::Off), TABLE);
    }

    #[test]
    fn serde_names_are_lowercase() {
        assert_eq!(
            serde_json::to_string(&TableMode::Bullets).unwrap(),
            "\"bullets\""
        );
        let m: TableMode = serde_json::from_str("\"block\"").unwrap();
        assert_eq!(m, TableMode::Block);
    }

    #[test]
    fn bullets_use_first_column_as_label() {
        let md = "| Feature | SQLite | Postgres |\n|---|---|---|\n| Speed | Fast | Medium |\n| Scale | | Large |";
        assert_eq!(
            convert_tables(md, TableMode::Bullets),
            "**Speed**\n• SQLite: Fast\n• Postgres: Medium\n\n**Scale**\n• Postgres: Large"
        );
    }

    #[test]
    fn bullets_single_column_and_empty_header() {
        let md = "| Item |\n|---|\n| one |\n| two |";
        assert_eq!(
            convert_tables(md, TableMode::Bullets),
            "• Item: one\n\n• Item: two"
        );
        let md = "| Key | |\n|---|---|\n| k | v |";
        assert_eq!(
            convert_tables(md, TableMode::Bullets),
            "**k**\n• Column 1: v"
        );
    }

    #[test]
    fn code_pads_and_aligns_columns() {
        let md = "| Name | Qty |\n|:--|--:|\n| apple | 3 |\n| kiwi | 12 |";
        assert_eq!(
            convert_tables(md, TableMode::Code),
            "```\n| Name  | Qty |\n| ----- | --- |\n| apple |   3 |\n| kiwi  |  12 |\n```"
        );
    }

    #[test]
    fn block_renders_as_code() {
        assert_eq!(
            convert_tables(TABLE, TableMode::Block),
            convert_tables(TABLE, TableMode::Code)
        );
        assert!(convert_tables(TABLE, TableMode::Code).contains("|   1   |"));
    }

    #[test]
    fn escaped_pipes_and_optional_outer_pipes() {
        let md = "a | b\n--- | ---\nx \\| y | z";
        assert_eq!(convert_tables(md, TableMode::Bullets), "**x | y**\n• b: z");
    }

    #[test]
    fn surrounding_text_is_kept_and_table_ends_at_blank_line() {
        let md = "Intro:\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\nAfter | not a row";
        assert_eq!(
            convert_tables(md, TableMode::Bullets),
            "Intro:\n\n**1**\n• B: 2\n\nAfter | not a row"
        );
    }

    #[test]
    fn tables_inside_fences_are_left_alone() {
        let md = "```\n| A | B |\n|---|---|\n| 1 | 2 |\n```\n| C | D |\n|---|---|\n| 3 | 4 |";
        assert_eq!(
            convert_tables(md, TableMode::Bullets),
            "```\n| A | B |\n|---|---|\n| 1 | 2 |\n```\n**3**\n• D: 4"
        );
    }

    #[test]
    fn non_tables_are_left_alone() {
        for md in [
            "a | b\nplain line",
            "Title | x\n---",
            "| a | b |\n|---|\n| 1 | 2 |",
            "| a | b |\n|-x-|---|",
            "no pipes here",
        ] {
            for mode in [TableMode::Bullets, TableMode::Code] {
                assert_eq!(convert_tables(md, mode), md, "{md:?}");
            }
        }
    }

    #[test]
    fn header_only_table() {
        let md = "| A | B |\n|---|---|";
        assert_eq!(convert_tables(md, TableMode::Bullets), md);
        assert_eq!(
            convert_tables(md, TableMode::Code),
            "```\n| A   | B   |\n| --- | --- |\n```"
        );
    }

    #[test]
    fn backticks_in_cells_lengthen_the_fence() {
        let md = "| code |\n|---|\n| ```x``` |";
        let out = convert_tables(md, TableMode::Code);
        assert!(
            out.starts_with("````\n") && out.ends_with("\n````"),
            "{out}"
        );
    }

    #[test]
    fn ragged_rows_are_padded_or_truncated() {
        let md = "| A | B | C |\n|---|---|---|\n| 1 |\n| 1 | 2 | 3 | 4 |";
        assert_eq!(
            convert_tables(md, TableMode::Bullets),
            "**1**\n\n**1**\n• B: 2\n• C: 3"
        );
    }
}
