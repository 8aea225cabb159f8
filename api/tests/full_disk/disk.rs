//! The guards of the full disk: the mounted tmpfs, and the PostgreSQL tablespace on it.

use std::path::Path;
use std::process::Command;

use tests::sea_orm::{ConnectionTrait, Database};
use tests::{TempDir, admin_execute_detached, unique};

/// A tmpfs mounted on a scratch directory; unmounted on drop.
pub(super) struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    pub(super) fn mount(size: &str) -> Self {
        let dir = TempDir::new("posts-full-disk");
        mount(
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0777"),
                "tmpfs",
            ],
            dir.path(),
        );
        Tmpfs { dir }
    }

    pub(super) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Grows (or shrinks) the file system in place: the files on it stay open and intact.
    pub(super) fn resize(&self, size: &str) {
        mount(&["-o", &format!("remount,size={size}")], self.path());
    }

    /// File `name` on it made immutable (`chattr +i`: no one, root included, may open it for
    /// writing; Linux refuses a read-only remount while files are open for writing), or
    /// writable again.
    pub(super) fn set_immutable(&self, name: &str, immutable: bool) {
        let file = self.path().join(name);
        let flag = if immutable { "+i" } else { "-i" };
        let out = Command::new("chattr")
            .arg(flag)
            .arg(&file)
            .output()
            .expect("run chattr (this test needs e2fsprogs' chattr, as root)");
        assert!(
            out.status.success(),
            "chattr {flag} {} failed: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

fn mount(args: &[&str], dir: &Path) {
    let out = Command::new("mount")
        .args(args)
        .arg(dir)
        .output()
        .expect("run mount (this test needs util-linux's mount, as root)");
    assert!(
        out.status.success(),
        "mount {args:?} {} failed (this test needs root): {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A PostgreSQL tablespace in a directory of the tmpfs; dropped on drop (after the
/// databases using it, which are declared after it).
pub(super) struct Tablespace {
    admin_url: String,
    pub(super) name: String,
}

impl Tablespace {
    pub(super) async fn create(admin_url: &str, disk: &Tmpfs) -> Self {
        let dir = disk.path().join("pg");
        std::fs::create_dir(&dir).expect("tablespace directory");
        let chown = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("run chown");
        assert!(chown.success(), "chown postgres {}", dir.display());
        let name = unique("posts_full_disk");
        let admin = Database::connect(admin_url).await.expect("admin connects");
        admin
            .execute_unprepared(&format!(
                "CREATE TABLESPACE {name} LOCATION '{}'",
                dir.display()
            ))
            .await
            .expect("create the tablespace (PostgreSQL must run on this machine)");
        admin.close().await.ok();
        Tablespace {
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for Tablespace {
    fn drop(&mut self) {
        let sql = format!("DROP TABLESPACE IF EXISTS {}", self.name);
        if !admin_execute_detached(&self.admin_url, sql) {
            eprintln!("warning: could not drop tablespace {}", self.name);
        }
    }
}
