package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.FileIdentities;
import io.hotclone.process.FileIdentity;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.SEEK_SET;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_lseek;

/** A regular file: reopened by path with its flags, at its offset, after an identity check. */
@Tag(value = 5, version = 1, name = "regular-file-fd")
public record RegularFileFd(int fd, int flags, boolean closeOnExec, String path, long offset,
                            FileIdentity identity) implements FdState {

    /** The state of {@code fd}, or null when it is not a regular file reachable by its path. */
    static RegularFileFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        if (!target.startsWith("/") || target.endsWith(" (deleted)")) {
            return null;
        }
        Path link = proc.path("fd/" + fd);
        if (!Files.isRegularFile(link)) {
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

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        FileIdentity now = FileIdentities.of(Path.of(path));
        if (now.device() != identity.device() || now.inode() != identity.inode()) {
            throw new HotcloneException("cannot restore fd " + fd + ": " + path
                    + " is another file than at the checkpoint (device/inode changed)");
        }
        Reopen.open(remote, fd, path, flags, closeOnExec);
        remote.check("lseek(fd " + fd + ", " + offset + ")", SYS_lseek, fd, offset, SEEK_SET);
    }
}
