//! The load of step 5: clients through nginx, and a probe straight to a replica.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::Value;

use super::requests::post_body;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    List,
    Get,
    Post,
}

/// One request through nginx: when it started and ended, and its status and the replica(s)
/// nginx tried (`X-Upstream`), or the client-side error.
#[derive(Debug)]
pub(super) struct Sample {
    pub(super) op: Op,
    pub(super) title: Option<String>,
    pub(super) started: Instant,
    pub(super) ended: Instant,
    pub(super) outcome: Result<(StatusCode, String), String>,
}

pub(super) async fn load_client(
    client: Client,
    base: String,
    token: String,
    worker: usize,
    stop: Arc<AtomicBool>,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut own_post: Option<i64> = None;
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let op = match i % 3 {
            0 => Op::Post,
            1 => Op::List,
            _ => Op::Get,
        };
        let title = (op == Op::Post).then(|| format!("load {worker}-{i}"));
        let request = match (op, own_post) {
            (Op::Post, _) => client
                .post(format!("{base}/posts/"))
                .json(&post_body(title.as_deref().unwrap_or_default())),
            (Op::Get, Some(id)) => client.get(format!("{base}/posts/{id}")),
            _ => client.get(format!("{base}/posts/?limit=5")),
        };
        let started = Instant::now();
        let outcome = match request.bearer_auth(&token).send().await {
            Ok(r) => {
                let status = r.status();
                let upstream = r
                    .headers()
                    .get("x-upstream")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body = r.text().await.unwrap_or_default();
                if op == Op::Post && status == StatusCode::CREATED {
                    own_post = serde_json::from_str::<Value>(&body)
                        .ok()
                        .and_then(|v| v["id"].as_i64());
                }
                Ok((status, upstream))
            }
            Err(e) => Err(e.to_string()),
        };
        samples.push(Sample {
            op,
            title,
            started,
            ended: Instant::now(),
            outcome,
        });
    }
    samples
}

/// GET /posts/?limit=1 straight to a replica every 10 ms until told to stop: each status, or
/// the error.
pub(super) async fn probe(
    client: Client,
    base: String,
    token: String,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let mut seen = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let outcome = client
            .get(format!("{base}/posts/?limit=1"))
            .bearer_auth(&token)
            .send()
            .await;
        seen.push(match outcome {
            Ok(r) => r.status().as_u16().to_string(),
            Err(e) => e.to_string(),
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen
}
