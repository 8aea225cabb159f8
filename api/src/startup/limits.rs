//! What the operating system lets the server hold: the open-files limit, raised at start, a
//! deadline on data written to a client that stops reading, and the workers' time slice.

use std::time::Duration;

/// Raises the soft limit on open files (every connection is one) to the hard limit, where the
/// system allows it, and logs the limit in one line. A client holding connections open then
/// runs into the body and write deadlines long before the server runs out of descriptors.
pub(super) fn raise_open_files_limit() {
    #[cfg(target_os = "linux")]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one `rlimit` into memory we own, alive across the call.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } != 0 {
            log::warn!(
                "open files limit: unknown ({})",
                std::io::Error::last_os_error()
            );
            return;
        }
        let before = limit.rlim_cur;
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            // SAFETY: setrlimit only reads the `rlimit`, which lives across the call.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) } == 0 {
                limit = raised;
            }
        }
        log::info!(
            "open files limit: {} (was {before}; hard limit {})",
            show(limit.rlim_cur),
            show(limit.rlim_max)
        );
    }
}

#[cfg(target_os = "linux")]
fn show(limit: libc::rlim_t) -> String {
    if limit == libc::RLIM_INFINITY {
        "unlimited".to_owned()
    } else {
        limit.to_string()
    }
}

/// Sets `TCP_USER_TIMEOUT` on a new connection (Linux): data written to the client that stays
/// unacknowledged for `timeout`, because the client stopped reading (its window stays shut) or
/// vanished, ends the connection, and with it the response buffered for it. actix-http has no
/// write deadline of its own; its timers cover the request head, keep-alive and the shutdown.
pub(super) fn set_write_timeout(connection: &dyn std::any::Any, timeout: Duration) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            return;
        };
        let millis = libc::c_uint::try_from(timeout.as_millis()).unwrap_or(libc::c_uint::MAX);
        // SAFETY: the descriptor is the open socket `stream` owns, alive across the call;
        // setsockopt reads `millis` (a `c_uint`, as TCP_USER_TIMEOUT takes) and nothing else.
        let set = unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_USER_TIMEOUT,
                (&raw const millis).cast(),
                libc::socklen_t::try_from(std::mem::size_of::<libc::c_uint>()).unwrap_or(4),
            )
        };
        if set != 0 {
            log::debug!(
                "cannot set TCP_USER_TIMEOUT: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (connection, timeout);
}

/// Gives the calling thread, a worker starting, the shortest time slice Linux takes (0.1 ms
/// instead of 1.4 ms on two cores; Linux 6.12 or later), its nice value kept: woken by a
/// request or a database answer while PostgreSQL's backends and other processes hold the
/// cores, a worker runs sooner, and briefly. With the CPU to spare it changes nothing. S1 at
/// 256 connections: README, "The workers' time slice".
pub(super) fn shorten_this_workers_slice() {
    if let Err(e) = service::sched::set_this_threads_slice(service::sched::SHORTEST_SLICE_NS) {
        log::debug!("could not shorten a worker's time slice: {e}");
    }
}
