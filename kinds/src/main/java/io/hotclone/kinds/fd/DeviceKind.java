package io.hotclone.kinds.fd;

import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.image.DeviceFd;
import io.hotclone.image.FdState;

import io.hotclone.bindings.HotcloneException;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Set;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;

/** A character device with no state worth saving: reopened by path. */
public final class DeviceKind implements FdKind {
    private static final Set<String> STATELESS = Set.of("/dev/null", "/dev/zero", "/dev/full",
            "/dev/random", "/dev/urandom");

    @Override
    public FdState dump(ProcFs proc, int fd, String target, FdInfo info) {
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

    static void restore(RemoteSyscalls remote, DeviceFd d) {
        Reopen.open(remote, d.fd(), d.path(), d.flags(), d.closeOnExec());
    }
}
