//! Small `Copy` id newtypes.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty), $prefix:literal) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A federation member, numbered by the federation in join order.
    MemberId(u32),
    "member#"
);
id_type!(
    /// A node of a simulated network.
    NodeId(u32),
    "node#"
);
id_type!(
    /// A region of a brain connectome.
    RegionId(u32),
    "region#"
);
