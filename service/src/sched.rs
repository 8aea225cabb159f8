//! The calling thread's place in Linux's scheduler: its nice value and its time slice.
//!
//! Two kinds of thread ask for one: the threads that run bcrypt give way to everything else
//! (`auth::password`), and the threads that answer requests (the API's workers) take the
//! shortest slice, so that a worker woken while the CPU is busy runs soon, and briefly. The
//! slice is EEVDF's own slice of a thread: Linux 6.12 or later; older kernels take the rest
//! and ignore it. On other systems these functions do nothing and succeed.

/// The shortest time slice Linux takes, in nanoseconds (0.1 ms); the default depends on the
/// number of cores (1.4 ms on two).
pub const SHORTEST_SLICE_NS: u64 = 100_000;

/// Gives the calling thread the nice value `nice` and a time slice of `slice_ns` nanoseconds.
///
/// # Errors
/// The kernel's refusal, e.g. a nice value below the thread's own without the right to lower it.
pub fn set_this_thread(nice: i32, slice_ns: u64) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    set(&fair(nice, slice_ns))?;
    #[cfg(not(target_os = "linux"))]
    let _ = (nice, slice_ns);
    Ok(())
}

/// Gives the calling thread a time slice of `slice_ns` nanoseconds, its policy and nice value
/// kept (whatever the operator started the server with). A thread under a real-time or
/// deadline policy is left as it is: its time is not counted in slices.
///
/// # Errors
/// The kernel's refusal to read or to set the thread's attributes.
pub fn set_this_threads_slice(slice_ns: u64) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let mut attr = get()?;
        let sliced = [libc::SCHED_OTHER, libc::SCHED_BATCH].map(|p| p as u32);
        if sliced.contains(&attr.sched_policy) {
            attr.sched_runtime = slice_ns;
            set(&attr)?;
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = slice_ns;
    Ok(())
}

#[cfg(target_os = "linux")]
const ATTR_SIZE: u32 = std::mem::size_of::<libc::sched_attr>() as u32;

/// The attributes of the default policy (`SCHED_OTHER`) with `nice` and a slice of `slice_ns`.
#[cfg(target_os = "linux")]
fn fair(nice: i32, slice_ns: u64) -> libc::sched_attr {
    libc::sched_attr {
        size: ATTR_SIZE,
        sched_policy: libc::SCHED_OTHER as u32,
        sched_flags: 0,
        sched_nice: nice,
        sched_priority: 0,
        sched_runtime: slice_ns,
        sched_deadline: 0,
        sched_period: 0,
    }
}

#[cfg(target_os = "linux")]
fn get() -> std::io::Result<libc::sched_attr> {
    let mut attr = fair(0, 0);
    // SAFETY: `attr` is a writable `sched_attr` of the size passed, which the kernel fills;
    // pid 0 is the calling thread and flags must be 0.
    let read = unsafe { libc::syscall(libc::SYS_sched_getattr, 0, &raw mut attr, ATTR_SIZE, 0) };
    if read != 0 {
        return Err(std::io::Error::last_os_error());
    }
    attr.size = ATTR_SIZE;
    Ok(attr)
}

#[cfg(target_os = "linux")]
fn set(attr: &libc::sched_attr) -> std::io::Result<()> {
    // SAFETY: `attr` is a valid `sched_attr` that lives across the call, which only reads it;
    // pid 0 is the calling thread and flags 0 asks for nothing else.
    let set = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, std::ptr::from_ref(attr), 0) };
    if set != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
