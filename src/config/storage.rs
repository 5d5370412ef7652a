//! Where attachment bytes are kept, and how large an upload may be.

use secrecy::SecretString;

use super::{parse, ConfigError, Lookup};

#[derive(Clone, Debug)]
pub struct S3Settings {
    pub bucket: String,
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

#[derive(Clone, Debug)]
pub enum StorageSettings {
    /// A directory of this machine (`STORAGE_DIR`, default `./data/files`).
    Local { dir: std::path::PathBuf },
    /// An S3-compatible store, chosen by setting `S3_BUCKET`.
    S3(S3Settings),
}

#[derive(Clone, Debug)]
pub struct FileSettings {
    pub storage: StorageSettings,
    /// The largest upload accepted (`MAX_UPLOAD_BYTES`, default 100 MiB).
    pub max_upload_bytes: u64,
    /// How long an upload may stay unreferenced before the worker deletes it.
    pub unreferenced_ttl: std::time::Duration,
    /// How long an upload may send nothing before it is dropped (408).
    pub idle_timeout: std::time::Duration,
    /// Uploads in flight at once on this instance; beyond, 503 with `Retry-After`.
    pub max_concurrent_uploads: usize,
}

impl FileSettings {
    pub(super) fn from_lookup(get: Lookup<'_>) -> Result<Self, ConfigError> {
        Ok(FileSettings {
            storage: storage(get)?,
            max_upload_bytes: parse(get, "MAX_UPLOAD_BYTES", 100 * 1024 * 1024)?,
            unreferenced_ttl: super::duration(get, "UNREFERENCED_ATTACHMENT_TTL", "24h")?,
            idle_timeout: super::duration(get, "UPLOAD_IDLE_TIMEOUT", "30s")?,
            max_concurrent_uploads: parse(get, "MAX_CONCURRENT_UPLOADS", 16)?,
        })
    }
}

/// S3 when `S3_BUCKET` is set, and then every other S3 setting is required: no default endpoint,
/// no credentials from the environment or instance metadata.
fn storage(get: Lookup<'_>) -> Result<StorageSettings, ConfigError> {
    let Some(bucket) = get("S3_BUCKET") else {
        let dir = get("STORAGE_DIR").unwrap_or_else(|| "./data/files".into());
        return Ok(StorageSettings::Local { dir: dir.into() });
    };
    let required = |var: &'static str| {
        get(var).ok_or(ConfigError::MissingWhen {
            var,
            when: "S3_BUCKET is set (S3 storage takes no default endpoint or credentials)",
        })
    };
    let endpoint = required("S3_ENDPOINT")?;
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(ConfigError::Invalid {
            var: "S3_ENDPOINT",
            reason: "must be an http(s) URL".into(),
        });
    }
    Ok(StorageSettings::S3(S3Settings {
        bucket,
        endpoint,
        region: required("S3_REGION")?,
        access_key_id: required("S3_ACCESS_KEY_ID")?,
        secret_access_key: required("S3_SECRET_ACCESS_KEY")?.into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<FileSettings, ConfigError> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        FileSettings::from_lookup(&|k| map.get(k).cloned())
    }

    #[test]
    fn local_storage_is_the_default() {
        let s = settings(&[]).unwrap();
        assert!(matches!(s.storage, StorageSettings::Local { .. }));
        assert_eq!(s.max_upload_bytes, 100 * 1024 * 1024);
    }

    #[test]
    fn s3_needs_every_setting_and_names_the_missing_one() {
        let err = settings(&[("S3_BUCKET", "files")]).unwrap_err().to_string();
        assert!(err.contains("S3_ENDPOINT"), "{err}");
        let err = settings(&[
            ("S3_BUCKET", "files"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3_REGION", "us-east-1"),
            ("S3_ACCESS_KEY_ID", "key"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("S3_SECRET_ACCESS_KEY"), "{err}");
    }
}
