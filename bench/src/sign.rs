//! SigV4 signing of remote write requests with the AWS SDK's own signer, so the load tool signs
//! exactly as AWS clients do.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use crate::config::SigV4;

/// Signing a request failed.
#[derive(Debug, thiserror::Error)]
#[error("sigv4 signing failed: {0}")]
pub struct SignError(String);

/// Adds `Authorization`, `X-Amz-Date` (and `X-Amz-Security-Token`) to a request.
pub fn sign_request(
    request: &mut http::Request<Vec<u8>>,
    sigv4: &SigV4,
    now: SystemTime,
) -> Result<(), SignError> {
    let credentials = Credentials::new(
        sigv4.access_key.as_str(),
        sigv4.secret_key.expose(),
        sigv4.session_token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "ampd-bench",
    );
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&sigv4.region)
        .name(&sigv4.service)
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| SignError(e.to_string()))?
        .into();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            value
                .to_str()
                .map(|v| (name.as_str(), v))
                .map_err(|_| SignError(format!("header {name} is not visible ASCII")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(
        request.method().as_str(),
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(|e| SignError(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| SignError(e.to_string()))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::Secret;

    fn sigv4(token: Option<&str>) -> SigV4 {
        SigV4 {
            region: "us-east-1".into(),
            service: "aps".into(),
            access_key: "AKIDEXAMPLE".into(),
            secret_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
            session_token: token.map(|t| Secret::new(t.into())),
        }
    }

    fn request() -> http::Request<Vec<u8>> {
        http::Request::post("http://127.0.0.1:9096/workspaces/ws-1/api/v1/remote_write")
            .header("host", "127.0.0.1:9096")
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "snappy")
            .body(vec![1, 2, 3])
            .unwrap()
    }

    #[test]
    fn signs_for_aps_with_a_credential_scope() {
        let mut req = request();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        sign_request(&mut req, &sigv4(None), now).unwrap();
        let auth = req.headers()["authorization"].to_str().unwrap();
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aps/aws4_request, SignedHeaders="
        ));
        assert!(
            auth.contains("content-encoding;content-type;host;x-amz-date"),
            "{auth}"
        );
        assert_eq!(req.headers()["x-amz-date"], "20150830T123600Z");
        assert!(req.headers().get("x-amz-security-token").is_none());
    }

    #[test]
    fn signature_depends_on_the_body_and_carries_the_session_token() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let mut a = request();
        sign_request(&mut a, &sigv4(Some("token")), now).unwrap();
        let mut b = request();
        *b.body_mut() = vec![9];
        sign_request(&mut b, &sigv4(Some("token")), now).unwrap();
        assert_ne!(a.headers()["authorization"], b.headers()["authorization"]);
        assert_eq!(a.headers()["x-amz-security-token"], "token");
    }
}
