package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Set;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;

/** A stateless character device (/dev/null, /dev/zero, /dev/urandom ...): reopened by path. */
@Tag(value = 6, version = 1, name = "device-fd")
public record DeviceFd(int fd, int flags, boolean closeOnExec, String path, long rdev)
        implements FdState {
    private static final Set<String> STATELESS = Set.of("/dev/null", "/dev/zero", "/dev/full",
            "/dev/random", "/dev/urandom");

    /** The state of {@code fd}, or null when it is not a stateless device. */
    static DeviceFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        if (!STATELESS.contains(target)) {
            return null;
        }
        long rdev;
        try {
            rdev = (Long) Files.getAttribute(proc.path("fd/" + fd), "unix:rdev");
        } catch (IOException e) {
            throw new HotcloneException("cannot stat fd " + fd + " of process " + proc.pid() + " (" + target + "): " + e, e);
        }
        return new DeviceFd(fd, info.flags() & ~O_CLOEXEC, (info.flags() & O_CLOEXEC) != 0, target, rdev);
    }

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        Reopen.open(remote, fd, path, flags, closeOnExec);
    }
}
