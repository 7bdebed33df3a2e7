//! Topic types and names.

use std::{fmt::Debug, hash::Hash};

use serde::{de::DeserializeOwned, Serialize};

/// A type that can be published on the bus.
///
/// `TYPE_NAME` is the stable, documented type name other DDS programs use
/// (`twin::demo::PointPosition`); `VERSION` increases on any incompatible
/// change, and a topic refuses a second type or version under its name.
/// Keyed types return their key from [`TopicType::key`]; keyless types use
/// `()` as key, making the topic a single instance.
pub trait TopicType: Clone + Send + Sync + Serialize + DeserializeOwned + 'static {
    /// Stable type name, `module::Type` style.
    const TYPE_NAME: &'static str;
    /// Schema version of this type.
    const VERSION: u32 = 1;
    /// Names of the fields that make up the key, in definition order, for
    /// backends that key instances by fields (DDS `@key`). Keyed types must
    /// list them; `key()` must return exactly these fields' values (one
    /// field: its value; several: a tuple in this order).
    const KEY_FIELDS: &'static [&'static str] = &[];
    /// The instance key.
    type Key: Clone + Eq + Hash + Ord + Debug + Send + Sync + Serialize + DeserializeOwned + 'static;
    /// The key of this sample.
    fn key(&self) -> Self::Key;
}

/// Describes a topic: its name and its type's name and version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TopicDescriptor {
    /// Topic name, `twin/<domain>/<entity>/<signal>`.
    pub name: String,
    /// The type's [`TopicType::TYPE_NAME`].
    pub type_name: &'static str,
    /// The type's [`TopicType::VERSION`].
    pub version: u32,
}

/// Checks a topic name: non-empty, no whitespace or control characters,
/// segments separated by single `/`.
pub(crate) fn validate_topic_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("topic name is empty");
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("topic name contains whitespace or control characters");
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Err("topic name has an empty segment");
    }
    Ok(())
}
