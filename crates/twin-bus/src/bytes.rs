//! [`Bytes`] and [`F64s`]: payloads that the DDS codec copies in one piece.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A byte sequence (`sequence<octet>` in IDL) that serialises as serde
/// *bytes*, so the DDS codec copies it in one `memcpy` instead of element
/// by element as serde does for a plain `Vec<u8>` (about 3–4 ns per byte
/// each way). Same wire format and IDL as `Vec<u8>`; in JSON it is an
/// array of numbers, as `Vec<u8>` is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl std::ops::Deref for Bytes {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

struct BytesVisitor;

impl<'de> de::Visitor<'de> for BytesVisitor {
    type Value = Bytes;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a byte sequence")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
        Ok(Bytes(v))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
        while let Some(b) = seq.next_element::<u8>()? {
            v.push(b);
        }
        Ok(Bytes(v))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }
}

/// The name under which [`F64s`] reaches non-human-readable codecs; the
/// DDS codec and its type probe recognise it.
pub(crate) const F64S_NAME: &str = "$twin_bus::F64s";

/// A sequence of `f64` (`sequence<double>` in IDL) that the DDS codec
/// copies in one piece (a `memcpy` of the little-endian doubles after the
/// length and its alignment) instead of element by element as serde does
/// for a plain `Vec<f64>`. Same wire format and IDL as `Vec<f64>`; in JSON
/// and other human-readable formats it is an array of numbers. Other
/// binary codecs see a newtype struct holding the doubles' little-endian
/// bytes (a round trip through them gives the same values back).
#[derive(Clone, Debug, Default, PartialEq, PartialOrd)]
pub struct F64s(pub Vec<f64>);

impl From<Vec<f64>> for F64s {
    fn from(v: Vec<f64>) -> Self {
        F64s(v)
    }
}

impl std::ops::Deref for F64s {
    type Target = Vec<f64>;
    fn deref(&self) -> &Vec<f64> {
        &self.0
    }
}

/// The doubles as little-endian bytes (a view on little-endian hosts).
struct LeBytes<'a>(&'a [f64]);

impl Serialize for LeBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if cfg!(target_endian = "little") {
            s.serialize_bytes(bytemuck::cast_slice(self.0))
        } else {
            let b: Vec<u8> = self.0.iter().flat_map(|x| x.to_le_bytes()).collect();
            s.serialize_bytes(&b)
        }
    }
}

impl Serialize for F64s {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            self.0.serialize(s)
        } else {
            s.serialize_newtype_struct(F64S_NAME, &LeBytes(&self.0))
        }
    }
}

/// Doubles from their little-endian bytes: one copy.
pub(crate) fn f64s_from_le(b: &[u8]) -> Option<Vec<f64>> {
    if b.len() % 8 != 0 {
        return None;
    }
    // One pass (a plain copy on little-endian hosts, vectorised).
    Some(
        b.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect(),
    )
}

struct F64sVisitor;

impl<'de> de::Visitor<'de> for F64sVisitor {
    type Value = F64s;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence of doubles")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<F64s, E> {
        f64s_from_le(v)
            .map(F64s)
            .ok_or_else(|| E::custom(format!("{} bytes are not whole doubles", v.len())))
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<F64s, D::Error> {
        d.deserialize_bytes(self)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<F64s, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 17));
        while let Some(x) = seq.next_element::<f64>()? {
            v.push(x);
        }
        Ok(F64s(v))
    }
}

impl<'de> Deserialize<'de> for F64s {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<F64s, D::Error> {
        if d.is_human_readable() {
            d.deserialize_seq(F64sVisitor)
        } else {
            d.deserialize_newtype_struct(F64S_NAME, F64sVisitor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_through_json_as_a_number_array() {
        let b = Bytes(vec![0, 7, 255]);
        let j = serde_json::to_string(&b).unwrap();
        assert_eq!(j, "[0,7,255]");
        assert_eq!(serde_json::from_str::<Bytes>(&j).unwrap(), b);
    }

    #[test]
    fn f64s_round_trip_through_json_as_a_number_array() {
        let v = F64s(vec![0.5, -2.0, 1e300]);
        let j = serde_json::to_string(&v).unwrap();
        assert_eq!(j, "[0.5,-2.0,1e+300]");
        assert_eq!(serde_json::from_str::<F64s>(&j).unwrap(), v);
        assert_eq!(f64s_from_le(&[0; 12]), None, "not whole doubles");
    }

    /// The DDS codec's view: same bytes as the plain vectors, one copy.
    #[cfg(feature = "dds")]
    mod cdr_layout {
        use super::super::*;
        use crate::dds::cdr;

        #[test]
        fn bytes_encode_like_a_byte_vector_and_decode_back() {
            let v: Vec<u8> = (0..=200).collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            cdr::encode(&(3u8, v.clone()), None, &mut a).unwrap();
            cdr::encode(&(3u8, Bytes(v.clone())), None, &mut b).unwrap();
            assert_eq!(a, b);
            let (d, _) = cdr::decode::<(u8, Bytes)>(&a).unwrap();
            assert_eq!(d.1 .0, v);
            // A length beyond the data is an error, not an allocation.
            a[8] = 0xff;
            assert!(cdr::decode::<(u8, Bytes)>(&a).is_err());
        }

        #[test]
        fn f64s_encode_like_a_double_vector_and_decode_back() {
            for n in [0usize, 1, 3, 1000] {
                let v: Vec<f64> = (0..n).map(|i| i as f64 * 0.25 - 7.0).collect();
                let (mut a, mut b) = (Vec::new(), Vec::new());
                cdr::encode(&(3u8, v.clone(), 9u16), None, &mut a).unwrap();
                cdr::encode(&(3u8, F64s(v.clone()), 9u16), None, &mut b).unwrap();
                assert_eq!(a, b, "{n} doubles: same bytes as Vec<f64>");
                let (d, _) = cdr::decode::<(u8, F64s, u16)>(&a).unwrap();
                assert_eq!((d.0, &d.1 .0, d.2), (3, &v, 9));
                let (d, _) = cdr::decode::<(u8, Vec<f64>, u16)>(&b).unwrap();
                assert_eq!(d.1, v);
            }
            // Big-endian input (a foreign writer): count, 4 pad bytes, doubles.
            let mut be = vec![0x00, 0x00, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0];
            be.extend(1.5f64.to_be_bytes());
            be.extend((-3.0f64).to_be_bytes());
            let (d, _) = cdr::decode::<F64s>(&be).unwrap();
            assert_eq!(d.0, vec![1.5, -3.0]);
            // A count beyond the data is an error, not an allocation.
            be[7] = 0xff;
            assert!(cdr::decode::<F64s>(&be).is_err());
        }
    }
}
