//! A small subset of ajv, enough to reproduce Rocket.Chat's body validation messages:
//! `required` first, then `additionalProperties: false`, then property types, stopping at the
//! first error of a schema (ajv without `allErrors`); `oneOf` reports every branch's error
//! followed by `must match exactly one schema in oneOf`.

use serde_json::{Map, Value};

/// JSON types a property may have.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// `string`.
    Str,
    /// `boolean`.
    Bool,
    /// `object`.
    Obj,
    /// `array`.
    Arr,
    /// `string` or array of strings (`roomId`, `channel`).
    StrOrArr,
    /// Anything.
    Any,
}

/// An object schema with `additionalProperties: false`.
pub struct Schema {
    /// Required properties, in schema order.
    pub required: &'static [&'static str],
    /// Allowed properties and their types.
    pub props: &'static [(&'static str, Ty)],
}

impl Schema {
    /// The first error message, if the body does not match.
    pub fn first_error(&self, body: &Map<String, Value>) -> Option<String> {
        if let Some(missing) = self.required.iter().find(|k| !body.contains_key(**k)) {
            return Some(format!("must have required property '{missing}'"));
        }
        if body.keys().any(|k| !self.props.iter().any(|(p, _)| p == k)) {
            return Some("must NOT have additional properties".into());
        }
        for (k, ty) in self.props {
            let Some(v) = body.get(*k) else { continue };
            let ok = match ty {
                Ty::Str => v.is_string(),
                Ty::Bool => v.is_boolean(),
                Ty::Obj => v.is_object(),
                Ty::Arr => v.is_array(),
                Ty::StrOrArr => v.is_string() || v.is_array(),
                Ty::Any => true,
            };
            if !ok {
                return Some(
                    match ty {
                        Ty::Str => "must be string",
                        Ty::Bool => "must be boolean",
                        Ty::Obj => "must be object",
                        Ty::Arr => "must be array",
                        Ty::StrOrArr => "must match exactly one schema in oneOf",
                        Ty::Any => unreachable!("Any always matches"),
                    }
                    .into(),
                );
            }
        }
        None
    }

    /// All messages of one schema, joined as Rocket.Chat joins them (`"\n "`).
    pub fn check(&self, body: &Map<String, Value>) -> Result<(), String> {
        self.first_error(body).map_or(Ok(()), Err)
    }
}

/// `oneOf` over schemas: exactly one must match.
pub fn one_of(schemas: &[&Schema], body: &Map<String, Value>) -> Result<usize, String> {
    let errors: Vec<Option<String>> = schemas.iter().map(|s| s.first_error(body)).collect();
    let passing: Vec<usize> = (0..errors.len()).filter(|&i| errors[i].is_none()).collect();
    if passing.len() == 1 {
        return Ok(passing[0]);
    }
    let mut msgs: Vec<String> = errors.into_iter().flatten().collect();
    msgs.push("must match exactly one schema in oneOf".into());
    Err(msgs.join("\n "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: Schema = Schema {
        required: &["roomId"],
        props: &[("roomId", Ty::StrOrArr), ("text", Ty::Str)],
    };
    const B: Schema = Schema {
        required: &["channel"],
        props: &[("channel", Ty::StrOrArr), ("text", Ty::Str)],
    };

    #[test]
    fn one_of_lists_each_branch_then_the_summary() {
        let body = json!({"text": "no target"});
        assert_eq!(
            one_of(&[&A, &B], body.as_object().unwrap()).unwrap_err(),
            "must have required property 'roomId'\n must have required property 'channel'\n must match exactly one schema in oneOf"
        );
        let body = json!({"roomId": "GENERAL", "parseUrls": true});
        assert!(one_of(&[&A, &B], body.as_object().unwrap())
            .unwrap_err()
            .starts_with("must NOT have additional properties\n"));
        let body = json!({"roomId": "GENERAL"});
        assert_eq!(one_of(&[&A, &B], body.as_object().unwrap()), Ok(0));
    }
}
