//! Response decoding as the Kafka protocol asks of a reader (KIP-482): a tagged field the reader
//! does not expect is skipped, never an error.
//!
//! kafka-protocol keeps unknown tags, but refuses a tag it knows for *other* versions of the
//! message ("Tag 0 is not valid for version 12"): tansu 0.6.0 sends Fetch v12 with tag 0
//! (NodeEndpoints, defined from v16), and one such field cost the whole response. Every
//! response type the client reads goes through [`TolerantDecode`]; the types whose generated
//! decoder can refuse a tag (Fetch at its top level; Produce at its top and partition levels)
//! are decoded here level by level, reusing the generated decoders below those levels. A known
//! tagged field is decoded from exactly its own bytes, so a broker's different idea of its
//! contents is kept as unknown instead of shifting every byte after it.
//!
//! `tests/tolerant_decoding.rs` adds arbitrary tagged fields at every flexible level of every
//! response type the client decodes and checks the decoded values are unchanged.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use bytes::Bytes;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{
    ApiVersionsResponse, ConsumerGroupDescribeResponse, CreateTopicsResponse,
    DescribeGroupsResponse, FetchResponse, FindCoordinatorResponse, ListGroupsResponse,
    ListOffsetsResponse, MetadataResponse, OffsetCommitResponse, OffsetFetchResponse,
    ProduceResponse, SaslAuthenticateResponse, SaslHandshakeResponse,
};
use kafka_protocol::protocol::buf::ByteBuf;
use kafka_protocol::protocol::Decodable;

/// A response decoded without refusing tagged fields the reader does not expect.
pub trait TolerantDecode: Sized {
    /// Decodes `version` of the message from `buf`.
    fn decode_tolerant(buf: &mut Bytes, version: i16) -> Result<Self>;
}

/// Response types whose generated decoder already keeps every tag it does not expect.
macro_rules! generated_decoder_is_tolerant {
    ($($ty:ty),* $(,)?) => {$(
        impl TolerantDecode for $ty {
            fn decode_tolerant(buf: &mut Bytes, version: i16) -> Result<Self> {
                <$ty as Decodable>::decode(buf, version)
            }
        }
    )*};
}

generated_decoder_is_tolerant!(
    ApiVersionsResponse,
    ConsumerGroupDescribeResponse,
    CreateTopicsResponse,
    DescribeGroupsResponse,
    FindCoordinatorResponse,
    ListGroupsResponse,
    ListOffsetsResponse,
    MetadataResponse,
    OffsetCommitResponse,
    OffsetFetchResponse,
    SaslAuthenticateResponse,
    SaslHandshakeResponse,
);

/// Fetch is flexible from v12; NodeEndpoints (tag 0) is defined from v16.
const FETCH_FLEXIBLE: i16 = 12;
const FETCH_NODE_ENDPOINTS: i16 = 16;
const FETCH_LAST: i16 = 18;

impl TolerantDecode for FetchResponse {
    fn decode_tolerant(buf: &mut Bytes, version: i16) -> Result<Self> {
        if !(FETCH_FLEXIBLE..=FETCH_LAST).contains(&version) {
            return <Self as Decodable>::decode(buf, version);
        }
        let mut response = FetchResponse::default()
            .with_throttle_time_ms(wire::i32(buf)?)
            .with_error_code(wire::i16(buf)?)
            .with_session_id(wire::i32(buf)?)
            .with_responses(structs(buf, version)?);
        let (unknown, node_endpoints) =
            tagged_fields_with_tag0(buf, version >= FETCH_NODE_ENDPOINTS, |b| {
                structs(b, version)
            })?;
        response.unknown_tagged_fields = unknown;
        if let Some(endpoints) = node_endpoints {
            response.node_endpoints = endpoints;
        }
        Ok(response)
    }
}

/// Produce is flexible from v9; NodeEndpoints and CurrentLeader (tag 0 at the top and
/// partition levels) are defined from v10, topic names give way to topic IDs at v13.
const PRODUCE_FLEXIBLE: i16 = 9;
const PRODUCE_LEADER_HINTS: i16 = 10;
const PRODUCE_TOPIC_IDS: i16 = 13;

impl TolerantDecode for ProduceResponse {
    fn decode_tolerant(buf: &mut Bytes, version: i16) -> Result<Self> {
        if !(PRODUCE_FLEXIBLE..=PRODUCE_TOPIC_IDS).contains(&version) {
            return <Self as Decodable>::decode(buf, version);
        }
        let responses = read_compact_array(buf, |b| produce_topic(b, version))?;
        let mut response = ProduceResponse::default()
            .with_responses(responses)
            .with_throttle_time_ms(wire::i32(buf)?);
        let (unknown, node_endpoints) =
            tagged_fields_with_tag0(buf, version >= PRODUCE_LEADER_HINTS, |b| {
                structs(b, version)
            })?;
        response.unknown_tagged_fields = unknown;
        if let Some(endpoints) = node_endpoints {
            response.node_endpoints = endpoints;
        }
        Ok(response)
    }
}

fn produce_topic(buf: &mut Bytes, version: i16) -> Result<TopicProduceResponse> {
    let mut topic = TopicProduceResponse::default();
    if version < PRODUCE_TOPIC_IDS {
        topic.name = wire::compact_string(buf)?
            .ok_or_else(|| anyhow::anyhow!("a topic name is null"))?
            .into();
    } else {
        topic.topic_id = wire::uuid(buf)?;
    }
    topic.partition_responses = read_compact_array(buf, |b| produce_partition(b, version))?;
    topic.unknown_tagged_fields = read_tagged_fields(buf, |_, _| false)?;
    Ok(topic)
}

fn produce_partition(buf: &mut Bytes, version: i16) -> Result<PartitionProduceResponse> {
    let mut partition = PartitionProduceResponse::default()
        .with_index(wire::i32(buf)?)
        .with_error_code(wire::i16(buf)?)
        .with_base_offset(wire::i64(buf)?)
        .with_log_append_time_ms(wire::i64(buf)?)
        .with_log_start_offset(wire::i64(buf)?)
        .with_record_errors(structs(buf, version)?)
        .with_error_message(wire::compact_string(buf)?);
    let (unknown, current_leader) =
        tagged_fields_with_tag0(buf, version >= PRODUCE_LEADER_HINTS, |b| {
            Decodable::decode(b, version)
        })?;
    partition.unknown_tagged_fields = unknown;
    if let Some(leader) = current_leader {
        partition.current_leader = leader;
    }
    Ok(partition)
}

/// Reads a tagged-field section whose only known field is tag 0, decoded with `decode` when
/// this version `defines` it (every message decoded here has that shape); every other field,
/// and tag 0 at other versions or when its bytes do not decode, is kept as unknown.
fn tagged_fields_with_tag0<T>(
    buf: &mut Bytes,
    defines: bool,
    decode: impl Fn(&mut Bytes) -> Result<T>,
) -> Result<(BTreeMap<i32, Bytes>, Option<T>)> {
    let mut tag0 = None;
    let unknown = read_tagged_fields(buf, |tag, value| {
        if tag == 0 && defines {
            tag0 = decode_exactly(value, &decode);
            return tag0.is_some();
        }
        false
    })?;
    Ok((unknown, tag0))
}

/// Reads a tagged-field section. Each field is offered to `take_known` with its bytes; what
/// it does not take (unknown here, or known only for other versions) is kept as unknown.
fn read_tagged_fields(
    buf: &mut Bytes,
    mut take_known: impl FnMut(u32, &Bytes) -> bool,
) -> Result<BTreeMap<i32, Bytes>> {
    let count = wire::varint(buf)?;
    let mut unknown = BTreeMap::new();
    for _ in 0..count {
        let tag = wire::varint(buf)?;
        let size = wire::varint(buf)? as usize;
        let value = buf.try_get_bytes(size)?;
        if !take_known(tag, &value) {
            unknown.insert(tag as i32, value);
        }
    }
    Ok(unknown)
}

/// A known tagged field decoded from exactly its own bytes; `None` when they do not decode
/// or are not all used (the field is then kept as unknown).
fn decode_exactly<T>(value: &Bytes, decode: impl FnOnce(&mut Bytes) -> Result<T>) -> Option<T> {
    let mut bytes = value.clone();
    match decode(&mut bytes) {
        Ok(decoded) if bytes.is_empty() => Some(decoded),
        _ => None,
    }
}

/// A non-nullable compact array whose elements are decoded by `element`.
fn read_compact_array<T>(
    buf: &mut Bytes,
    mut element: impl FnMut(&mut Bytes) -> Result<T>,
) -> Result<Vec<T>> {
    let Some(len) = wire::varint(buf)?.checked_sub(1) else {
        bail!("a non-nullable array is null");
    };
    // Each element takes at least one byte: a length beyond what is left is refused before
    // anything is allocated for it.
    if len as usize > buf.len() {
        bail!("array of {len} elements in {} bytes", buf.len());
    }
    (0..len).map(|_| element(buf)).collect()
}

/// A compact array of messages decoded by their generated decoders.
fn structs<T: Decodable>(buf: &mut Bytes, version: i16) -> Result<Vec<T>> {
    read_compact_array(buf, |b| T::decode(b, version))
}

/// The protocol's primitive types (kafka-protocol keeps its own readers private).
mod wire {
    use anyhow::{bail, Result};
    use bytes::{Buf, Bytes};
    use kafka_protocol::protocol::buf::ByteBuf;
    use kafka_protocol::protocol::StrBytes;

    fn need(buf: &Bytes, n: usize) -> Result<()> {
        if buf.remaining() < n {
            bail!("needs {n} bytes, {} left", buf.remaining());
        }
        Ok(())
    }

    pub(super) fn i16(buf: &mut Bytes) -> Result<i16> {
        need(buf, 2)?;
        Ok(buf.get_i16())
    }

    pub(super) fn i32(buf: &mut Bytes) -> Result<i32> {
        need(buf, 4)?;
        Ok(buf.get_i32())
    }

    pub(super) fn i64(buf: &mut Bytes) -> Result<i64> {
        need(buf, 8)?;
        Ok(buf.get_i64())
    }

    pub(super) fn uuid(buf: &mut Bytes) -> Result<uuid::Uuid> {
        need(buf, 16)?;
        let mut bytes = [0; 16];
        buf.copy_to_slice(&mut bytes);
        Ok(uuid::Uuid::from_bytes(bytes))
    }

    /// An unsigned varint of at most 32 bits.
    pub(super) fn varint(buf: &mut Bytes) -> Result<u32> {
        let mut value = 0u32;
        for shift in (0..35).step_by(7) {
            need(buf, 1)?;
            let byte = buf.get_u8();
            value |= u32::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift == 28 && byte > 0x0f {
                    break;
                }
                return Ok(value);
            }
        }
        bail!("varint longer than 32 bits")
    }

    /// A nullable compact string.
    pub(super) fn compact_string(buf: &mut Bytes) -> Result<Option<StrBytes>> {
        let Some(len) = varint(buf)?.checked_sub(1) else {
            return Ok(None);
        };
        let bytes = buf.try_get_bytes(len as usize)?;
        Ok(Some(StrBytes::from_utf8(bytes)?))
    }
}
