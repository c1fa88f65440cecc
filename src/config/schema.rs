//! JSON Schema of `channels.rocketchat`, generated from the serde types in [`super::model`].

use serde_json::Value;

use super::model::RocketChatConfig;

/// The JSON Schema (draft 2020-12) of the `channels.rocketchat` object.
///
/// Unknown keys are allowed (OpenClaw may add keys); [`super::resolve`]
/// reports them as warnings.
pub fn json_schema() -> Value {
    let mut schema = schemars::schema_for!(RocketChatConfig);
    schema.insert(
        "title".to_owned(),
        Value::String("channels.rocketchat".to_owned()),
    );
    schema.to_value()
}
