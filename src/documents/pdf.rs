//! The invoice as an A4 PDF, drawn with krilla in DejaVu Sans (embedded and subset, with a Unicode
//! map, so any script the font covers prints and the text can be searched and extracted). Text is
//! measured with the font's own advance widths, so every value wraps or aligns inside its column,
//! whatever its glyphs.

use std::sync::{Arc, OnceLock};

use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;

use crate::domain::billing::document::InvoiceDocument;

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const RIGHT: f32 = WIDTH - MARGIN;
const BODY: f32 = 10.0;
const LEADING: f32 = 14.0;
const GAP: f32 = 8.0;

/// The lines table: description on the left, figures right-aligned at these edges.
const DESCRIPTION_END: f32 = 250.0;
const QUANTITY_END: f32 = 330.0;
const UNIT_PRICE_END: f32 = 440.0;

/// One face, for drawing and for measuring.
struct Face {
    font: Font,
    metrics: ttf_parser::Face<'static>,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Face {
        let data: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(bytes);
        Face {
            font: Font::new(data.into(), 0).expect("DejaVu Sans parses (a test draws with it)"),
            metrics: ttf_parser::Face::parse(bytes, 0).expect("DejaVu Sans parses"),
        }
    }

    /// The width of `text` at `size` points; a character the font lacks counts as half an em.
    fn width(&self, text: &str, size: f32) -> f32 {
        let em = f32::from(self.metrics.units_per_em());
        let units: f32 = text
            .chars()
            .map(|c| {
                self.metrics
                    .glyph_index(c)
                    .and_then(|g| self.metrics.glyph_hor_advance(g))
                    .map_or(em / 2.0, f32::from)
            })
            .sum();
        units * size / em
    }

    /// Splits `text` into lines no wider than `max` points, at spaces where it can.
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the column is cut where it no longer fits.
            for c in word.chars() {
                line.push(c);
                if self.width(&line, size) > max && line.chars().count() > 1 {
                    let last = line.pop().unwrap_or(c);
                    lines.push(std::mem::replace(&mut line, last.to_string()));
                }
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts {
        regular: Face::load(dejavu::sans::regular()),
        bold: Face::load(dejavu::sans::bold()),
    })
}

/// One run of text placed on a page.
struct Item {
    x: f32,
    y: f32,
    bold: bool,
    size: f32,
    text: String,
}

/// A cursor down the pages, starting a new page when the current one is full.
struct Writer {
    pages: Vec<Vec<Item>>,
    y: f32,
}

impl Writer {
    fn face(bold: bool) -> &'static Face {
        if bold {
            &fonts().bold
        } else {
            &fonts().regular
        }
    }

    fn text(&mut self, x: f32, text: &str, bold: bool, size: f32) {
        if let Some(page) = self.pages.last_mut() {
            page.push(Item {
                x,
                y: self.y,
                bold,
                size,
                text: text.to_string(),
            });
        }
    }

    /// `text` ending at `right`.
    fn right(&mut self, right: f32, text: &str, bold: bool) {
        let x = right - Self::face(bold).width(text, BODY);
        self.text(x, text, bold, BODY);
    }

    /// `text` wrapped between `x` and `end`, one line per row from here; the rows it took.
    fn column(&mut self, x: f32, end: f32, text: &str, bold: bool) -> Vec<String> {
        Self::face(bold).wrap(text, BODY, end - x)
    }

    fn down(&mut self, by: f32) {
        self.y += by;
        if self.y > HEIGHT - MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn finish(self, document: &mut Document) {
        for items in self.pages {
            let mut page =
                document.start_page_with(PageSettings::from_wh(WIDTH, HEIGHT).unwrap_or_default());
            let mut surface = page.surface();
            for item in items {
                draw(&mut surface, &item);
            }
            surface.finish();
            page.finish();
        }
    }
}

fn draw(surface: &mut Surface<'_>, item: &Item) {
    surface.draw_text(
        Point::from_xy(item.x, item.y),
        Writer::face(item.bold).font.clone(),
        item.size,
        &item.text,
        false,
        TextDirection::Auto,
    );
}

pub fn invoice_pdf(doc: &InvoiceDocument) -> anyhow::Result<Vec<u8>> {
    let mut w = Writer {
        pages: vec![Vec::new()],
        y: MARGIN + 10.0,
    };
    w.text(MARGIN, &doc.heading, true, 20.0);
    w.down(24.0);
    w.text(MARGIN, &doc.status, true, BODY);
    w.down(LEADING * 1.5);
    for (label, value) in [
        ("Issued", &doc.issued),
        ("Due", &doc.due),
        ("Order", &doc.order),
    ] {
        w.text(MARGIN, label, true, BODY);
        for line in w.column(MARGIN + 70.0, RIGHT, value, false) {
            w.text(MARGIN + 70.0, &line, false, BODY);
            w.down(LEADING);
        }
    }
    w.down(LEADING);
    parties(&mut w, doc);
    w.down(LEADING);
    lines_table(&mut w, doc);
    w.down(LEADING);
    for f in &doc.figures {
        w.text(QUANTITY_END, &f.label, f.strong, BODY);
        w.right(RIGHT, &f.value, f.strong);
        w.down(LEADING);
    }
    if let Some(memo) = &doc.memo {
        w.down(LEADING);
        w.text(MARGIN, "Memo", true, BODY);
        w.down(LEADING);
        for paragraph in memo.lines() {
            for line in w.column(MARGIN, RIGHT, paragraph, false) {
                w.text(MARGIN, &line, false, BODY);
                w.down(LEADING);
            }
        }
    }
    let mut document = Document::new();
    w.finish(&mut document);
    document
        .finish()
        .map_err(|e| anyhow::anyhow!("drawing the invoice PDF: {e:?}"))
}

/// "From" and "To" side by side, each line wrapped in its half of the page.
fn parties(w: &mut Writer, doc: &InvoiceDocument) {
    let middle = WIDTH / 2.0;
    let wrap = |w: &mut Writer, x: f32, end: f32, lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .flat_map(|l| w.column(x, end, l, false))
            .collect()
    };
    let from = wrap(w, MARGIN, middle - GAP, &doc.from);
    let to = wrap(w, middle, RIGHT, &doc.to);
    w.text(MARGIN, "From", true, BODY);
    w.text(middle, "To", true, BODY);
    w.down(LEADING);
    for i in 0..from.len().max(to.len()) {
        if let Some(line) = from.get(i) {
            w.text(MARGIN, line, false, BODY);
        }
        if let Some(line) = to.get(i) {
            w.text(middle, line, false, BODY);
        }
        w.down(LEADING);
    }
}

fn lines_table(w: &mut Writer, doc: &InvoiceDocument) {
    w.text(MARGIN, "Description", true, BODY);
    w.right(QUANTITY_END, "Qty", true);
    w.right(UNIT_PRICE_END, "Unit price", true);
    w.right(RIGHT, "Amount", true);
    w.down(LEADING * 1.2);
    for line in &doc.lines {
        w.right(QUANTITY_END, &line.quantity, false);
        w.right(UNIT_PRICE_END, &line.unit_price, false);
        w.right(RIGHT, &line.amount, false);
        for part in w.column(MARGIN, DESCRIPTION_END, &line.description, false) {
            w.text(MARGIN, &part, false, BODY);
            w.down(LEADING);
        }
        w.down(4.0);
    }
}

#[cfg(test)]
mod tests {
    use super::fonts;

    #[test]
    fn text_wraps_by_width_at_spaces_and_wide_words_are_cut() {
        let f = &fonts().regular;
        let narrow = f.wrap("a bb ccc", 10.0, f.width("a bb", 10.0) + 0.1);
        assert_eq!(narrow, ["a bb", "ccc"]);
        for line in f.wrap(&"W".repeat(200), 10.0, 100.0) {
            assert!(f.width(&line, 10.0) <= 100.0, "{line}");
        }
        // Glyphs the font lacks still take room, so they cannot run across columns either.
        let missing = "\u{2800}".repeat(300);
        assert!(f.wrap(&missing, 10.0, 100.0).len() > 1);
        assert_eq!(f.wrap("", 10.0, 100.0), [""]);
    }
}
