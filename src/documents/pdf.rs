//! The invoice as an A4 PDF, drawn with krilla in DejaVu Sans (embedded and subset, with a Unicode
//! map, so any script the font covers prints and the text can be searched and extracted).

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
const BODY: f32 = 10.0;
const LEADING: f32 = 14.0;
/// Characters per line of a description before it wraps (DejaVu Sans at 10 pt in its column).
const DESCRIPTION_CHARS: usize = 48;

struct Fonts {
    regular: Font,
    bold: Font,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let load = |bytes: &'static [u8]| {
            let data: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(bytes);
            Font::new(data.into(), 0).expect("DejaVu Sans parses (a test draws with it)")
        };
        Fonts {
            regular: load(dejavu::sans::regular()),
            bold: load(dejavu::sans::bold()),
        }
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
struct Writer<'a> {
    document: &'a mut Document,
    pages: Vec<Vec<Item>>,
    y: f32,
}

impl Writer<'_> {
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

    fn down(&mut self, by: f32) {
        self.y += by;
        if self.y > HEIGHT - MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn finish(self) {
        let f = fonts();
        for items in self.pages {
            let mut page = self
                .document
                .start_page_with(PageSettings::from_wh(WIDTH, HEIGHT).unwrap_or_default());
            let mut surface = page.surface();
            for item in items {
                draw(&mut surface, &item, f);
            }
            surface.finish();
            page.finish();
        }
    }
}

fn draw(surface: &mut Surface<'_>, item: &Item, f: &Fonts) {
    let font = if item.bold { &f.bold } else { &f.regular };
    surface.draw_text(
        Point::from_xy(item.x, item.y),
        font.clone(),
        item.size,
        &item.text,
        false,
        TextDirection::Auto,
    );
}

/// Splits `text` into lines of at most `width` characters, at spaces where it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

pub fn invoice_pdf(doc: &InvoiceDocument) -> anyhow::Result<Vec<u8>> {
    let mut document = Document::new();
    let mut w = Writer {
        document: &mut document,
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
        for line in wrap(value, 70) {
            w.text(MARGIN + 70.0, &line, false, BODY);
            w.down(LEADING);
        }
    }
    w.down(LEADING);
    let parties = doc.from.len().max(doc.to.len());
    w.text(MARGIN, "From", true, BODY);
    w.text(WIDTH / 2.0, "To", true, BODY);
    w.down(LEADING);
    for i in 0..parties {
        if let Some(line) = doc.from.get(i) {
            w.text(MARGIN, line, false, BODY);
        }
        if let Some(line) = doc.to.get(i) {
            w.text(WIDTH / 2.0, line, false, BODY);
        }
        w.down(LEADING);
    }
    w.down(LEADING);
    lines_table(&mut w, doc);
    w.down(LEADING);
    for f in &doc.figures {
        w.text(330.0, &f.label, f.strong, BODY);
        w.text(440.0, &f.value, f.strong, BODY);
        w.down(LEADING);
    }
    if let Some(memo) = &doc.memo {
        w.down(LEADING);
        w.text(MARGIN, "Memo", true, BODY);
        w.down(LEADING);
        for line in memo.lines().flat_map(|l| wrap(l, 90)) {
            w.text(MARGIN, &line, false, BODY);
            w.down(LEADING);
        }
    }
    w.finish();
    document
        .finish()
        .map_err(|e| anyhow::anyhow!("drawing the invoice PDF: {e:?}"))
}

fn lines_table(w: &mut Writer<'_>, doc: &InvoiceDocument) {
    let columns = [
        (MARGIN, "Description"),
        (320.0, "Qty"),
        (370.0, "Unit price"),
        (460.0, "Amount"),
    ];
    for (x, title) in columns {
        w.text(x, title, true, BODY);
    }
    w.down(LEADING * 1.2);
    for line in &doc.lines {
        let wrapped = wrap(&line.description, DESCRIPTION_CHARS);
        w.text(320.0, &line.quantity, false, BODY);
        w.text(370.0, &line.unit_price, false, BODY);
        w.text(460.0, &line.amount, false, BODY);
        for part in wrapped {
            w.text(MARGIN, &part, false, BODY);
            w.down(LEADING);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_text_wraps_at_spaces_and_long_words_are_cut() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
    }
}
