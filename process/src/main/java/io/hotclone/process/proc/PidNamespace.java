package io.hotclone.process.proc;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.hotclone.bindings.linux.Errno.EINVAL;
import static io.hotclone.bindings.linux.Errno.ENOTTY;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_RDONLY;
import static io.hotclone.bindings.linux.Nsfs.NS_GET_PID_IN_PIDNS;

/**
 * The pid namespace a process lives in, held open to give the ids its threads have there: by
 * the NS_GET_PID_IN_PIDNS ioctl (Linux 6.11; ~1.2 us here), else from each thread's NSpid line
 * in /proc (~30 us, the file is long).
 *
 * <p>Thread confinement: one thread uses it, then closes it.
 */
public final class PidNamespace implements AutoCloseable {
    private final ProcFs proc;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment callState = arena.allocate(Libc.callStateLayout());
    private int fd;

    private PidNamespace(ProcFs proc, int fd) {
        this.proc = proc;
        this.fd = fd;
    }

    /** The namespace of the process {@code proc} shows. */
    public static PidNamespace of(ProcFs proc) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment cs = local.allocate(Libc.callStateLayout());
            String path = proc.path("ns/pid").toString();
            int fd = Libc.open(cs, local.allocateFrom(path), O_RDONLY | O_CLOEXEC, 0);
            if (fd < 0) {
                throw new SyscallException("open(" + path + ")", Libc.errno(cs));
            }
            return new PidNamespace(proc, fd);
        }
    }

    /** The id thread {@code tid} (as this hotclone knows it) has in the namespace. */
    public int idOf(int tid) {
        if (fd >= 0) {
            int id = Libc.ioctl(callState, fd, NS_GET_PID_IN_PIDNS, MemorySegment.ofAddress(tid));
            if (id > 0) {
                return id;
            }
            if (id < 0) {
                int errno = Libc.errno(callState);
                if (errno != ENOTTY && errno != EINVAL) {
                    throw new SyscallException("ioctl(NS_GET_PID_IN_PIDNS, " + tid + ") on " + proc.path("ns/pid"),
                            errno);
                }
                closeFd(); // a kernel without it: /proc from now on
            }
        }
        return proc.innermostId(tid);
    }

    private void closeFd() {
        if (fd >= 0) {
            Libc.close(callState, fd);
            fd = -1;
        }
    }

    @Override
    public void close() {
        closeFd();
        arena.close();
    }
}
