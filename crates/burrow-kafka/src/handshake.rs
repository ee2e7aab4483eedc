//! The connection before it is pipelined: ApiVersions and SASL, one request at a time
//! ([`Setup`]), and the versions the broker announced ([`BrokerVersions`]).

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiVersionsRequest, ApiVersionsResponse, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::{Message, Request, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{KafkaError, Result};
use crate::frame::{api_name, decode_response, encode_request, Stream, MAX_FRAME};
use crate::tolerant::TolerantDecode;

/// Versions a broker announced per API key.
#[derive(Debug, Clone, Default)]
pub(crate) struct BrokerVersions(HashMap<i16, (i16, i16)>);

impl BrokerVersions {
    pub(crate) fn range(&self, key: i16) -> Option<(i16, i16)> {
        self.0.get(&key).copied()
    }
}

/// The connection before it is split: used for ApiVersions and SASL, one request at a time.
pub(crate) struct Setup<'a> {
    pub(crate) addr: &'a str,
    pub(crate) stream: &'a mut Box<dyn Stream>,
    pub(crate) client_id: &'a StrBytes,
    pub(crate) next_id: i32,
    /// How long the broker keeps the authenticated session (SaslAuthenticate v1+,
    /// KIP-368), when it said.
    pub(crate) session_lifetime: Option<std::time::Duration>,
}

impl Setup<'_> {
    fn io(&self, error: std::io::Error) -> KafkaError {
        KafkaError::Io {
            broker: self.addr.to_string(),
            error,
        }
    }

    /// Writes one length-prefixed frame and reads one back.
    pub(crate) async fn raw_roundtrip(&mut self, payload: &[u8]) -> Result<Bytes> {
        let mut frame = Vec::with_capacity(payload.len() + 4);
        frame.extend_from_slice(&(payload.len() as i32).to_be_bytes());
        frame.extend_from_slice(payload);
        self.stream
            .write_all(&frame)
            .await
            .map_err(|e| self.io(e))?;
        self.stream.flush().await.map_err(|e| self.io(e))?;
        let len = self.stream.read_i32().await.map_err(|e| self.io(e))?;
        let len = usize::try_from(len)
            .ok()
            .filter(|n| *n <= MAX_FRAME)
            .ok_or_else(|| KafkaError::Protocol {
                broker: self.addr.to_string(),
                api: "frame",
                message: format!("bad frame length {len}"),
            })?;
        let mut buf = BytesMut::zeroed(len);
        self.stream
            .read_exact(&mut buf)
            .await
            .map_err(|e| self.io(e))?;
        Ok(buf.freeze())
    }

    /// One request/response at an explicit version.
    pub(crate) async fn request<R: Request>(&mut self, req: &R, version: i16) -> Result<R::Response>
    where
        R::Response: TolerantDecode,
    {
        let api = api_name(R::KEY);
        let proto = |e: anyhow::Error, addr: &str| KafkaError::Protocol {
            broker: addr.to_string(),
            api,
            message: e.to_string(),
        };
        let id = self.next_id;
        self.next_id += 1;
        let frame =
            encode_request(req, version, id, self.client_id).map_err(|e| proto(e, self.addr))?;
        let mut body = self.raw_roundtrip(&frame[4..]).await?;
        decode_response::<R>(&mut body, version).map_err(|e| proto(e, self.addr))
    }

    pub(crate) async fn api_versions(&mut self) -> Result<BrokerVersions> {
        let ours = ApiVersionsRequest::VERSIONS.max.min(3);
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("burrow-rs"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let mut resp: ApiVersionsResponse = self.request(&req, ours).await?;
        let unsupported = kafka_protocol::ResponseError::UnsupportedVersion.code();
        if resp.error_code == unsupported {
            // The broker answered in v0 with the range it speaks.
            let theirs = resp
                .api_keys
                .iter()
                .find(|k| k.api_key == ApiVersionsRequest::KEY)
                .map_or(0, |k| k.max_version)
                .min(ours);
            resp = self.request(&req, theirs).await?;
        }
        if resp.error_code != 0 {
            return Err(KafkaError::server("ApiVersions", resp.error_code, None));
        }
        Ok(BrokerVersions(
            resp.api_keys
                .iter()
                .map(|k| (k.api_key, (k.min_version, k.max_version)))
                .collect(),
        ))
    }

    pub(crate) async fn sasl_handshake(
        &mut self,
        version: i16,
        mechanism: &str,
    ) -> Result<SaslHandshakeResponse> {
        let req = SaslHandshakeRequest::default()
            .with_mechanism(StrBytes::from_string(mechanism.to_string()));
        self.request(&req, version).await
    }

    pub(crate) async fn sasl_authenticate(
        &mut self,
        version: i16,
        token: Vec<u8>,
    ) -> Result<SaslAuthenticateResponse> {
        let req = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token));
        let resp: SaslAuthenticateResponse = self.request(&req, version).await?;
        if resp.error_code == 0 && resp.session_lifetime_ms > 0 {
            self.session_lifetime = Some(std::time::Duration::from_millis(
                resp.session_lifetime_ms.unsigned_abs(),
            ));
        }
        Ok(resp)
    }
}
