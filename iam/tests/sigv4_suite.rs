//! Replays AWS's SigV4 test suite (`shared/sigv4-testsuite/v4`): for every case, the canonical
//! request, string to sign and signature are recomputed from the signed request and compared
//! with the expected files; then the verifier must accept the signed request and reject
//! tampered copies of it.

// Test-harness helpers outside `#[test]` functions may fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use ampd_iam::SecretKey;
use ampd_iam::sigv4::{
    AmzDate, PayloadHash, SigV4Auth, SigV4Error, SignableRequest, SignatureLocation, UriRules,
    Verifier, VerifierConfig, canonical_request, derive_signing_key, sha256_hex, sign,
    string_to_sign,
};
use http::{HeaderMap, HeaderName, HeaderValue};

const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/sigv4-testsuite/v4"
);

/// A request as read from a suite file: the request line is taken literally.
#[derive(Clone)]
struct RawRequest {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl RawRequest {
    fn parse(text: &str) -> Self {
        let text = text.replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let request_line = lines.next().expect("request line");
        let (method, rest) = request_line.split_once(' ').expect("method");
        // The version is optional in the legacy cases.
        let target = match rest.rsplit_once(' ') {
            Some((target, version)) if version.starts_with("HTTP/") => target,
            _ => rest,
        };
        let method = method.to_owned();
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (target.to_owned(), None),
        };
        // Obsolete line folding: a line starting with whitespace continues the previous value.
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                let last = fields.last_mut().expect("continuation after a header");
                last.1.push(' ');
                last.1.push_str(line.trim());
            } else {
                let (name, value) = line.split_once(':').expect("header line");
                fields.push((name.to_owned(), value.to_owned()));
            }
        }
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            headers.append(
                HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).expect("name"),
                HeaderValue::from_str(&value).expect("value"),
            );
        }
        Self {
            method,
            path,
            query,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn signable(&self) -> SignableRequest<'_> {
        SignableRequest {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            authority: None,
        }
    }
}

/// Signing inputs of one case.
struct Context {
    secret: String,
    region: String,
    service: String,
    now: SystemTime,
    normalize: bool,
    omit_session_token: bool,
    access_key_id: String,
    token: Option<String>,
    sign_body: bool,
}

impl Context {
    fn load(dir: &Path) -> Self {
        let name = dir.file_name().unwrap().to_str().unwrap();
        let path = dir.join("context.json");
        if !path.try_exists().unwrap() {
            // The two legacy cases carry no context; their inputs are listed in the README.
            let (secret, region, service, date) = match name {
                "double-url-encode" => (
                    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                    "us-east-2",
                    "lambda",
                    "20210511T154045Z",
                ),
                "double-encode-path" => (
                    "notrealrnrELgWzOk3IfjzDKtFBhDby",
                    "us-east-1",
                    "service",
                    "20150830T123600Z",
                ),
                other => panic!("case {other} has no context.json"),
            };
            return Self {
                secret: secret.into(),
                region: region.into(),
                service: service.into(),
                now: AmzDate::parse_basic(date).unwrap().time(),
                normalize: true,
                omit_session_token: false,
                access_key_id: String::new(),
                token: None,
                sign_body: false,
            };
        }
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let ts = json["timestamp"].as_str().unwrap();
        let basic: String = ts.chars().filter(|c| *c != '-' && *c != ':').collect();
        Self {
            secret: json["credentials"]["secret_access_key"]
                .as_str()
                .unwrap()
                .into(),
            region: json["region"].as_str().unwrap().into(),
            service: json["service"].as_str().unwrap().into(),
            now: AmzDate::parse_basic(&basic).unwrap().time(),
            normalize: json["normalize"].as_bool().unwrap(),
            omit_session_token: json["omit_session_token"].as_bool().unwrap_or(false),
            access_key_id: json["credentials"]["access_key_id"]
                .as_str()
                .unwrap()
                .into(),
            token: json["credentials"]["token"].as_str().map(str::to_owned),
            sign_body: json["sign_body"].as_bool().unwrap(),
        }
    }

    fn rules(&self) -> UriRules {
        UriRules {
            normalize: self.normalize,
            double_encode: true,
        }
    }

    fn verifier(&self, require_signed_token: bool) -> Verifier {
        Verifier::new(VerifierConfig {
            region: self.region.clone(),
            unnormalized_services: if self.normalize {
                Vec::new()
            } else {
                vec![self.service.clone()]
            },
            require_signed_session_token: require_signed_token,
            ..VerifierConfig::default()
        })
    }
}

fn read_expected(dir: &Path, file: &str) -> Option<String> {
    let path = dir.join(file);
    path.try_exists().unwrap().then(|| {
        fs::read_to_string(path)
            .unwrap()
            .replace("\r\n", "\n")
            .trim()
            .to_owned()
    })
}

fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(SUITE)
        .expect("sigv4 test suite present")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Checks one variant (`header` or `query`) of one case; returns the failures found.
fn check_variant(dir: &Path, ctx: &Context, variant: &str) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let mut failures = Vec::new();
    let Some(signed) = read_expected(dir, &format!("{variant}-signed-request.txt")) else {
        return failures;
    };
    let req = RawRequest::parse(
        &fs::read_to_string(dir.join(format!("{variant}-signed-request.txt"))).unwrap(),
    );
    assert!(!signed.is_empty());
    let signable = req.signable();
    let auth =
        SigV4Auth::from_request(&signable).unwrap_or_else(|e| panic!("{name}/{variant}: {e}"));
    let presigned = matches!(auth.location(), SignatureLocation::Query { .. });
    assert_eq!(presigned, variant == "query", "{name}: signature location");
    let amz_date = match auth.location() {
        SignatureLocation::Query { amz_date, .. } => amz_date.clone(),
        SignatureLocation::Header => req
            .headers
            .get("x-amz-date")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned(),
    };
    let payload_hash = match req.headers.get("x-amz-content-sha256") {
        Some(v) => v.to_str().unwrap().to_owned(),
        None => sha256_hex(&req.body),
    };
    let mut exclude = vec!["X-Amz-Signature"];
    if presigned && ctx.omit_session_token {
        exclude.push("X-Amz-Security-Token");
    }
    let exclude: &[&str] = if presigned { &exclude } else { &[] };
    let creq = canonical_request(
        &signable,
        ctx.rules(),
        exclude,
        auth.signed_headers(),
        &payload_hash,
    );

    if let Some(expected) = read_expected(dir, &format!("{variant}-canonical-request.txt")) {
        if name == "double-encode-path" {
            // Only the URI line of this case's canonical request is meaningful (see README).
            if creq.lines().nth(1) != expected.lines().nth(1) {
                failures.push(format!(
                    "{name}/{variant}: canonical URI {:?}",
                    creq.lines().nth(1)
                ));
            }
        } else if creq != expected {
            failures.push(format!(
                "{name}/{variant}: canonical request\n{creq}\n--- expected\n{expected}"
            ));
        }
    }
    let sts = string_to_sign(&amz_date, auth.scope_str(), &creq);
    if let Some(expected) = read_expected(dir, &format!("{variant}-string-to-sign.txt"))
        && sts != expected
    {
        failures.push(format!(
            "{name}/{variant}: string to sign\n{sts}\n--- expected\n{expected}"
        ));
    }
    let scope = auth.scope();
    let key = derive_signing_key(
        &SecretKey::new(ctx.secret.clone()),
        scope.date,
        scope.region,
        scope.service,
    );
    let signature = sign(&key, &sts);
    if let Some(expected) = read_expected(dir, &format!("{variant}-signature.txt"))
        && signature != expected
    {
        failures.push(format!(
            "{name}/{variant}: signature {signature} != {expected}"
        ));
    }
    if signature != auth.signature() {
        failures.push(format!(
            "{name}/{variant}: computed {signature}, request carries {}",
            auth.signature()
        ));
    }
    failures.extend(check_verifier(&name, variant, ctx, &req, &auth));
    failures
}

/// The verifier accepts the signed request and rejects tampered copies.
fn check_verifier(
    name: &str,
    variant: &str,
    ctx: &Context,
    req: &RawRequest,
    auth: &SigV4Auth<'_>,
) -> Vec<String> {
    let mut failures = Vec::new();
    let secret = SecretKey::new(ctx.secret.clone());
    let body = PayloadHash::Body(&req.body);
    let verify = |verifier: &Verifier, r: &RawRequest, secret: &SecretKey| {
        let signable = r.signable();
        let auth = SigV4Auth::from_request(&signable)?;
        verifier.verify_signable(
            &signable,
            PayloadHash::Body(&r.body),
            &auth,
            &ctx.service,
            secret,
            ctx.now,
        )
    };
    let strict = ctx.verifier(true);
    let token_after_signing = ctx.omit_session_token;
    if token_after_signing {
        // The token was added after signing: a strict verifier refuses an unsigned token.
        if variant == "header" {
            match verify(&strict, req, &secret) {
                Err(SigV4Error::UnsignedHeader(_)) => {}
                other => failures.push(format!("{name}/{variant}: strict verifier gave {other:?}")),
            }
            if let Err(e) = verify(&ctx.verifier(false), req, &secret) {
                failures.push(format!("{name}/{variant}: lenient verifier rejected: {e}"));
            }
        } else if verify(&strict, req, &secret).is_ok() {
            failures.push(format!(
                "{name}/{variant}: token outside the signature was accepted"
            ));
        }
        return failures;
    }
    if let Err(e) =
        strict.verify_signable(&req.signable(), body, auth, &ctx.service, &secret, ctx.now)
    {
        failures.push(format!(
            "{name}/{variant}: verifier rejected the signed request: {e}"
        ));
    }
    // Tampering: another secret, another path, another body, another signature.
    let wrong = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ");
    let mut tampered: Vec<(&str, Result<_, SigV4Error>)> =
        vec![("secret", verify(&strict, req, &wrong))];
    let mut path = req.clone();
    path.path.push('x');
    tampered.push(("path", verify(&strict, &path, &secret)));
    let mut body_changed = req.clone();
    body_changed.body.push(b'!');
    tampered.push(("body", verify(&strict, &body_changed, &secret)));
    let mut method = req.clone();
    method.method = if req.method == "GET" {
        "PUT".into()
    } else {
        "GET".into()
    };
    tampered.push(("method", verify(&strict, &method, &secret)));
    for (what, result) in tampered {
        match result {
            Err(SigV4Error::SignatureDoesNotMatch { .. } | SigV4Error::PayloadHashMismatch) => {}
            other => failures.push(format!("{name}/{variant}: tampered {what} gave {other:?}")),
        }
    }
    // Out of the skew window (header) or past the expiry (query).
    let late = ctx.now + Duration::from_secs(3600 + 301);
    let signable = req.signable();
    match strict.verify_signable(&signable, body, auth, &ctx.service, &secret, late) {
        Err(SigV4Error::SignatureExpired { .. } | SigV4Error::PresignedUrlExpired) => {}
        other => failures.push(format!("{name}/{variant}: late request gave {other:?}")),
    }
    failures
}

#[test]
fn every_vector_of_the_suite_passes() {
    let dirs = case_dirs();
    assert_eq!(dirs.len(), 40, "the suite has 40 cases");
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in &dirs {
        let ctx = Context::load(dir);
        for variant in ["header", "query"] {
            if dir
                .join(format!("{variant}-signed-request.txt"))
                .try_exists()
                .unwrap()
            {
                checked += 1;
                failures.extend(check_variant(dir, &ctx, variant));
            }
        }
    }
    assert_eq!(
        checked, 78,
        "38 cases with two variants, two legacy header-only cases"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Signs each case's unsigned `request.txt` as a client would (header and presigned variants)
/// and compares the canonical request, string to sign and signature with the expected files.
#[test]
fn signing_every_request_txt_reproduces_the_expected_files() {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

    let mut failures = Vec::new();
    let mut signed = 0;
    for dir in case_dirs() {
        if !dir.join("context.json").try_exists().unwrap() {
            continue; // legacy cases: no inputs to sign from
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let ctx = Context::load(&dir);
        let mut req = RawRequest::parse(&fs::read_to_string(dir.join("request.txt")).unwrap());
        // `request.txt` of get-space-normalized holds the URL form (`%20`) of a target that is
        // signed with a literal space (see the suite README): take the signed request's target.
        let wire =
            RawRequest::parse(&fs::read_to_string(dir.join("header-signed-request.txt")).unwrap());
        req.path = wire.path;
        let amz_date = "20150830T123600Z";
        let scope = format!("20150830/{}/{}/aws4_request", ctx.region, ctx.service);
        let key = derive_signing_key(
            &SecretKey::new(ctx.secret.clone()),
            "20150830",
            &ctx.region,
            &ctx.service,
        );
        let body_hash = sha256_hex(&req.body);
        let names = |headers: &HeaderMap| {
            let mut n: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
            n.sort();
            n.dedup();
            n.join(";")
        };

        // Header variant.
        let mut header = req.clone();
        header
            .headers
            .insert("x-amz-date", HeaderValue::from_static(amz_date));
        if let (Some(token), false) = (&ctx.token, ctx.omit_session_token) {
            header.headers.insert(
                "x-amz-security-token",
                HeaderValue::from_str(token).unwrap(),
            );
        }
        if ctx.sign_body {
            header.headers.insert(
                "x-amz-content-sha256",
                HeaderValue::from_str(&body_hash).unwrap(),
            );
        }
        let signed_headers = names(&header.headers);
        let creq = canonical_request(
            &header.signable(),
            ctx.rules(),
            &[],
            &signed_headers,
            &body_hash,
        );
        let sts = string_to_sign(amz_date, &scope, &creq);
        let sig = sign(&key, &sts);
        for (what, got, file) in [
            ("canonical request", &creq, "header-canonical-request.txt"),
            ("string to sign", &sts, "header-string-to-sign.txt"),
            ("signature", &sig, "header-signature.txt"),
        ] {
            if Some(got.as_str()) != read_expected(&dir, file).as_deref() {
                failures.push(format!("{name}/header: {what}\n{got}"));
            }
        }

        // Presigned variant: the signing parameters travel in the query.
        let signed_headers = names(&req.headers);
        let enc = |v: &str| utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
        let mut params = vec![
            "X-Amz-Algorithm=AWS4-HMAC-SHA256".to_owned(),
            format!(
                "X-Amz-Credential={}",
                enc(&format!("{}/{scope}", ctx.access_key_id))
            ),
            format!("X-Amz-Date={amz_date}"),
            "X-Amz-Expires=3600".to_owned(),
            format!("X-Amz-SignedHeaders={}", enc(&signed_headers)),
        ];
        if let (Some(token), false) = (&ctx.token, ctx.omit_session_token) {
            params.push(format!("X-Amz-Security-Token={}", enc(token)));
        }
        let mut query = req.clone();
        query.query = Some(match &req.query {
            Some(q) => format!("{q}&{}", params.join("&")),
            None => params.join("&"),
        });
        let creq = canonical_request(
            &query.signable(),
            ctx.rules(),
            &[],
            &signed_headers,
            &body_hash,
        );
        let sts = string_to_sign(amz_date, &scope, &creq);
        let sig = sign(&key, &sts);
        for (what, got, file) in [
            ("canonical request", &creq, "query-canonical-request.txt"),
            ("string to sign", &sts, "query-string-to-sign.txt"),
            ("signature", &sig, "query-signature.txt"),
        ] {
            if Some(got.as_str()) != read_expected(&dir, file).as_deref() {
                failures.push(format!("{name}/query: {what}\n{got}"));
            }
        }
        signed += 1;
    }
    assert_eq!(signed, 38);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
