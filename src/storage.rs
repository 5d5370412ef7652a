//! Where attachment bytes live: one interface (`object_store`) over the local filesystem (the
//! default) or any S3-compatible store (what lets several API instances share files). The key of
//! an object is its attachment id.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::client::{HttpClient, HttpConnector};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart,
};
use sha2::{Digest, Sha256};

use crate::config::{S3Settings, StorageSettings};
use crate::domain::ids::AttachmentId;

#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
}

/// The S3 client's HTTP: no proxy from the environment, ever; the endpoint is configured.
#[derive(Debug)]
struct NoProxy;

impl HttpConnector for NoProxy {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()
            .map(HttpClient::new)
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })
    }
}

/// What went wrong while storing an upload.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the upload exceeds {0} bytes")]
    TooLarge(u64),
    #[error("the upload was interrupted: {0}")]
    Client(String),
    #[error("the upload sent nothing for too long")]
    Idle,
    #[error(transparent)]
    Storage(#[from] object_store::Error),
}

/// An object as stored: its size, digest and first bytes (for sniffing its type).
pub struct Stored {
    pub size: u64,
    pub sha256: Vec<u8>,
    pub head: Vec<u8>,
}

/// How many leading bytes are kept for type sniffing.
const SNIFF_BYTES: usize = 8192;
/// S3's smallest multipart part; memory per upload is a few of these.
const PART_BYTES: usize = 5 * 1024 * 1024;

fn key(id: AttachmentId) -> Path {
    Path::from(id.to_string())
}

impl Storage {
    pub fn new(settings: &StorageSettings) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = match settings {
            StorageSettings::Local { dir } => {
                std::fs::create_dir_all(dir)?;
                Arc::new(LocalFileSystem::new_with_prefix(dir)?)
            }
            StorageSettings::S3(s3) => Arc::new(s3_store(s3)?),
        };
        Ok(Storage { store })
    }

    /// Streams `chunks` into the object `id`, hashing as it goes, with memory bounded by a few
    /// parts whatever the size; past `max` bytes, after `idle` without a byte, or on any error,
    /// nothing is left behind.
    pub async fn put<E: std::fmt::Display>(
        &self,
        id: AttachmentId,
        mut chunks: impl Stream<Item = Result<Bytes, E>> + Unpin,
        max: u64,
        idle: std::time::Duration,
    ) -> Result<Stored, UploadError> {
        let upload = self.store.put_multipart(&key(id)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let (mut size, mut hasher, mut head) = (0u64, Sha256::new(), Vec::new());
        loop {
            let Ok(next) = tokio::time::timeout(idle, chunks.next()).await else {
                let _ = writer.abort().await;
                return Err(UploadError::Idle);
            };
            let Some(chunk) = next else {
                break;
            };
            let failure = match chunk {
                Err(e) => Some(UploadError::Client(e.to_string())),
                Ok(chunk) => {
                    size += chunk.len() as u64;
                    if size > max {
                        Some(UploadError::TooLarge(max))
                    } else {
                        hasher.update(&chunk);
                        let room = SNIFF_BYTES.saturating_sub(head.len()).min(chunk.len());
                        head.extend_from_slice(&chunk[..room]);
                        let ready = writer.wait_for_capacity(2).await.err();
                        writer.put(chunk);
                        ready.map(UploadError::from)
                    }
                }
            };
            if let Some(failure) = failure {
                let _ = writer.abort().await;
                return Err(failure);
            }
        }
        writer.finish().await?;
        Ok(Stored {
            size,
            sha256: hasher.finalize().to_vec(),
            head,
        })
    }

    /// The bytes of `id` in `range` (all of them when `None`), as a stream.
    pub async fn get(
        &self,
        id: AttachmentId,
        range: Option<std::ops::Range<u64>>,
    ) -> object_store::Result<impl Stream<Item = object_store::Result<Bytes>> + use<>> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        Ok(self.store.get_opts(&key(id), options).await?.into_stream())
    }

    pub async fn delete(&self, id: AttachmentId) -> object_store::Result<()> {
        match self.store.delete(&key(id)).await {
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    /// How many objects are stored (tests use it to prove nothing was left behind).
    pub async fn count(&self) -> object_store::Result<usize> {
        let mut listing = self.store.list(None);
        let mut n = 0;
        while let Some(entry) = listing.next().await {
            entry?;
            n += 1;
        }
        Ok(n)
    }
}

/// Static credentials and an explicit endpoint only: `AmazonS3Builder::new()` reads no environment,
/// and with both keys set it never asks instance metadata.
fn s3_store(s3: &S3Settings) -> object_store::Result<object_store::aws::AmazonS3> {
    use secrecy::ExposeSecret;
    AmazonS3Builder::new()
        .with_endpoint(&s3.endpoint)
        .with_region(&s3.region)
        .with_bucket_name(&s3.bucket)
        .with_access_key_id(&s3.access_key_id)
        .with_secret_access_key(s3.secret_access_key.expose_secret())
        .with_allow_http(s3.endpoint.starts_with("http://"))
        .with_virtual_hosted_style_request(false)
        .with_client_options(
            ClientOptions::new()
                .with_allow_http(s3.endpoint.starts_with("http://"))
                .with_timeout(std::time::Duration::from_secs(60)),
        )
        .with_http_connector(NoProxy)
        .build()
}
