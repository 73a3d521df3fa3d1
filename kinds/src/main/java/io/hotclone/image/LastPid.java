package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static io.hotclone.bindings.linux.Fcntl.AT_FDCWD;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_RDONLY;
import static io.hotclone.bindings.linux.Fcntl.O_WRONLY;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_openat;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_read;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_write;

/**
 * The last pid a pid namespace gave (/proc/sys/kernel/ns_last_pid), read and written by a
 * process of that namespace: the file speaks of the caller's. A restore sets it where it was,
 * so that the program's next children get pids after the ones it had, not the lowest free
 * ones again (which its earlier children had, and which it may still hold).
 */
final class LastPid {
    private static final String PATH = "/proc/sys/kernel/ns_last_pid";
    private static final int DIGITS = 16;

    private LastPid() {
    }

    /** The last pid of the pid namespace of the process {@code remote} runs in. */
    static int read(RemoteSyscalls remote) {
        long fd = remote.check("openat(" + PATH + ")", SYS_openat, AT_FDCWD, remote.putString(0, PATH),
                O_RDONLY | O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            long at = remote.scratch() + 256;
            long n = remote.check("read(" + PATH + ")", SYS_read, fd, at, DIGITS);
            MemorySegment text = arena.allocate(n);
            remote.memory().read(at, text);
            String value = new String(text.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII)
                    .strip();
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new HotcloneException(PATH + " reads \"" + value + "\", not a pid", e);
            }
        } finally {
            remote.check("close(" + PATH + ")", SYS_close, fd);
        }
    }

    /** Sets the last pid of the pid namespace of the process {@code remote} runs in. */
    static void write(RemoteSyscalls remote, int pid) {
        long fd = remote.check("openat(" + PATH + ", O_WRONLY)", SYS_openat, AT_FDCWD, remote.putString(0, PATH),
                O_WRONLY | O_CLOEXEC, 0);
        try {
            byte[] text = Integer.toString(pid).getBytes(StandardCharsets.US_ASCII);
            long at = remote.put(256, MemorySegment.ofArray(text));
            remote.check("write(" + PATH + ", " + pid + ")", SYS_write, fd, at, text.length);
        } finally {
            remote.check("close(" + PATH + ")", SYS_close, fd);
        }
    }
}
