//! IAM OpenID Connect identity providers: `CreateOpenIDConnectProvider`,
//! `GetOpenIDConnectProvider`, `ListOpenIDConnectProviders`, `DeleteOpenIDConnectProvider`.
//!
//! A provider registers an issuer URL and the audiences (`ClientIDList`) its tokens may carry;
//! roles trust it as `"Federated": "arn:aws:iam::<acct>:oidc-provider/<host/path>"`. The keys
//! that verify its tokens come from the configured JWKS source or OIDC discovery, not from the
//! thumbprints, which are kept and returned as given.

use ampd_backends::{OidcProviderRecord, OidcProviderStore, Timestamp};
use ampd_iam::sts::oidc::provider_key;
use axum::http::request::Parts;

use super::Identities;
use super::query::{Form, IamError, Xml};
use crate::auth::{Authenticator, Caller, Check};

/// The IAM operations on OIDC providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcOp {
    /// `CreateOpenIDConnectProvider`.
    Create,
    /// `GetOpenIDConnectProvider`.
    Get,
    /// `ListOpenIDConnectProviders`.
    List,
    /// `DeleteOpenIDConnectProvider`.
    Delete,
}

impl OidcOp {
    /// Returns the operation named by `action`, if it is one of these.
    pub fn parse(action: &str) -> Option<Self> {
        Some(match action {
            "CreateOpenIDConnectProvider" => Self::Create,
            "GetOpenIDConnectProvider" => Self::Get,
            "ListOpenIDConnectProviders" => Self::List,
            "DeleteOpenIDConnectProvider" => Self::Delete,
            _ => return None,
        })
    }

    /// Returns the action name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "CreateOpenIDConnectProvider",
            Self::Get => "GetOpenIDConnectProvider",
            Self::List => "ListOpenIDConnectProviders",
            Self::Delete => "DeleteOpenIDConnectProvider",
        }
    }

    fn iam_action(self) -> &'static str {
        match self {
            Self::Create => "iam:CreateOpenIDConnectProvider",
            Self::Get => "iam:GetOpenIDConnectProvider",
            Self::List => "iam:ListOpenIDConnectProviders",
            Self::Delete => "iam:DeleteOpenIDConnectProvider",
        }
    }
}

/// Authorizes and runs one OIDC provider operation.
pub async fn serve(
    op: OidcOp,
    auth: &Authenticator,
    parts: &Parts,
    form: &Form,
    caller: &Caller,
) -> Result<(&'static str, Option<Xml>), IamError> {
    let ids = auth.identities();
    let resource = match op {
        OidcOp::List => "*".to_owned(),
        OidcOp::Create => provider_arn(ids, &valid_url(form.required("Url")?)?),
        OidcOp::Get | OidcOp::Delete => form.required("OpenIDConnectProviderArn")?.to_owned(),
    };
    let check = Check {
        action: op.iam_action(),
        resource,
        context: auth.base_context(parts, &caller.principal),
    };
    auth.authorize(caller, &[check]).await?;
    let store = ids
        .sts()
        .map(|s| s.providers())
        .ok_or_else(|| IamError::internal(anyhow::anyhow!("STS is not configured")))?;
    Ok((op.name(), run(op, form, ids, store).await?))
}

fn provider_arn(ids: &Identities, url: &str) -> String {
    format!(
        "arn:aws:iam::{}:oidc-provider/{}",
        ids.account_id(),
        provider_key(url)
    )
}

/// Checks a provider URL: `https://`, a host, no query or fragment, at most 255 characters.
fn valid_url(url: &str) -> Result<String, IamError> {
    let parsed = url::Url::parse(url).ok().filter(|u| {
        u.scheme() == "https" && u.host().is_some() && u.query().is_none() && u.fragment().is_none()
    });
    if parsed.is_none() || url.len() > 255 {
        return Err(IamError::validation(format!(
            "Invalid Url {url}: it must begin with https:// and name a host, without query or \
             fragment"
        )));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Reads a `Name.member.N` list.
fn members(form: &Form, name: &str) -> Vec<String> {
    (1..)
        .map_while(|n| form.get(&format!("{name}.member.{n}")).map(str::to_owned))
        .collect()
}

async fn run(
    op: OidcOp,
    form: &Form,
    ids: &Identities,
    store: &dyn OidcProviderStore,
) -> Result<Option<Xml>, IamError> {
    let mut x = Xml::new();
    match op {
        OidcOp::Create => {
            let url = valid_url(form.required("Url")?)?;
            let client_ids = members(form, "ClientIDList");
            if client_ids.len() > 100 || client_ids.iter().any(|c| c.is_empty() || c.len() > 255) {
                return Err(IamError::validation(
                    "ClientIDList takes at most 100 client ids of 1 to 255 characters",
                ));
            }
            let thumbprints = members(form, "ThumbprintList");
            let hex40 = |t: &String| t.len() == 40 && t.bytes().all(|b| b.is_ascii_hexdigit());
            if thumbprints.len() > 5 || !thumbprints.iter().all(hex40) {
                return Err(IamError::validation(
                    "ThumbprintList takes at most 5 thumbprints of 40 hexadecimal characters",
                ));
            }
            let record = OidcProviderRecord {
                arn: provider_arn(ids, &url),
                url,
                client_ids,
                thumbprints,
                tags: form.tags().into_iter().collect(),
                created_at: Timestamp::now(),
            };
            store.create_oidc_provider(record.clone()).await?;
            x.leaf("OpenIDConnectProviderArn", &record.arn);
            tags_xml(&mut x, &record);
        }
        OidcOp::Get => {
            let p = store
                .oidc_provider(form.required("OpenIDConnectProviderArn")?)
                .await?;
            // IAM reports the URL without its scheme.
            x.leaf("Url", provider_key(&p.url));
            x.list("ClientIDList", &p.client_ids, |m, c| {
                m.text(c);
            });
            x.list("ThumbprintList", &p.thumbprints, |m, t| {
                m.text(t);
            });
            x.leaf("CreateDate", &iso8601(p.created_at));
            tags_xml(&mut x, &p);
        }
        OidcOp::List => {
            let all = store.list_oidc_providers().await?;
            x.list("OpenIDConnectProviderList", &all, |m, p| {
                m.leaf("Arn", &p.arn);
            });
        }
        OidcOp::Delete => {
            store
                .delete_oidc_provider(form.required("OpenIDConnectProviderArn")?)
                .await?;
            return Ok(None);
        }
    }
    Ok(Some(x))
}

fn tags_xml(x: &mut Xml, p: &OidcProviderRecord) {
    if p.tags.is_empty() {
        return;
    }
    let tags: Vec<(&String, &String)> = p.tags.iter().collect();
    x.list("Tags", &tags, |m, (k, v)| {
        m.leaf("Key", k).leaf("Value", v);
    });
}

fn iso8601(t: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(t.0.div_euclid(1000))
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_operations_are_checked() {
        assert_eq!(
            valid_url("https://oidc.test/id/ABC/").unwrap(),
            "https://oidc.test/id/ABC"
        );
        for bad in [
            "http://oidc.test",
            "https://",
            "https://h.test/?q=1",
            "oidc.test",
        ] {
            assert!(valid_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            OidcOp::parse("ListOpenIDConnectProviders"),
            Some(OidcOp::List)
        );
        assert_eq!(OidcOp::parse("CreateUser"), None);
        for op in [OidcOp::Create, OidcOp::Get, OidcOp::List, OidcOp::Delete] {
            assert_eq!(OidcOp::parse(op.name()), Some(op));
            assert_eq!(op.iam_action(), format!("iam:{}", op.name()));
        }
        let form = Form::parse(b"ClientIDList.member.1=a&ClientIDList.member.2=b");
        assert_eq!(members(&form, "ClientIDList"), ["a", "b"]);
    }
}
