//! Schemas built from the domain's rules, for `#[schema(schema_with = ...)]`: the document states
//! each field's limits from the same constant the parser applies.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

use crate::domain::text::{self, TextRule};

fn text(rule: &TextRule, nullable: bool) -> Object {
    let kind = if rule.multiline { "Text" } else { "One line" };
    let min = if rule.min == 0 {
        String::from("at most")
    } else {
        format!("{} to", rule.min)
    };
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(format!(
            "{kind}, {min} {} characters (trimmed), without control characters.",
            rule.max
        )))
        .min_length((rule.min > 0).then_some(rule.min))
        .max_length(Some(rule.max))
        .pattern(Some(rule.pattern()))
        .build()
}

macro_rules! text_schemas {
    ($($name:ident => $rule:ident, $nullable:expr;)*) => {$(
        pub fn $name() -> Object {
            text(&text::$rule, $nullable)
        }
    )*};
}

text_schemas! {
    title => TITLE, false;
    title_or_null => TITLE, true;
    display_name => DISPLAY_NAME, false;
    display_name_or_null => DISPLAY_NAME, true;
    search => SEARCH, false;
    requirements => REQUIREMENTS, false;
    requirements_or_null => REQUIREMENTS, true;
    description => DESCRIPTION, false;
    description_or_null => DESCRIPTION, true;
    reason => REASON, false;
    note_or_null => NOTE, true;
    bio_or_null => BIO, true;
    message => MESSAGE, false;
    line_description => LINE_DESCRIPTION, false;
    memo_or_null => MEMO, true;
    legal_name => LEGAL_NAME, false;
    tax_id_or_null => TAX_ID, true;
    payment_reference => PAYMENT_REFERENCE, false;
    review_comment_or_null => REVIEW_COMMENT, true;
    review_reply => REVIEW_REPLY, false;
    webhook_description_or_null => WEBHOOK_DESCRIPTION, true;
}

/// 1 to 5 address lines, each a line of text.
pub fn address_lines() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(text(&text::ADDRESS_LINE, false))
        .min_items(Some(1))
        .max_items(Some(crate::domain::billing::profile::MAX_ADDRESS_LINES))
        .build()
}

/// The ISO 3166-1 alpha-2 codes the server accepts.
pub fn country() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some("ISO 3166-1 alpha-2 code, upper case."))
        .enum_values(Some(crate::domain::billing::profile::country_codes()))
        .examples(["GB"])
        .build()
}

/// The ISO 4217 codes the server accepts, so clients can offer them and the fuzzer sends real ones.
pub fn currency() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some("ISO 4217 code, upper case."))
        .enum_values(Some(crate::domain::money::Currency::all_codes()))
        .examples(["EUR"])
        .build()
}

/// An absolute http(s) URL, or `null` to clear it.
pub fn avatar_url_or_null() -> Object {
    use crate::domain::account::{AVATAR_URL_MAX, AVATAR_URL_PATTERN};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(
            "An absolute http(s) URL without white space; `null` clears it.",
        ))
        .max_length(Some(AVATAR_URL_MAX))
        .pattern(Some(AVATAR_URL_PATTERN))
        .examples(["https://cdn.example.com/ada.png"])
        .build()
}
