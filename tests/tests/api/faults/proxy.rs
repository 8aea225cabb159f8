//! A TCP proxy between the server and its database, for the network faults.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::BOUND;

/// A TCP proxy in front of the real database that the test can cut (connections closed, new
/// ones refused), stall (connections stay open, nothing gets through) and restore.
pub(super) struct Proxy {
    pub(super) port: u16,
    target: SocketAddr,
    stalled: watch::Sender<bool>,
    tasks: Arc<Mutex<ProxyTasks>>,
}

#[derive(Default)]
struct ProxyTasks {
    accept: Option<JoinHandle<()>>,
    connections: Vec<JoinHandle<()>>,
}

impl Proxy {
    pub(super) async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let proxy = Proxy {
            port,
            target,
            stalled: watch::channel(false).0,
            tasks: Arc::default(),
        };
        proxy.accept(listener);
        proxy
    }

    fn accept(&self, listener: TcpListener) {
        let (tasks, target, stalled) = (
            Arc::clone(&self.tasks),
            self.target,
            self.stalled.subscribe(),
        );
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let conn = tokio::spawn(forward(client, target, stalled.clone()));
                if let Ok(mut t) = tasks.lock() {
                    t.connections.retain(|c| !c.is_finished());
                    t.connections.push(conn);
                }
            }
        });
        self.tasks.lock().expect("proxy state").accept = Some(accept);
    }

    /// Aborts the tasks (closing their sockets) and waits until they are gone.
    async fn close(&self, listener_too: bool) {
        let tasks = {
            let mut t = self.tasks.lock().expect("proxy state");
            let accept = if listener_too { t.accept.take() } else { None };
            accept
                .into_iter()
                .chain(std::mem::take(&mut t.connections))
                .collect::<Vec<_>>()
        };
        for task in tasks {
            task.abort();
            let _ = tokio::time::timeout(BOUND, task).await;
        }
    }

    /// Refuses new connections and closes every connection it carries.
    pub(super) async fn cut(&self) {
        self.close(true).await;
    }

    /// Keeps every connection open, and accepts new ones, but forwards nothing more.
    pub(super) fn stall(&self) {
        self.stalled.send_replace(true);
    }

    /// Forwards again, on the same port; connections that were stalled are closed.
    pub(super) async fn restore(&self) {
        self.close(false).await;
        self.stalled.send_replace(false);
        let listening = self.tasks.lock().expect("proxy state").accept.is_some();
        if !listening {
            let listener = TcpListener::bind(("127.0.0.1", self.port))
                .await
                .expect("rebind the proxy's port");
            self.accept(listener);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Ok(mut t) = self.tasks.lock() {
            t.accept
                .iter()
                .chain(&t.connections)
                .for_each(JoinHandle::abort);
            t.connections.clear();
        }
    }
}

/// Copies both ways until either side closes or the proxy stalls; stalled, it holds both
/// sockets open without reading them until the task is aborted.
async fn forward(mut client: TcpStream, target: SocketAddr, mut stalled: watch::Receiver<bool>) {
    let server = if *stalled.borrow() {
        None
    } else {
        let Ok(mut server) = TcpStream::connect(target).await else {
            return;
        };
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
            _ = async { stalled.wait_for(|s| *s).await.map(|_| ()) } => {}
        }
        Some(server)
    };
    let _held = (client, server);
    std::future::pending::<()>().await;
}
