package io.hotclone.kinds.fd;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.FileIdentities;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.image.FdState;
import io.hotclone.process.FileIdentity;
import io.hotclone.image.RegularFileFd;

import java.nio.file.Path;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.SEEK_SET;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_lseek;

/** A regular file: reopened by path with its flags and moved to its offset. */
public final class RegularFileKind implements FdKind {
    @Override
    public FdState dump(ProcFs proc, int fd, String target, FdInfo info) {
        if (!target.startsWith("/") || target.endsWith(" (deleted)")) {
            return null;
        }
        Path link = proc.path("fd/" + fd);
        if (!java.nio.file.Files.isRegularFile(link)) {
            return null;
        }
        FileIdentity identity = FileIdentities.of(link);
        FileIdentity named = FileIdentities.of(Path.of(target));
        if (identity.device() != named.device() || identity.inode() != named.inode()) {
            throw new HotcloneException("cannot checkpoint process " + proc.pid() + ": fd " + fd
                    + " is a file that is no longer at " + target + " (it was renamed or replaced)");
        }
        return new RegularFileFd(fd, info.flags() & ~O_CLOEXEC, (info.flags() & O_CLOEXEC) != 0,
                target, info.pos(), identity);
    }

    static void restore(RemoteSyscalls remote, RegularFileFd f) {
        FileIdentity now = FileIdentities.of(Path.of(f.path()));
        if (now.device() != f.identity().device() || now.inode() != f.identity().inode()) {
            throw new HotcloneException("cannot restore fd " + f.fd() + ": " + f.path()
                    + " is another file than at the checkpoint (device/inode changed)");
        }
        Reopen.open(remote, f.fd(), f.path(), f.flags(), f.closeOnExec());
        remote.check("lseek(fd " + f.fd() + ", " + f.offset() + ")", SYS_lseek, f.fd(), f.offset(), SEEK_SET);
    }
}
