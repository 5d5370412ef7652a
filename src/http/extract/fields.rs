//! Serde helpers for single fields: integers as JSON Schema means them, strict UUIDs, nullable.

use serde::Deserialize as _;

/// An integer field. JSON Schema's `"type": "integer"` includes `5.0`, so the server takes integral
/// floats as integers too (and nothing fractional): it accepts exactly what the document allows.
pub fn integer<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: TryFrom<i64>,
    D: serde::Deserializer<'de>,
{
    let n = serde_json::Number::deserialize(deserializer)?;
    // Beyond 2^53 a float no longer holds every integer; nothing this API counts comes close.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT)
                .map(|f| f as i64)
        })
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| {
            serde::de::Error::custom(format!("invalid type: `{n}`, expected an integer in range"))
        })
}

/// [`integer`] for an optional field (use with `#[serde(default)]`); `null` is absent.
pub fn optional_integer<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: TryFrom<i64>,
    D: serde::Deserializer<'de>,
{
    #[derive(serde::Deserialize)]
    struct Wrap<T: TryFrom<i64>>(#[serde(deserialize_with = "integer")] T);
    Ok(Option::<Wrap<T>>::deserialize(deserializer)?.map(|w| w.0))
}

/// A UUID in its hyphenated form only, as `format: uuid` says; the uuid crate alone would also take
/// the simple, braced and URN forms. `T` is the typed id it becomes (`StrictUuid<OrderId>`).
#[derive(Clone, Copy, Debug)]
pub struct StrictUuid<T = uuid::Uuid>(pub T);

impl<'de, T: From<uuid::Uuid>> serde::Deserialize<'de> for StrictUuid<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        parse_strict_uuid(&s)
            .map(|u| StrictUuid(T::from(u)))
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a hyphenated UUID")))
    }
}

/// Serialised as the id it holds (idempotent requests hash their parsed body).
impl<T: serde::Serialize> serde::Serialize for StrictUuid<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<T: std::fmt::Display> std::fmt::Display for StrictUuid<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

fn parse_strict_uuid(s: &str) -> Option<uuid::Uuid> {
    (s.len() == 36)
        .then(|| uuid::Uuid::try_parse(s).ok())
        .flatten()
}

/// For an optional id in a body or query (use with `#[serde(default)]`).
pub fn optional_strict_uuid<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: From<uuid::Uuid>,
    D: serde::Deserializer<'de>,
{
    Ok(Option::<StrictUuid<T>>::deserialize(d)?.map(|u| u.0))
}

/// For PATCH bodies: tells "absent" (`None`) from "null" (`Some(None)`), so null can clear a field.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A nested object, and only an object: serde's derive reads a struct from a JSON array too
/// (`{"amount": [100, "EUR"]}`), which the document does not allow. `null` is `None`.
pub fn optional_object<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: serde::de::DeserializeOwned,
    D: serde::Deserializer<'de>,
{
    use serde::de::{Error, Unexpected};
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        v @ serde_json::Value::Object(_) => T::deserialize(v).map(Some).map_err(D::Error::custom),
        serde_json::Value::Array(_) => Err(D::Error::invalid_type(Unexpected::Seq, &"an object")),
        _ => Err(D::Error::invalid_type(
            Unexpected::Other("a scalar"),
            &"an object",
        )),
    }
}

/// [`optional_object`] for a required field.
pub fn object<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: serde::de::DeserializeOwned,
    D: serde::Deserializer<'de>,
{
    optional_object(d)?.ok_or_else(|| serde::de::Error::custom("expected an object, not null"))
}
