//! Kafka's request framing, shared by the handshake and the pipelined connection: a
//! length-prefixed frame with a request header, and the names of the APIs for errors and logs.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::tolerant::TolerantDecode;

/// Largest response frame accepted (Kafka's own default `socket.request.max.bytes` is 100 MiB).
pub(crate) const MAX_FRAME: usize = 256 * 1024 * 1024;

/// What the connection can do with a stream: both halves, movable between tasks.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// The name of an API for errors and logs.
pub(crate) fn api_name(key: i16) -> &'static str {
    match ApiKey::try_from(key) {
        Ok(k) => api_key_name(k),
        Err(()) => "Unknown",
    }
}

fn api_key_name(k: ApiKey) -> &'static str {
    match k {
        ApiKey::Produce => "Produce",
        ApiKey::Fetch => "Fetch",
        ApiKey::ListOffsets => "ListOffsets",
        ApiKey::Metadata => "Metadata",
        ApiKey::OffsetFetch => "OffsetFetch",
        ApiKey::OffsetCommit => "OffsetCommit",
        ApiKey::FindCoordinator => "FindCoordinator",
        ApiKey::ListGroups => "ListGroups",
        ApiKey::DescribeGroups => "DescribeGroups",
        ApiKey::SaslHandshake => "SaslHandshake",
        ApiKey::SaslAuthenticate => "SaslAuthenticate",
        ApiKey::ApiVersions => "ApiVersions",
        ApiKey::CreateTopics => "CreateTopics",
        _ => "Request",
    }
}

pub(crate) fn encode_request<R: Request>(
    req: &R,
    version: i16,
    correlation_id: i32,
    client_id: &StrBytes,
) -> anyhow::Result<Bytes> {
    let header = RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(client_id.clone()));
    let mut buf = BytesMut::with_capacity(64);
    buf.put_i32(0); // length, patched below
    header.encode(&mut buf, R::header_version(version))?;
    req.encode(&mut buf, version)?;
    let len = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    Ok(buf.freeze())
}

/// Decodes a response frame's header and body; tagged fields the client does not expect are
/// skipped (see [`TolerantDecode`]).
pub(crate) fn decode_response<R: Request>(
    body: &mut Bytes,
    version: i16,
) -> anyhow::Result<R::Response>
where
    R::Response: TolerantDecode,
{
    ResponseHeader::decode(body, R::Response::header_version(version))?;
    R::Response::decode_tolerant(body, version)
}
