//! Typed member parameters from the scenario's `[member.params]` table.

use serde::de::DeserializeOwned;
use twin_scenario::ParamIssue;

/// Deserializes a params table into `P`, turning serde's complaints into
/// issues located at the offending key where serde names one.
pub fn parse_params<P: DeserializeOwned>(table: &toml::Table) -> Result<P, Vec<ParamIssue>> {
    let value = toml::Value::Table(table.clone());
    P::deserialize(value).map_err(|e| {
        let msg = e.message().to_owned();
        let key = ["unknown field `", "invalid value for `", "for key `"]
            .iter()
            .find_map(|p| {
                msg.split_once(p)
                    .and_then(|(_, rest)| rest.split_once('`'))
                    .map(|(k, _)| k)
            });
        vec![match key {
            Some(k) if table.contains_key(k) || msg.starts_with("unknown field") => {
                ParamIssue::at(k, msg.clone())
            }
            _ => ParamIssue::table(msg),
        }]
    })
}

/// Turns a list of semantic problems into a result.
pub(crate) fn issues(v: Vec<ParamIssue>) -> Result<(), Vec<ParamIssue>> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(v)
    }
}
