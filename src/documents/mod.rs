//! Printable documents: the invoice's view model (`domain::billing::document`) drawn as an HTML page
//! and as a PDF. Both renderers take the same [`InvoiceDocument`], so they print the same text.

mod html;
mod pdf;

pub use html::invoice_html;
pub use pdf::invoice_pdf;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::billing::document::{DocumentLine, Figure, InvoiceDocument};

    fn sample() -> InvoiceDocument {
        let line = |d: &str| DocumentLine {
            description: d.into(),
            quantity: "3".into(),
            unit_price: "12.50 EUR".into(),
            amount: "37.50 EUR".into(),
        };
        InvoiceDocument {
            heading: "Invoice INV-2026-0042".into(),
            number: "INV-2026-0042".into(),
            status: "Awaiting payment".into(),
            issued: "29 November 2026".into(),
            due: "On receipt".into(),
            order: "Album cover <b>".into(),
            from: vec!["Zoë Studio GmbH".into(), "Straße 1".into(), "DE".into()],
            to: vec!["Bob".into()],
            lines: (0..70)
                .map(|i| {
                    line(&format!(
                        "Illustration number {i} with a long description that wraps over lines"
                    ))
                })
                .collect(),
            figures: vec![Figure {
                label: "Total".into(),
                value: "2,625.00 EUR".into(),
                strong: true,
            }],
            memo: Some("Thanks!".into()),
        }
    }

    #[test]
    fn the_pdf_and_the_page_carry_the_same_text() {
        let doc = sample();
        let pdf = invoice_pdf(&doc).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        if let Ok(path) = std::env::var("WRITE_SAMPLE_PDF") {
            std::fs::write(path, &pdf).unwrap();
        }
        let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
        let html = invoice_html(&doc).unwrap();
        for needle in [
            "INV-2026-0042",
            "Zoë Studio GmbH",
            "Straße 1",
            "2,625.00 EUR",
            "Illustration number 69",
            "Thanks!",
        ] {
            assert!(text.contains(needle), "the PDF lacks {needle}: {text}");
            assert!(html.contains(needle), "the page lacks {needle}");
        }
        // What a user typed is text on the page, never markup.
        assert!(html.contains("Album cover &lt;b&gt;"));
    }
}
