package io.hotclone.process.launch;

import io.hotclone.bindings.Native;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.pollfd;
import io.hotclone.bindings.linux.posix_spawn_file_actions_t;
import io.hotclone.bindings.linux.posix_spawnattr_t;
import io.hotclone.process.ptrace.Reaped;
import io.hotclone.process.ptrace.WaitStatus;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static io.hotclone.bindings.linux.Errno.ECHILD;
import static io.hotclone.bindings.linux.Errno.EINTR;
import static io.hotclone.bindings.linux.Fcntl.POLLIN;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_pidfd_open;
import static io.hotclone.bindings.linux.Spawn.POSIX_SPAWN_SETPGROUP;
import static io.hotclone.bindings.linux.Spawn.POSIX_SPAWN_SETSID;
import static io.hotclone.bindings.linux.Spawn.POSIX_SPAWN_SETSIGDEF;
import static io.hotclone.bindings.linux.Spawn.POSIX_SPAWN_SETSIGMASK;
import static java.lang.foreign.MemorySegment.NULL;

/**
 * Starts a process with posix_spawn: never with ProcessBuilder, whose reaper thread would
 * swallow the ptrace stops of a child hotclone traces. Every signal disposition is reset to
 * default and the mask cleared, and every descriptor above stdio is closed, so nothing of the
 * JVM leaks into the program but its stdin, stdout and stderr.
 */
public final class Spawn {
    /** Where the new process lives among sessions and process groups. */
    public enum Group {
        /** hotclone's own session and process group. */
        INHERIT,
        /** A process group of its own in hotclone's session. */
        OWN_GROUP,
        /** A session of its own (setsid). */
        OWN_SESSION
    }

    private Spawn() {
    }

    /**
     * @param file        the program; searched in PATH when it has no '/'
     * @param argv        its arguments, argv[0] included
     * @param environment its environment, "NAME=value" each
     * @return the pid
     */
    public static int spawn(String file, List<String> argv, List<String> environment, Group group) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            MemorySegment attr = posix_spawnattr_t.allocate(arena);
            MemorySegment actions = posix_spawn_file_actions_t.allocate(arena);
            Native.checkReturned(Libc.posix_spawn_file_actions_init(callState, actions), "posix_spawn_file_actions_init");
            Native.checkReturned(Libc.posix_spawn_file_actions_addclosefrom_np(callState, actions, 3),
                    "posix_spawn_file_actions_addclosefrom_np");
            MemorySegment sigset = arena.allocate(128);
            Native.checkReturned(Libc.posix_spawnattr_init(callState, attr), "posix_spawnattr_init");
            try {
                sigset.fill((byte) 0xff);
                Native.checkReturned(Libc.posix_spawnattr_setsigdefault(callState, attr, sigset), "posix_spawnattr_setsigdefault");
                sigset.fill((byte) 0);
                Native.checkReturned(Libc.posix_spawnattr_setsigmask(callState, attr, sigset), "posix_spawnattr_setsigmask");
                int flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | switch (group) {
                    case INHERIT -> 0;
                    case OWN_GROUP -> POSIX_SPAWN_SETPGROUP;
                    case OWN_SESSION -> POSIX_SPAWN_SETSID;
                };
                Native.checkReturned(Libc.posix_spawnattr_setflags(callState, attr, (short) flags), "posix_spawnattr_setflags");
                MemorySegment pid = arena.allocate(ValueLayout.JAVA_INT);
                MemorySegment path = arena.allocateFrom(file);
                int r = file.contains("/")
                        ? Libc.posix_spawn(callState, pid, path, actions, attr, strings(arena, argv), strings(arena, environment))
                        : Libc.posix_spawnp(callState, pid, path, actions, attr, strings(arena, argv), strings(arena, environment));
                Native.checkReturned(r, "posix_spawn(" + file + ")");
                return pid.get(ValueLayout.JAVA_INT, 0);
            } finally {
                Libc.posix_spawnattr_destroy(callState, attr);
                Libc.posix_spawn_file_actions_destroy(callState, actions);
            }
        }
    }

    /** A NULL-terminated char* array. */
    private static MemorySegment strings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ValueLayout.ADDRESS, values.size() + 1);
        for (int i = 0; i < values.size(); i++) {
            array.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(values.get(i)));
        }
        array.setAtIndex(ValueLayout.ADDRESS, values.size(), NULL);
        return array;
    }

    /** Sends {@code signal} to {@code pid}. */
    public static void kill(int pid, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            if (Libc.kill(callState, pid, signal) != 0) {
                throw new SyscallException("kill(" + pid + ", " + signal + ")", Libc.errno(callState));
            }
        }
    }

    /** A pidfd of process {@code pid} (pidfd_open(2)): it polls readable once the process has ended, child or not. */
    public static int pidfd(int pid) {
        MemorySegment cs = Native.callState();
        return (int) Native.check(Libc.syscall(cs, SYS_pidfd_open, pid, 0, 0, 0, 0, 0), cs, () -> "pidfd_open(" + pid + ")");
    }

    /** Waits up to {@code millis} for the process of {@code pidfd} to end; whether it did. */
    public static boolean awaitEnd(int pidfd, int millis) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            MemorySegment fd = pollfd.allocate(arena);
            pollfd.fd(fd, pidfd);
            pollfd.events(fd, (short) POLLIN);
            long deadline = System.nanoTime() + millis * 1_000_000L;
            while (true) {
                int left = (int) Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
                int n = Libc.poll(callState, fd, 1, left);
                if (n > 0) {
                    return true;
                }
                if (n == 0) {
                    return false;
                }
                if (Libc.errno(callState) != EINTR) {
                    throw new SyscallException("poll(pidfd " + pidfd + ")", Libc.errno(callState));
                }
            }
        }
    }

    /**
     * Waits for a child to end and reaps it, or takes its end from the tracer's wait that reaped
     * it first ({@link Reaped}).
     *
     * @return its exit status, or 128 + the signal that killed it, as a shell reports it
     */
    public static int waitFor(int pid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
            while (Libc.waitpid(callState, pid, status, 0) != pid) {
                int errno = Libc.errno(callState);
                if (errno == ECHILD) {
                    return shellStatus(Reaped.take(pid).orElseThrow(() -> new SyscallException("waitpid(" + pid + ")",
                            errno)));
                }
                if (errno != EINTR) {
                    throw new SyscallException("waitpid(" + pid + ")", errno);
                }
            }
            return shellStatus(new WaitStatus(pid, status.get(ValueLayout.JAVA_INT, 0)));
        }
    }

    /** A wait status as a shell reports it: the exit status, or 128 + the signal that killed it. */
    public static int shellStatus(WaitStatus s) {
        return s.exited() ? s.exitCode() : 128 + s.termSignal();
    }
}
