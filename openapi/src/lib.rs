//! The OpenAPI document of ampd's rest-json control plane, generated from the API types.
//!
//! The document is built by [`ampd_api::openapi`] from the operation table and the wire types,
//! and checked in as `openapi/openapi.json`. A test fails when the file is stale; regenerate it
//! with `UPDATE_OPENAPI=1 cargo test -p ampd-openapi`.

/// Returns the control-plane OpenAPI document as pretty-printed JSON with a final newline.
pub fn document() -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(&ampd_api::openapi())?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

    #[test]
    fn checked_in_document_is_current() {
        let generated = super::document().unwrap();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(CHECKED_IN, &generated).unwrap();
            return;
        }
        let on_disk = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
        assert!(
            on_disk == generated,
            "openapi/openapi.json is stale; regenerate it with \
             `UPDATE_OPENAPI=1 cargo test -p ampd-openapi` and commit the result"
        );
    }

    #[test]
    fn document_lists_all_operations() {
        let doc: serde_json::Value = serde_json::from_str(&super::document().unwrap()).unwrap();
        let ops: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(ops, 44);
        assert_eq!(doc["info"]["version"], "2020-08-01");
    }
}
