//! The invoice as a printable HTML page, from `templates/documents/invoice.html` (compiled in;
//! autoescaped, so nothing a user typed can become markup).

use std::sync::OnceLock;

use crate::domain::billing::document::InvoiceDocument;

fn environment() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.add_template(
            "invoice.html",
            include_str!("../../templates/documents/invoice.html"),
        )
        .expect("the invoice template parses (a test renders it)");
        env
    })
}

pub fn invoice_html(doc: &InvoiceDocument) -> anyhow::Result<String> {
    let template = environment().get_template("invoice.html")?;
    Ok(template.render(minijinja::context! { doc })?)
}
