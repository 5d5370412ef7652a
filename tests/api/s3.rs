//! The S3 storage backend, against a real S3 implementation (s3s over a directory) that this test
//! starts on a loopback port: the same uploads and downloads as on the local filesystem.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use reqwest::StatusCode;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use serde_json::json;
use sha2::{Digest, Sha256};

use createspace::config::{S3Settings, StorageSettings};

use crate::helpers::{json_ok, problem, TestApp};

const KEY: &str = "test-access-key";
const SECRET: &str = "test-secret-key-for-s3s";
const BUCKET: &str = "attachments";

/// Starts an S3 server over a fresh directory; the settings that reach it.
async fn spawn_s3() -> StorageSettings {
    let root =
        std::env::temp_dir().join(format!("createspace-s3-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    let fs = s3s_fs::FileSystem::new(&root).unwrap();
    let service = {
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(KEY, SECRET));
        builder.build()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let connection = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
    });
    StorageSettings::S3(S3Settings {
        bucket: BUCKET.into(),
        endpoint: format!("http://{address}"),
        region: "us-east-1".into(),
        access_key_id: KEY.into(),
        secret_access_key: SECRET.into(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_s3_download_equals_upload_ranges_work_and_an_oversized_upload_leaves_nothing() {
    let s3 = spawn_s3().await;
    let storage = s3.clone();
    let app = TestApp::spawn_with(move |s| {
        s.files.storage = storage;
        s.files.max_upload_bytes = 8 * 1024 * 1024;
    })
    .await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let id = app.order_in("in_progress", &client, &creative).await;

    // Over one 5 MiB part, so the multipart upload really has several parts.
    let bytes: Vec<u8> = (0..7 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    let res = app
        .upload(
            &client,
            &id,
            "video.bin",
            "application/octet-stream",
            bytes.clone(),
        )
        .await;
    let file = json_ok(res, StatusCode::CREATED).await;
    let url = format!("/v1/attachments/{}/content", file["id"].as_str().unwrap());
    let res = app.get(&url, &creative.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.bytes().await.unwrap();
    assert_eq!(
        Sha256::digest(&body),
        Sha256::digest(&bytes),
        "byte for byte"
    );
    let res = app
        .request(reqwest::Method::GET, &url, Some(&creative.token))
        .header("range", "bytes=6000000-6000099")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        res.bytes().await.unwrap().as_ref(),
        &bytes[6_000_000..6_000_100]
    );

    let store = createspace::storage::Storage::new(&s3).unwrap();
    assert_eq!(store.count().await.unwrap(), 1);
    let res = app
        .upload(
            &client,
            &id,
            "huge.bin",
            "application/octet-stream",
            vec![1u8; 9 * 1024 * 1024],
        )
        .await;
    problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(
        store.count().await.unwrap(),
        1,
        "the aborted upload left nothing in the bucket"
    );
    let msg = json!({"body": "the cut", "attachment_ids": [file["id"]]});
    json_ok(app.message(&client, &id, &msg).await, StatusCode::CREATED).await;
}
