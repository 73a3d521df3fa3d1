package io.hotclone.bindings;

import io.hotclone.bindings.linux.Errno;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.Ptrace;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SyscallExceptionTest {

    @Test
    void seizingAPidThatDoesNotExistNamesTheCallAndEsrch() {
        int pid = Integer.MAX_VALUE; // above pid_max (at most 2^22), so never a process
        try (CallState cs = new CallState()) {
            long result = Libc.ptrace(cs.segment(), Ptrace.PTRACE_SEIZE, pid, MemorySegment.NULL, MemorySegment.NULL);
            SyscallException e = assertThrows(SyscallException.class,
                    () -> cs.check(result, "ptrace(PTRACE_SEIZE, pid=" + pid + ")"));
            assertEquals(Errno.ESRCH, e.errno());
            assertEquals("ESRCH", e.errnoName());
            assertEquals("ptrace(PTRACE_SEIZE, pid=" + pid + ")", e.call());
            assertEquals("ptrace(PTRACE_SEIZE, pid=" + pid + ") failed: ESRCH (No such process)", e.getMessage());
        }
    }

    @Test
    void aKernelInternalErrnoIsNamedAndAnUnknownOneIsNumbered() {
        assertEquals("ERESTARTSYS", new SyscallException("read(fd=3)", 512).errnoName());
        assertEquals("errno 4000", new SyscallException("read(fd=3)", 4000).errnoName());
    }

    @Test
    void anAliasedErrnoIsReportedByItsFirstName() {
        assertEquals("EAGAIN", new SyscallException("read(fd=3)", Errno.EWOULDBLOCK).errnoName());
    }

    @Test
    void theHintEndsTheMessage() {
        var e = new SyscallException("open(/nope)", Errno.ENOENT, "check the path");
        assertEquals("open(/nope) failed: ENOENT (No such file or directory): check the path", e.getMessage());
    }
}
