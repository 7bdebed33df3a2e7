use serde::{Deserialize, Serialize};
use twin_bus::TopicType;

/// A 64-byte keyed test sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Pt {
    pub(crate) id: u32,
    pub(crate) writer: u32,
    pub(crate) seq: u64,
    pub(crate) payload: [u64; 6],
}

impl TopicType for Pt {
    const TYPE_NAME: &'static str = "test::Pt";
    type Key = u32;
    fn key(&self) -> u32 {
        self.id
    }
}

pub(crate) fn pt(id: u32, writer: u32, seq: u64) -> Pt {
    Pt {
        id,
        writer,
        seq,
        payload: [seq; 6],
    }
}

/// The same name, a different type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Other(pub u8);
impl TopicType for Other {
    const TYPE_NAME: &'static str = "test::Other";
    type Key = ();
    fn key(&self) {}
}
