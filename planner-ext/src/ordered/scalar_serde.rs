//! Constants inside operator specs, written by the codecs: a `ScalarValue` travels as the bytes
//! of DataFusion's own protobuf form of it, so every type and value round-trips exactly.

use datafusion::common::ScalarValue;
use datafusion_proto::protobuf;
use prost::Message;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<S: Serializer>(value: &ScalarValue, serializer: S) -> Result<S::Ok, S::Error> {
    let proto = protobuf::ScalarValue::try_from(value).map_err(serde::ser::Error::custom)?;
    proto.encode_to_vec().serialize(serializer)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ScalarValue, D::Error> {
    let bytes = Vec::<u8>::deserialize(deserializer)?;
    let proto =
        protobuf::ScalarValue::decode(bytes.as_slice()).map_err(serde::de::Error::custom)?;
    ScalarValue::try_from(&proto).map_err(serde::de::Error::custom)
}
