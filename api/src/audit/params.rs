//! `requestParameters` from what a request carries: path labels, query string, JSON or form body.

use serde_json::{Map, Value};

/// CloudTrail keeps at most 100 KB of request parameters.
const MAX_PARAMETERS_BYTES: usize = 100 * 1024;

/// Query parameters that carry a presigned signature, never request parameters.
fn is_signature_parameter(name: &str) -> bool {
    name.len() > 6 && name[..6].eq_ignore_ascii_case("x-amz-")
}

/// Returns the labels of `path` under the URI `template` (`/workspaces/{workspaceId}`), percent-
/// decoded; `None` when the path does not have the template's shape.
pub(super) fn path_labels(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut labels = Vec::new();
    let mut segments = path.trim_start_matches('/').split('/');
    for want in template.trim_start_matches('/').split('/') {
        let got = segments.next()?;
        match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) => {
                let value = percent_encoding::percent_decode_str(got)
                    .decode_utf8()
                    .ok()?;
                labels.push((name.to_owned(), value.into_owned()));
            }
            None if want == got => {}
            None => return None,
        }
    }
    segments.next().is_none().then_some(labels)
}

/// Adds the decoded query string to `out`, repeated names as arrays, signature parameters left
/// out.
pub(super) fn add_query(out: &mut Map<String, Value>, query: Option<&str>) {
    let Some(query) = query else { return };
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if is_signature_parameter(&name) {
            continue;
        }
        match out.get_mut(name.as_ref()) {
            Some(Value::Array(items)) => items.push(Value::String(value.into_owned())),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(value.into_owned())]);
            }
            None => {
                out.insert(name.into_owned(), Value::String(value.into_owned()));
            }
        }
    }
}

/// Adds the members of a JSON object body to `out`, top-level names in lower camel case when
/// `camel` (json-1.1 services name members in Pascal case, CloudTrail records them in camel
/// case; nested maps such as an encryption context keep their keys).
pub(super) fn add_json_body(out: &mut Map<String, Value>, body: &[u8], camel: bool) {
    let Ok(Value::Object(members)) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    for (name, value) in members {
        let name = if camel { lower_first(&name) } else { name };
        out.insert(name, value);
    }
}

/// Returns the parameters of a query-protocol form, without `Action` and `Version`, as the
/// nested camel-case object CloudTrail records (`Tags.member.1.Key` → `tags[0].key`).
pub(super) fn form_parameters(body: &[u8]) -> Map<String, Value> {
    let mut root = Value::Object(Map::new());
    for (name, value) in url::form_urlencoded::parse(body) {
        if matches!(name.as_ref(), "Action" | "Version") || is_signature_parameter(&name) {
            continue;
        }
        let segments: Vec<&str> = name
            .split('.')
            .filter(|s| !matches!(*s, "member" | "entry"))
            .collect();
        insert_path(&mut root, &segments, value.into_owned());
    }
    match root {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Sets `leaf` at `segments` under `node`: numbers index arrays (1-based, as forms count),
/// names index objects.
fn insert_path(node: &mut Value, segments: &[&str], leaf: String) {
    let Some((first, rest)) = segments.split_first() else {
        *node = Value::String(leaf);
        return;
    };
    if let Some(index) = first
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
    {
        if !node.is_array() {
            *node = Value::Array(Vec::new());
        }
        if let Value::Array(items) = node {
            if items.len() < index {
                items.resize(index, Value::Null);
            }
            insert_path(&mut items[index - 1], rest, leaf);
        }
        return;
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    if let Value::Object(map) = node {
        let child = map.entry(lower_first(first)).or_insert(Value::Null);
        insert_path(child, rest, leaf);
    }
}

/// `UserName` → `userName`.
pub(super) fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|f| f.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Returns the parameters as CloudTrail records them: `null` when there are none, and a
/// marker instead of parameters beyond CloudTrail's size limit.
pub(super) fn finish(params: Map<String, Value>) -> Option<Value> {
    if params.is_empty() {
        return None;
    }
    let value = Value::Object(params);
    let size = serde_json::to_string(&value).map_or(usize::MAX, |s| s.len());
    if size > MAX_PARAMETERS_BYTES {
        return Some(serde_json::json!({ "omitted": format!("{size} bytes exceed the limit") }));
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn labels_follow_the_template() {
        let labels = path_labels(
            "/tags/{resourceArn}",
            "/tags/arn%3Aaws%3Aaps%3Aus-east-1%3A123456789012%3Aworkspace%2Fws-1",
        )
        .unwrap();
        assert_eq!(
            labels,
            [(
                "resourceArn".to_owned(),
                "arn:aws:aps:us-east-1:123456789012:workspace/ws-1".to_owned()
            )]
        );
        assert!(path_labels("/workspaces/{workspaceId}", "/workspaces/a/b").is_none());
        assert!(path_labels("/workspaces/{workspaceId}/logging", "/workspaces/a/x").is_none());
    }

    #[test]
    fn forms_nest_lists_and_names() {
        let form = form_parameters(
            b"Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2F\
              &Tags.member.1.Key=team&Tags.member.1.Value=obs&Tags.member.2.Key=env",
        );
        assert_eq!(
            Value::Object(form),
            json!({"userName": "alice", "path": "/",
                   "tags": [{"key": "team", "value": "obs"}, {"key": "env"}]})
        );
    }

    #[test]
    fn queries_drop_signatures_and_keep_repeats() {
        let mut out = Map::new();
        add_query(
            &mut out,
            Some("tagKeys=a&tagKeys=b&X-Amz-Signature=ff&X-Amz-Credential=k"),
        );
        assert_eq!(Value::Object(out), json!({"tagKeys": ["a", "b"]}));
    }

    #[test]
    fn json_bodies_camel_case_top_level_names_only() {
        let mut out = Map::new();
        add_json_body(
            &mut out,
            br#"{"KeyId":"k","EncryptionContext":{"Tenant":"a"}}"#,
            true,
        );
        assert_eq!(
            Value::Object(out),
            json!({"keyId": "k", "encryptionContext": {"Tenant": "a"}})
        );
        assert_eq!(finish(Map::new()), None);
    }
}
