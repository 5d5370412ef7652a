//! The printable invoice: one view model, every number, date and amount formatted here once, which
//! the HTML and the PDF renderers both draw, so the two can never disagree.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::invoice::InvoiceStatus;
use super::profile::BillingDetails;
use super::totals::LineItem;
use crate::domain::money::format_money;

/// A party as the document names them: billing details once sent (or, on a draft, as they stand).
pub struct PartyFacts<'a> {
    pub display_name: &'a str,
    pub billing: Option<&'a BillingDetails>,
}

/// What an invoice holds, as stored.
pub struct InvoiceFacts<'a> {
    pub number: Option<&'a str>,
    pub status: InvoiceStatus,
    pub currency: &'a str,
    pub order_title: &'a str,
    pub sent_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub issuer: PartyFacts<'a>,
    pub recipient: PartyFacts<'a>,
    pub lines: &'a [LineItem],
    pub subtotal: i64,
    pub discount: i64,
    pub tax_rate_bps: i64,
    pub tax: i64,
    pub total: i64,
    pub amount_paid: i64,
    /// What is still owed (nothing once voided).
    pub amount_due: i64,
    pub memo: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocumentLine {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub amount: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Figure {
    pub label: String,
    pub value: String,
    /// The total and the amount due stand out.
    pub strong: bool,
}

/// Everything printed, as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvoiceDocument {
    pub heading: String,
    pub number: String,
    pub status: String,
    pub issued: String,
    pub due: String,
    pub order: String,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub lines: Vec<DocumentLine>,
    pub figures: Vec<Figure>,
    pub memo: Option<String>,
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%-d %B %Y").to_string()
}

/// `1900` → `19 %`; `1950` → `19.5 %`; `1` → `0.01 %`.
pub fn percent(bps: i64) -> String {
    let whole = bps / 100;
    match bps % 100 {
        0 => format!("{whole} %"),
        f if f % 10 == 0 => format!("{whole}.{} %", f / 10),
        f => format!("{whole}.{f:02} %"),
    }
}

fn party(p: &PartyFacts<'_>) -> Vec<String> {
    let Some(b) = p.billing else {
        return vec![p.display_name.to_string()];
    };
    let mut lines = vec![b.legal_name.clone()];
    lines.extend(b.address_lines.iter().cloned());
    lines.push(b.country.clone());
    if let Some(tax_id) = &b.tax_id {
        lines.push(format!("Tax ID: {tax_id}"));
    }
    lines
}

fn status_label(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Draft => "Draft",
        InvoiceStatus::Open => "Awaiting payment",
        InvoiceStatus::Paid => "Paid",
        InvoiceStatus::Void => "Void",
        InvoiceStatus::Uncollectible => "Uncollectible",
    }
}

pub fn build(f: &InvoiceFacts<'_>) -> InvoiceDocument {
    let money = |a: i64| format_money(a, f.currency);
    let number = f.number.unwrap_or("Draft").to_string();
    let lines = f
        .lines
        .iter()
        .map(|l| DocumentLine {
            description: l.description.clone(),
            quantity: l.quantity.to_string(),
            unit_price: money(l.unit_amount),
            // Lines are checked when written: the product fits.
            amount: money(l.quantity.saturating_mul(l.unit_amount)),
        })
        .collect();
    let figure = |label: String, value: String, strong| Figure {
        label,
        value,
        strong,
    };
    let mut figures = vec![figure("Subtotal".into(), money(f.subtotal), false)];
    if f.discount > 0 {
        figures.push(figure("Discount".into(), money(-f.discount), false));
    }
    figures.push(figure(
        format!("Tax ({})", percent(f.tax_rate_bps)),
        money(f.tax),
        false,
    ));
    figures.push(figure("Total".into(), money(f.total), true));
    figures.push(figure("Amount paid".into(), money(f.amount_paid), false));
    figures.push(figure("Amount due".into(), money(f.amount_due), true));
    InvoiceDocument {
        heading: format!("Invoice {number}"),
        number,
        status: status_label(f.status).into(),
        issued: f.sent_at.map_or_else(|| "Not yet sent".into(), date),
        due: f.due_at.map_or_else(|| "On receipt".into(), date),
        order: f.order_title.to_string(),
        from: party(&f.issuer),
        to: party(&f.recipient),
        lines,
        figures,
        memo: f.memo.filter(|m| !m.is_empty()).map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_print_without_trailing_zeros() {
        assert_eq!(percent(1900), "19 %");
        assert_eq!(percent(1950), "19.5 %");
        assert_eq!(percent(725), "7.25 %");
        assert_eq!(percent(1), "0.01 %");
        assert_eq!(percent(0), "0 %");
    }

    #[test]
    fn the_document_shows_every_figure_formatted() {
        let lines = [LineItem {
            description: "Logo".into(),
            quantity: 2,
            unit_amount: 5000,
        }];
        let billing = BillingDetails {
            legal_name: "Ada Studio Ltd".into(),
            address_lines: vec!["1 Main St".into()],
            country: "GB".into(),
            tax_id: Some("GB123".into()),
        };
        let doc = build(&InvoiceFacts {
            number: Some("INV-2026-0001"),
            status: InvoiceStatus::Open,
            currency: "EUR",
            order_title: "Logo",
            sent_at: None,
            due_at: None,
            issuer: PartyFacts {
                display_name: "Ada",
                billing: Some(&billing),
            },
            recipient: PartyFacts {
                display_name: "Bob",
                billing: None,
            },
            lines: &lines,
            subtotal: 10000,
            discount: 1000,
            tax_rate_bps: 2000,
            tax: 1800,
            total: 10800,
            amount_paid: 0,
            amount_due: 10800,
            memo: None,
        });
        assert_eq!(doc.lines[0].amount, "100.00 EUR");
        assert_eq!(doc.figures[1].value, "-10.00 EUR");
        assert_eq!(doc.figures[2].label, "Tax (20 %)");
        assert_eq!(
            doc.from,
            ["Ada Studio Ltd", "1 Main St", "GB", "Tax ID: GB123"]
        );
        assert_eq!(doc.to, ["Bob"]);
    }
}
