package io.hotclone.bindings;

import io.hotclone.bindings.linux.Errno;
import io.hotclone.bindings.linux.Fcntl;
import io.hotclone.bindings.linux.Libc;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeTest {

    @Test
    void readLinkReadsTheTargetOfAProcFdLink() throws Exception {
        Path dir = Files.createTempDirectory("native-test");
        try (Arena arena = Arena.ofConfined()) {
            var cs = Native.callState();
            int fd = Native.check(Libc.open(cs, Native.cString(arena, dir.toString()), Fcntl.O_RDONLY | Fcntl.O_DIRECTORY, 0),
                    cs, "open(" + dir + ")");
            try {
                assertEquals(dir.toRealPath().toString(), Native.readLink(Path.of("/proc/self/fd/" + fd)));
            } finally {
                Libc.close(cs, fd);
                Files.delete(dir);
            }
        }
    }

    @Test
    void readLinkOfAMissingPathThrowsEnoentNamingThePath() {
        var e = assertThrows(SyscallException.class, () -> Native.readLink(Path.of("/proc/self/fd/999999")));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("readlink(/proc/self/fd/999999)", e.call());
    }

    @Test
    void checkReturnsASuccessfulResultUnchanged() {
        assertEquals(42L, Native.check(42L, Native.callState(), "x"));
        assertEquals(0, Native.check(0, Native.callState(), "x"));
    }

    @Test
    void checkReturnedThrowsTheReturnedErrorNumber() {
        var e = assertThrows(SyscallException.class, () -> Native.checkReturned(Errno.EINVAL, "posix_spawnattr_setflags"));
        assertEquals("EINVAL", e.errnoName());
        Native.checkReturned(0, "posix_spawnattr_init");
    }

    @Test
    void cStringIsNulTerminatedAndReadsBack() {
        try (Arena arena = Arena.ofConfined()) {
            var s = Native.cString(arena, "hotclone");
            assertEquals(9, s.byteSize());
            assertEquals("hotclone", Native.string(s));
        }
    }

    @Test
    void strerrorDescribesAnErrno() {
        assertTrue(Native.strerror(Errno.ESRCH).contains("No such process"));
    }
}
