package io.hotclone.image;

import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_getpid;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rt_sigqueueinfo;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rt_tgsigqueueinfo;

/**
 * Signals pending at the barrier, each a 128-byte siginfo_t as PTRACE_PEEKSIGINFO reads it
 * ({@code Tracee.pendingSignals}): process-directed ones in {@link ProcessState}, thread-directed
 * ones in {@link ThreadState}. A restore queues them again with their siginfo.
 */
final class PendingSignals {
    private PendingSignals() {
    }

    /**
     * Queues the process-directed ones again, from the process {@code remote} runs in, which it
     * names by its own id in its pid namespace (getpid): rt_sigqueueinfo refuses a siginfo of the
     * kernel's (si_code 0 or more, as SIGCHLD's) sent to any process but the caller.
     */
    static void restoreShared(RemoteSyscalls remote, List<byte[]> pending) {
        if (pending.isEmpty()) {
            return;
        }
        long self = remote.check("getpid", SYS_getpid);
        for (byte[] info : pending) {
            remote.check("rt_sigqueueinfo", SYS_rt_sigqueueinfo, self, signalOf(info),
                    remote.put(0, MemorySegment.ofArray(info)));
        }
    }

    static void restoreThread(RemoteSyscalls remote, int pid, int tid, List<byte[]> pending) {
        for (byte[] info : pending) {
            remote.check("rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo, pid, tid, signalOf(info),
                    remote.put(0, MemorySegment.ofArray(info)));
        }
    }

    private static int signalOf(byte[] siginfo) {
        return ByteBuffer.wrap(siginfo).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    }
}
