/*
 * berth-fsutil: the few filesystem operations an OCI layer needs that Java cannot make.
 *
 * Why native: the JDK has no mknod/mkfifo (overlayfs whiteouts are 0/0 character devices, and layers may
 * carry devices and fifos) and its xattr API only reaches the user.* namespace (overlayfs' opaque marker is
 * trusted.overlay.opaque, file capabilities are security.capability). A tiny separate process, fed one batch
 * per layer, is simpler and safer than JNI in the agent's JVM.
 *
 * Usage: berth-fsutil ROOT < records
 * Records are NUL-terminated fields, paths relative to ROOT:
 *   mknod  PATH MODE(octal, with S_IFCHR/S_IFBLK/S_IFIFO) MAJOR MINOR UID GID MTIME_SEC
 *   xattr  PATH NAME HEXVALUE        (PATH "." is ROOT itself)
 * Parent directories are resolved with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so no record can reach
 * outside ROOT even if the Java side's own checks were wrong. The last path component is never followed.
 * Exit status 0 when every record applied; otherwise 1 and one line on stderr naming the record and errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static int rootfd;

static char *read_field(void) {
    static char buf[8192];
    size_t n = 0;
    int c;
    while ((c = getchar()) != EOF) {
        if (c == 0) {
            buf[n] = 0;
            return buf;
        }
        if (n + 1 >= sizeof buf) {
            fprintf(stderr, "berth-fsutil: field longer than %zu bytes\n", sizeof buf - 1);
            exit(1);
        }
        buf[n++] = (char) c;
    }
    if (n != 0) {
        fprintf(stderr, "berth-fsutil: truncated record\n");
        exit(1);
    }
    return NULL;
}

static char *dup_field(const char *what) {
    char *f = read_field();
    if (f == NULL) {
        fprintf(stderr, "berth-fsutil: record ends before %s\n", what);
        exit(1);
    }
    return strdup(f);
}

/* Opens PATH's parent beneath ROOT (no symlinks anywhere) and returns its fd; *base gets the last name. */
static int open_parent(char *path, char **base) {
    char *slash = strrchr(path, '/');
    const char *dir = ".";
    if (slash != NULL) {
        *slash = 0;
        dir = path;
        *base = slash + 1;
    } else {
        *base = path;
    }
    if (**base == 0 || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0) {
        errno = EINVAL;
        return -1;
    }
    struct open_how how = {
        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int) syscall(SYS_openat2, rootfd, dir, &how, sizeof how);
    if (slash != NULL) *slash = '/';
    return fd;
}

static unsigned long num(const char *s, int base, const char *what) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, base);
    if (errno != 0 || *s == 0 || *end != 0) {
        fprintf(stderr, "berth-fsutil: bad %s '%s'\n", what, s);
        exit(1);
    }
    return v;
}

static int do_mknod(void) {
    char *path = dup_field("path"), *mode = dup_field("mode"), *maj = dup_field("major"),
         *min = dup_field("minor"), *uid = dup_field("uid"), *gid = dup_field("gid"),
         *mtime = dup_field("mtime");
    char *base;
    int pfd = open_parent(path, &base);
    int rc = -1;
    if (pfd >= 0) {
        mode_t m = (mode_t) num(mode, 8, "mode");
        dev_t dev = makedev(num(maj, 10, "major"), num(min, 10, "minor"));
        struct timespec ts[2] = {{(time_t) num(mtime, 10, "mtime"), 0}, {(time_t) num(mtime, 10, "mtime"), 0}};
        if (mknodat(pfd, base, m, dev) == 0
            && fchownat(pfd, base, (uid_t) num(uid, 10, "uid"), (gid_t) num(gid, 10, "gid"),
                        AT_SYMLINK_NOFOLLOW) == 0
            && fchmodat(pfd, base, m & 07777, 0) == 0
            && utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) == 0) {
            rc = 0;
        }
    }
    if (rc != 0) fprintf(stderr, "berth-fsutil: mknod %s: %s\n", path, strerror(errno));
    if (pfd >= 0) close(pfd);
    free(path); free(mode); free(maj); free(min); free(uid); free(gid); free(mtime);
    return rc;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int do_xattr(void) {
    char *path = dup_field("path"), *name = dup_field("name"), *hex = dup_field("value");
    size_t len = strlen(hex) / 2;
    unsigned char *val = malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "berth-fsutil: bad hex value for %s\n", path);
            exit(1);
        }
        val[i] = (unsigned char) (hi << 4 | lo);
    }
    char *base;
    int rc = -1;
    if (strcmp(path, ".") == 0) {
        /* the layer root itself (an opaque root): reached through the root fd's link, never by name */
        char via[64];
        snprintf(via, sizeof via, "/proc/self/fd/%d", rootfd);
        rc = setxattr(via, name, val, len, 0);
        if (rc != 0) fprintf(stderr, "berth-fsutil: setxattr . %s: %s\n", name, strerror(errno));
        free(path); free(name); free(hex); free(val);
        return rc;
    }
    int pfd = open_parent(path, &base);
    if (pfd >= 0) {
        /* lsetxattr through the parent's fd link: the parent is pinned, the last name is not followed. */
        char via[64 + 8192];
        snprintf(via, sizeof via, "/proc/self/fd/%d/%s", pfd, base);
        rc = lsetxattr(via, name, val, len, 0);
    }
    if (rc != 0) fprintf(stderr, "berth-fsutil: setxattr %s %s: %s\n", path, name, strerror(errno));
    if (pfd >= 0) close(pfd);
    free(path); free(name); free(hex); free(val);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: berth-fsutil ROOT < records\n");
        return 2;
    }
    rootfd = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        fprintf(stderr, "berth-fsutil: open %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    umask(0);
    char *op;
    while ((op = read_field()) != NULL) {
        int rc;
        if (strcmp(op, "mknod") == 0) {
            rc = do_mknod();
        } else if (strcmp(op, "xattr") == 0) {
            rc = do_xattr();
        } else {
            fprintf(stderr, "berth-fsutil: unknown operation '%s'\n", op);
            return 1;
        }
        if (rc != 0) return 1;
    }
    return 0;
}
