//! JSON read lazily: an object's members picked out as JSON text, each parsed only when used.
//!
//! The one way the core reads what the server sends most (room-message frames and the messages
//! in them), in the spirit of matrix-rust-sdk's `Raw<T>`: nothing is built for the members a
//! reader does not ask for, strings without escapes are borrowed, and every member is read as
//! leniently as a JSON tree would be (a repeated key keeps its last value; a wrong type is
//! reported by the reader that needed the member, naming it).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// The members `keys` of the JSON object `json`, in the order of `keys`, each still JSON text;
/// `null` reads as absent. `None` when `json` is not a JSON object.
pub(crate) fn members<'a, const N: usize>(
    json: &'a str,
    keys: &'static [&'static str; N],
) -> Option<[Option<&'a RawValue>; N]> {
    // serde would also read an array, as the members in order.
    if !json.trim_start().starts_with('{') {
        return None;
    }
    read(json, Pick(keys))
}

/// A member read for a string: `Ok` with the string (borrowed unless it has escapes), or `Err`
/// with the JSON type it has instead (see [`kind`]).
pub(crate) fn string(raw: &RawValue) -> Result<Cow<'_, str>, &'static str> {
    /// serde borrows a `Cow` field, not a bare `Cow`: hence the newtype.
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    match serde_json::from_str::<Text<'_>>(raw.get()) {
        Ok(Text(s)) => Ok(s),
        Err(_) => Err(kind(raw)),
    }
}

/// A member's JSON type, as error messages name it: `a string`, `an object`, ...
pub(crate) fn kind(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// The elements of a JSON array, each still JSON text; `None` when `raw` is not an array.
pub(crate) fn elements(raw: &RawValue) -> Option<Vec<&RawValue>> {
    // Looked at first: reading an object or a string to learn it is not an array scans it whole.
    if !raw.get().trim_start().starts_with('[') {
        return None;
    }
    read(raw.get(), ArrayOr)?.ok()
}

/// A key, borrowed unless it has escapes.
#[derive(Deserialize)]
pub(crate) struct Key<'a>(#[serde(borrow)] pub(crate) Cow<'a, str>);

/// Reads an object's members by key into slots; a repeated key overwrites its slot.
struct Pick<const N: usize>(&'static [&'static str; N]);

impl<'de, const N: usize> DeserializeSeed<'de> for Pick<N> {
    type Value = [Option<&'de RawValue>; N];

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Pick<N> {
    type Value = [Option<&'de RawValue>; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots = [None; N];
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match self.0.iter().position(|k| *k == key) {
                Some(i) => slots[i] = present(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(slots)
    }
}

/// A member as JSON text; `null` reads as absent.
pub(crate) fn present(raw: &RawValue) -> Option<&RawValue> {
    (raw.get() != "null").then_some(raw)
}

/// A member that should be an object, read in the same pass by the visitor `V` when it is one;
/// otherwise `Err` with the JSON type it has instead.
pub(crate) struct ObjectOr<V>(pub(crate) V);

/// A member that should be an array, read in the same pass into its elements (each still JSON
/// text); otherwise `Err` with the JSON type it has instead.
pub(crate) struct ArrayOr;

/// The answers of a visitor that takes any JSON value and names the type it got.
macro_rules! name_other_types {
    () => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Err("a boolean"))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Err("a number"))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Err("a number"))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Err("a number"))
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Err("a string"))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Err("null"))
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(Err("null"))
        }
    };
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for ObjectOr<V> {
    type Value = Result<V::Value, &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ObjectOr<V> {
    type Value = Result<V::Value, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    name_other_types!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map).map(Ok)
    }
}

impl<'de> DeserializeSeed<'de> for ArrayOr {
    type Value = Result<Vec<&'de RawValue>, &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArrayOr {
    type Value = Result<Vec<&'de RawValue>, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    name_other_types!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(2));
        while let Some(raw) = seq.next_element()? {
            elements.push(raw);
        }
        Ok(Ok(elements))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err("an object"))
    }
}

/// Read `json` whole with `seed`; `None` when it is not JSON.
pub(crate) fn read<'a, S: DeserializeSeed<'a>>(json: &'a str, seed: S) -> Option<S::Value> {
    let mut de = serde_json::Deserializer::from_str(json);
    let value = seed.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_picked_last_one_winning() {
        let json = r#" {"a": 1, "b": "x\"y", "c": null, "a": [2, {"a": 3}], "z": {"a": 4}} "#;
        let [a, b, c, d] = members(json, &["a", "b", "c", "d"]).expect("an object");
        assert_eq!(a.map(RawValue::get), Some("[2, {\"a\": 3}]"));
        assert_eq!(string(b.expect("b")).as_deref(), Ok("x\"y"));
        assert!(c.is_none() && d.is_none(), "null and absent read alike");
        // Escaped keys are the same keys.
        let [a] = members(r#"{"\u0061":"yes"}"#, &["a"]).expect("an object");
        assert_eq!(string(a.expect("a")).as_deref(), Ok("yes"));
    }

    #[test]
    fn only_objects_have_members() {
        for json in ["[1, 2]", "\"a\"", "3", "null", "{\"a\":", "{} {}", ""] {
            assert!(members(json, &["a"]).is_none(), "{json}");
        }
    }

    #[test]
    fn kinds_and_strings() {
        let raw = |s: &str| RawValue::from_string(s.to_owned()).expect("json");
        for (json, expected) in [
            ("\"s\"", "a string"),
            ("{}", "an object"),
            ("[]", "an array"),
            ("true", "a boolean"),
            ("false", "a boolean"),
            ("null", "null"),
            ("-1.5", "a number"),
        ] {
            assert_eq!(kind(&raw(json)), expected, "{json}");
        }
        assert_eq!(string(&raw("7")), Err("a number"));
        assert!(matches!(
            string(&raw("\"plain\"")),
            Ok(Cow::Borrowed("plain"))
        ));
        assert_eq!(
            elements(&raw("[1, \"a\"]"))
                .expect("an array")
                .iter()
                .map(|r| r.get())
                .collect::<Vec<_>>(),
            ["1", "\"a\""]
        );
        assert!(elements(&raw("{}")).is_none());
    }
}
