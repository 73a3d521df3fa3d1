package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.Native;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.hotclone.bindings.linux.Errno.EAGAIN;
import static io.hotclone.bindings.linux.Fcntl.F_SETFL;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_DIRECTORY;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.Fcntl.O_PATH;
import static io.hotclone.bindings.linux.Fcntl.O_RDONLY;
import static io.hotclone.bindings.linux.Inotify.IN_ACCESS;
import static io.hotclone.bindings.linux.Inotify.IN_CLOEXEC;
import static io.hotclone.bindings.linux.Inotify.IN_DONT_FOLLOW;
import static io.hotclone.bindings.linux.Inotify.IN_NONBLOCK;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_fcntl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_inotify_add_watch;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_inotify_init1;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_inotify_rm_watch;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_open_by_handle_at;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_read;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * An inotify instance (inotify(7)) with its watches: made again with each watch added on the
 * path of the file it watched, with its mask, under its watch descriptor (the numbers before it
 * taken and given back). Events queued and not read yet are not kept.
 *
 * @param watches its watches, by watch descriptor
 */
@Tag(value = 25, version = 1, name = "inotify-fd")
public record InotifyFd(int fd, int flags, boolean closeOnExec, List<Watch> watches) implements FdState {
    private static final String TARGET = "anon_inode:inotify";
    /** Where in the scratch the paths and the reads that empty the queue go. */
    private static final long SPARE_AT = 0;
    private static final long PATH_AT = 256;
    private static final long DRAIN_AT = 8192;
    /** The bytes one read takes off the queue while it is emptied (events of 16 bytes and a name). */
    private static final int DRAIN_BYTES = 4096;

    /**
     * One watch.
     *
     * @param wd   its watch descriptor
     * @param path the file it watches, found from the kernel's handle of it
     * @param mask the events it asks for, with its flags (IN_ONESHOT, IN_EXCL_UNLINK)
     */
    public record Watch(int wd, String path, int mask) {
    }

    /** The state of {@code fd}, or null when it is not an inotify; refuses one it cannot restore as it is. */
    static InotifyFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        if (!target.equals(TARGET)) {
            return null;
        }
        String refusal = "cannot checkpoint process " + proc.pid() + ": fd " + fd + " is an inotify";
        int flags = info.flags() & ~O_CLOEXEC;
        if ((flags & ~O_NONBLOCK) != O_RDONLY) {
            throw new HotcloneException(refusal + " with open flags 0" + Integer.toOctalString(flags)
                    + ", which hotclone cannot restore yet (it restores O_NONBLOCK only)");
        }
        List<Watch> watches = new ArrayList<>();
        for (String line : proc.lines("fdinfo/" + fd)) {
            if (line.startsWith("inotify ")) {
                watches.add(watch(proc, line, refusal));
            }
        }
        watches.sort(Comparator.comparingInt(Watch::wd));
        return new InotifyFd(fd, flags, (info.flags() & O_CLOEXEC) != 0, List.copyOf(watches));
    }

    /** A watch from its fdinfo line: "inotify wd:3 ino:3f7e8 sdev:fe00000 mask:100 ... fhandle-type:1 f_handle:e8f7...". */
    private static Watch watch(ProcFs proc, String line, String refusal) {
        Map<String, String> fields = new HashMap<>();
        for (String field : line.substring("inotify ".length()).split(" ")) {
            int colon = field.indexOf(':');
            if (colon > 0) {
                fields.put(field.substring(0, colon), field.substring(colon + 1));
            }
        }
        if (!fields.containsKey("f_handle")) {
            throw new HotcloneException(refusal + " whose watches this kernel does not describe (no f_handle in"
                    + " fdinfo: it needs CONFIG_FHANDLE)");
        }
        int wd = Integer.parseInt(fields.get("wd"));
        int mask = (int) Long.parseLong(fields.get("mask"), 16);
        long dev = Long.parseLong(fields.get("sdev"), 16);
        String path = pathOf(proc, (int) (dev >>> 20), (int) (dev & 0xfffff),
                Integer.parseInt(fields.get("fhandle-type")), HexFormat.of().parseHex(fields.get("f_handle")),
                refusal + " watching inode " + Long.parseLong(fields.get("ino"), 16) + " (wd " + wd + ")");
        return new Watch(wd, path, mask);
    }

    /**
     * The path of the file a handle names on the filesystem of device {@code major:minor}:
     * open_by_handle_at from the root of one of its mounts, then the link /proc shows.
     */
    private static String pathOf(ProcFs proc, int major, int minor, int type, byte[] handle, String what) {
        String mount = proc.lines("mountinfo").stream().map(l -> l.split(" "))
                .filter(f -> f[2].equals(major + ":" + minor)).sorted(Comparator.comparing(f -> !f[3].equals("/")))
                .map(f -> f[4]).findFirst().orElseThrow(() -> new HotcloneException(what + ", on device " + major + ":"
                        + minor + ", which no mount of the process shows"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Native.callState();
            int root = Native.check(Libc.open(cs, Native.cString(arena, mount), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), cs,
                    what + ": open(" + mount + ")");
            try {
                MemorySegment fh = arena.allocate(8 + handle.length, 4);
                fh.set(JAVA_INT, 0, handle.length);
                fh.set(JAVA_INT, 4, type);
                MemorySegment.copy(MemorySegment.ofArray(handle), 0, fh, 8, handle.length);
                int file = (int) Native.check(Libc.syscall(cs, SYS_open_by_handle_at, root, fh.address(),
                        O_PATH | O_CLOEXEC, 0, 0, 0), cs, what + ": open_by_handle_at on " + mount);
                try {
                    String path = Files.readSymbolicLink(Path.of("/proc/self/fd/" + file)).toString();
                    if (path.endsWith(" (deleted)") || !path.startsWith("/")) {
                        throw new HotcloneException(what + ", a file that no longer has a path (" + path + ")");
                    }
                    return path;
                } catch (IOException e) {
                    throw new HotcloneException(what + ": cannot read the path of its handle: " + e, e);
                } finally {
                    Libc.close(cs, file);
                }
            } finally {
                Libc.close(cs, root);
            }
        }
    }

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        long got = remote.check("inotify_init1 for fd " + fd, SYS_inotify_init1,
                IN_NONBLOCK | (closeOnExec ? IN_CLOEXEC : 0));
        Set<String> watched = watches.stream().map(Watch::path).collect(Collectors.toSet());
        String spare = watched.contains("/") ? "/dev/null" : "/";
        long spareAddress = remote.putString(SPARE_AT, spare);
        boolean spent = false;
        int next = 1;
        for (Watch w : watches) {
            // Watch descriptors are handed out one after the other: those before this one are taken and given back.
            for (; next < w.wd(); next++) {
                long taken = remote.check("inotify_add_watch(" + spare + ") to pass watch descriptor " + next + " for fd "
                        + fd, SYS_inotify_add_watch, got, spareAddress, IN_ACCESS);
                if (taken != next) { // the spare file is one a watch made before watches (through another path)
                    throw new HotcloneException("cannot restore fd " + fd + ": to pass watch descriptor " + next + ", a"
                            + " watch of " + spare + " came back as " + taken + ", a descriptor the program holds");
                }
                remote.check("inotify_rm_watch(" + taken + ") for fd " + fd, SYS_inotify_rm_watch, got, taken);
                spent = true;
            }
            long wd = remote.check("inotify_add_watch(" + w.path() + ") for fd " + fd, SYS_inotify_add_watch, got,
                    remote.putString(PATH_AT, w.path()), w.mask() | IN_DONT_FOLLOW);
            if (wd != w.wd()) {
                throw new HotcloneException("cannot restore fd " + fd + ": the inotify watch of " + w.path() + " came back"
                        + " as watch descriptor " + wd + ", not " + w.wd());
            }
            next = w.wd() + 1;
        }
        if (spent) {
            drain(remote, got);
        }
        if ((flags & O_NONBLOCK) == 0) {
            remote.check("fcntl(F_SETFL, 0) for fd " + fd, SYS_fcntl, got, F_SETFL, 0);
        }
        Reopen.move(remote, got, fd, closeOnExec);
    }

    /** Takes off the queue the IN_IGNORED events the watch descriptors given back left there. */
    private void drain(RemoteSyscalls remote, long inotify) {
        long last;
        do {
            last = remote.call(SYS_read, inotify, remote.scratch() + DRAIN_AT, DRAIN_BYTES);
        } while (last > 0);
        if (last != -EAGAIN) {
            throw new HotcloneException("cannot restore fd " + fd + ": emptying its inotify queue ended with " + last);
        }
    }
}
