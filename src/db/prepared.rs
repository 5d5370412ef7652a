//! Raw SQL that stays prepared. diesel's `sql_query` is never kept in the connection's statement
//! cache (its text could be built from anything), so PostgreSQL parses and plans it on every call:
//! measured at about 1 ms for the order views, more than running them. The SQL here is fixed at
//! each call site (or one of a few variants), so it is safe to cache by its text, as diesel does
//! for its own queries: `prepared(sql).bind::<ST, _>(value)…`, with `$1`, `$2`… in the text.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::QueryResult;

/// One bound value and its SQL type.
trait Bind: Send + Sync {
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

struct Bound<ST, V> {
    value: V,
    sql_type: std::marker::PhantomData<fn() -> ST>,
}

impl<ST, V> Bind for Bound<ST, V>
where
    Pg: HasSqlType<ST>,
    V: ToSql<ST, Pg> + Send + Sync,
{
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<ST, V>(&self.value)
    }
}

/// A statement of fixed text with `$n` placeholders, and its values.
pub struct Prepared {
    sql: String,
    binds: Vec<Box<dyn Bind>>,
}

pub fn prepared(sql: impl Into<String>) -> Prepared {
    Prepared {
        sql: sql.into(),
        binds: Vec::new(),
    }
}

impl Prepared {
    /// The value of the next placeholder (`$1` first).
    pub fn bind<ST, V>(mut self, value: V) -> Self
    where
        Pg: HasSqlType<ST>,
        V: ToSql<ST, Pg> + Send + Sync + 'static,
        ST: 'static,
    {
        self.binds.push(Box::new(Bound::<ST, V> {
            value,
            sql_type: std::marker::PhantomData,
        }));
        self
    }
}

impl QueryFragment<Pg> for Prepared {
    /// Writes the text, pushing the bound value at each `$n` (a value used twice is sent twice).
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut rest = self.sql.as_str();
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(rest.len() - at - 1, |n| n);
            let index: usize = rest[at + 1..at + 1 + digits].parse().map_err(|_| {
                diesel::result::Error::QueryBuilderError(
                    format!("`$` without a placeholder number in: {}", self.sql).into(),
                )
            })?;
            let bind = self.binds.get(index.wrapping_sub(1)).ok_or_else(|| {
                diesel::result::Error::QueryBuilderError(
                    format!("${index} has no bound value in: {}", self.sql).into(),
                )
            })?;
            bind.push(&mut out)?;
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl QueryId for Prepared {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared {
    type SqlType = Untyped;
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::{BigInt, Text};

    #[test]
    fn each_placeholder_becomes_a_bind_in_order() {
        let q = prepared("SELECT $2 || $1, $1")
            .bind::<Text, _>("a")
            .bind::<BigInt, _>(2i64);
        let sql = diesel::debug_query::<Pg, _>(&q).to_string();
        assert!(sql.starts_with("SELECT $1 || $2, $3"), "{sql}");
        assert!(sql.contains(r#"binds: [2, "a", "a"]"#), "{sql}");
    }
}
