//! An invoice's arithmetic, in integer minor units of the invoice's currency. Every step is checked:
//! what would overflow, or pass the largest amount the platform handles, is refused rather than
//! wrapped, and tax is rounded once, half to even, on the subtotal after discount.

use serde::{Deserialize, Serialize};

use super::Issues;
use crate::domain::money::Money;
use crate::domain::text;
use crate::domain::Invalid;

/// At most this many lines on one invoice.
pub const MAX_LINES: usize = 100;
/// Quantities are whole units, 1 to a billion.
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// Tax and percentage discounts are in basis points: 10 000 is 100 %.
pub const MAX_BPS: i64 = 10_000;
/// Every amount on an invoice (a line, the subtotal, the total) stays within what one price may be.
pub const MAX_AMOUNT: i64 = Money::MAX_MINOR_UNITS;

/// One line as stored and shown; `amount` is derived, never taken from a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub description: String,
    pub quantity: i64,
    pub unit_amount: i64,
}

/// A reduction of the subtotal: a fixed amount or a share of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discount {
    AmountOff(i64),
    PercentOffBps(i64),
}

/// Everything an invoice adds up to. `total = subtotal - discount + tax` always holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub line_amounts: Vec<i64>,
    pub subtotal: i64,
    pub discount: i64,
    /// The subtotal after discount: what tax is charged on, and what counts against the terms.
    pub taxable: i64,
    pub tax: i64,
    pub total: i64,
}

/// `n / d` rounded to the nearest integer, ties to the even one (banker's rounding), for `n >= 0`
/// and `d > 0`: the rounding that does not drift upwards over many invoices.
pub fn div_round_half_even(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    match (2 * r).cmp(&d) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal if q % 2 == 1 => q + 1,
        _ => q,
    }
}

/// Checks the lines (descriptions, quantities, unit amounts), trimming the descriptions.
pub fn parse_lines(lines: &[LineItem]) -> Result<Vec<LineItem>, Issues> {
    let mut issues = Issues::new();
    if lines.is_empty() || lines.len() > MAX_LINES {
        let msg = format!("an invoice has 1 to {MAX_LINES} lines");
        issues.push(("line_items".into(), Invalid::new("line_count", msg)));
        return Err(issues);
    }
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let at = |f: &str| format!("line_items[{i}].{f}");
        match text::LINE_DESCRIPTION.parse(&line.description) {
            Ok(d) => out.push(LineItem {
                description: d,
                ..line.clone()
            }),
            Err(e) => issues.push((at("description"), e)),
        }
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            let msg = format!("must be a whole number from 1 to {MAX_QUANTITY}");
            issues.push((at("quantity"), Invalid::new("out_of_range", msg)));
        }
        if !(0..=MAX_AMOUNT).contains(&line.unit_amount) {
            let msg = format!("must be from 0 to {MAX_AMOUNT} minor units");
            issues.push((at("unit_amount"), Invalid::new("out_of_range", msg)));
        }
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(issues)
    }
}

fn too_large(what: &str) -> Invalid {
    Invalid::new(
        "too_large",
        format!("{what} would exceed {MAX_AMOUNT} minor units"),
    )
}

/// Adds up checked lines. Errors name the field to fix.
pub fn compute(
    lines: &[LineItem],
    discount: Option<Discount>,
    tax_rate_bps: i64,
) -> Result<Totals, Issues> {
    let mut line_amounts = Vec::with_capacity(lines.len());
    let mut subtotal: i64 = 0;
    for (i, line) in lines.iter().enumerate() {
        let amount = line
            .quantity
            .checked_mul(line.unit_amount)
            .filter(|a| *a <= MAX_AMOUNT)
            .ok_or_else(|| {
                vec![(
                    format!("line_items[{i}]"),
                    too_large("quantity × unit_amount"),
                )]
            })?;
        subtotal = subtotal
            .checked_add(amount)
            .filter(|s| *s <= MAX_AMOUNT)
            .ok_or_else(|| vec![("line_items".to_string(), too_large("the subtotal"))])?;
        line_amounts.push(amount);
    }
    if !(0..=MAX_BPS).contains(&tax_rate_bps) {
        let msg = format!("must be from 0 to {MAX_BPS} basis points");
        return Err(vec![(
            "tax_rate_bps".into(),
            Invalid::new("out_of_range", msg),
        )]);
    }
    let discount = discount_amount(subtotal, discount)?;
    let taxable = subtotal - discount;
    if taxable == 0 {
        let msg = "the subtotal after discount must be more than zero";
        return Err(vec![("line_items".into(), Invalid::new("zero_total", msg))]);
    }
    let tax = div_round_half_even(taxable as i128 * tax_rate_bps as i128, MAX_BPS as i128) as i64;
    let total = taxable
        .checked_add(tax)
        .filter(|t| *t <= MAX_AMOUNT)
        .ok_or_else(|| vec![("line_items".to_string(), too_large("the total"))])?;
    Ok(Totals {
        line_amounts,
        subtotal,
        discount,
        taxable,
        tax,
        total,
    })
}

fn discount_amount(subtotal: i64, discount: Option<Discount>) -> Result<i64, Issues> {
    let issue =
        |field: &str, code, msg: String| Err(vec![(field.to_string(), Invalid::new(code, msg))]);
    match discount {
        None => Ok(0),
        Some(Discount::AmountOff(a)) if !(1..=MAX_AMOUNT).contains(&a) => issue(
            "discount.amount_off",
            "out_of_range",
            format!("must be from 1 to {MAX_AMOUNT} minor units"),
        ),
        Some(Discount::AmountOff(a)) if a > subtotal => issue(
            "discount.amount_off",
            "exceeds_subtotal",
            format!("is more than the subtotal ({subtotal})"),
        ),
        Some(Discount::AmountOff(a)) => Ok(a),
        Some(Discount::PercentOffBps(p)) if !(1..=MAX_BPS).contains(&p) => issue(
            "discount.percent_off_bps",
            "out_of_range",
            format!("must be from 1 to {MAX_BPS} basis points"),
        ),
        Some(Discount::PercentOffBps(p)) => {
            Ok(div_round_half_even(subtotal as i128 * p as i128, MAX_BPS as i128) as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(quantity: i64, unit_amount: i64) -> LineItem {
        LineItem {
            description: "Work".into(),
            quantity,
            unit_amount,
        }
    }

    #[test]
    fn ties_round_to_even() {
        assert_eq!(div_round_half_even(25, 10), 2);
        assert_eq!(div_round_half_even(35, 10), 4);
        assert_eq!(div_round_half_even(26, 10), 3);
        assert_eq!(div_round_half_even(24, 10), 2);
        assert_eq!(div_round_half_even(0, 10), 0);
    }

    #[test]
    fn tax_is_rounded_once_on_the_subtotal_after_discount() {
        // 3 × 333 = 999, less 10 % (99.9 → 100) = 899; 19 % of 899 = 170.81 → 171.
        let t = compute(&[line(3, 333)], Some(Discount::PercentOffBps(1000)), 1900).unwrap();
        assert_eq!(
            (t.subtotal, t.discount, t.taxable, t.tax, t.total),
            (999, 100, 899, 171, 1070)
        );
        // 50 × 5 % = 2.5 → 2 (even); 70 × 5 % = 3.5 → 4.
        assert_eq!(compute(&[line(1, 50)], None, 500).unwrap().tax, 2);
        assert_eq!(compute(&[line(1, 70)], None, 500).unwrap().tax, 4);
    }

    #[test]
    fn overflow_and_bad_lines_are_refused_not_wrapped() {
        let e = compute(&[line(MAX_QUANTITY, MAX_AMOUNT)], None, 0).unwrap_err();
        assert_eq!(e[0].0, "line_items[0]");
        let e = parse_lines(&[line(0, 5), line(-1, 5), line(1, -1)]).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "line_items[0].quantity",
                "line_items[1].quantity",
                "line_items[2].unit_amount"
            ]
        );
        assert!(parse_lines(&vec![line(1, 1); MAX_LINES + 1]).is_err());
        let e = compute(&[line(1, 100)], Some(Discount::AmountOff(101)), 0).unwrap_err();
        assert_eq!(e[0].1.code, "exceeds_subtotal");
        let e = compute(&[line(1, 100)], Some(Discount::AmountOff(100)), 0).unwrap_err();
        assert_eq!(e[0].1.code, "zero_total");
    }

    proptest! {
        #[test]
        fn totals_always_add_up_and_never_panic(
            lines in prop::collection::vec((1i64..=MAX_QUANTITY, 0i64..=MAX_AMOUNT), 1..20),
            percent in prop::option::of(0i64..=MAX_BPS + 1),
            off in prop::option::of(-1i64..=MAX_AMOUNT + 1),
            tax in -1i64..=MAX_BPS + 1,
        ) {
            let lines: Vec<LineItem> = lines.into_iter().map(|(q, u)| line(q, u)).collect();
            let discount = percent.map(Discount::PercentOffBps).or(off.map(Discount::AmountOff));
            if let Ok(t) = compute(&lines, discount, tax) {
                let sum: i128 = lines.iter().map(|l| l.quantity as i128 * l.unit_amount as i128).sum();
                prop_assert_eq!(t.subtotal as i128, sum);
                prop_assert_eq!(t.line_amounts.iter().map(|a| *a as i128).sum::<i128>(), sum);
                prop_assert_eq!(t.total, t.subtotal - t.discount + t.tax);
                prop_assert!(t.discount >= 0 && t.discount < t.subtotal);
                prop_assert!(t.tax >= 0 && t.tax <= t.taxable);
                prop_assert!(t.total <= MAX_AMOUNT && t.total > 0);
                // Within half a unit of the exact tax.
                let exact = t.taxable as i128 * tax as i128;
                prop_assert!((t.tax as i128 * 10_000 - exact).abs() * 2 <= 10_000);
            }
        }
    }
}
