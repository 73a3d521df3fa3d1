package io.hotclone.kinds.fd;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.image.DeviceFd;
import io.hotclone.image.FdState;
import io.hotclone.image.InheritedFd;
import io.hotclone.image.RegularFileFd;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.hotclone.bindings.linux.Fcntl.F_DUPFD;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_fcntl;

/**
 * A kind of open file: how to recognise it, save it, and open it again in a restored process.
 * Each kind is one class with both sides; adding one means a new permitted class here, its
 * record in {@code io.hotclone.image} with its journal codec, and its case in {@link #restoreAll}.
 */
public sealed interface FdKind permits InheritedKind, RegularFileKind, DeviceKind {
    /** The kinds tried in order on each descriptor. */
    List<FdKind> ALL = List.of(new InheritedKind(), new RegularFileKind(), new DeviceKind());

    /** The saved state of {@code fd}, or null when the descriptor is not of this kind. */
    FdState dump(ProcFs proc, int fd, String target, FdInfo info);

    /** Every open descriptor of the process; refuses, naming it, one no kind takes. */
    static List<FdState> dumpAll(ProcFs proc) {
        List<FdState> fds = new ArrayList<>();
        for (int fd : proc.fds()) {
            String target = proc.link("fd/" + fd);
            FdInfo info = proc.fdInfo(fd);
            FdState state = null;
            for (FdKind kind : ALL) {
                state = kind.dump(proc, fd, target, info);
                if (state != null) {
                    break;
                }
            }
            if (state == null) {
                throw new HotcloneException("cannot checkpoint process " + proc.pid() + ": fd " + fd
                        + " is " + Unsupported.describe(target) + ", which hotclone cannot checkpoint yet");
            }
            fds.add(state);
        }
        return fds;
    }

    /**
     * Gives the process {@code remote} runs in exactly the descriptors of the image: the ones it
     * has now ({@code present}, hotclone's stdio among them) are closed, except that the stdio
     * the image hands over is first parked above every number in use.
     */
    static void restoreAll(RemoteSyscalls remote, List<Integer> present, List<FdState> fds) {
        int park = 1 + Math.max(present.stream().mapToInt(Integer::intValue).max().orElse(0),
                fds.stream().mapToInt(FdState::fd).max().orElse(0));
        Map<Integer, Integer> parked = new TreeMap<>();
        for (FdState fd : fds) {
            if (fd instanceof InheritedFd i && !parked.containsKey(i.hostFd())) {
                parked.put(i.hostFd(), (int) remote.check("fcntl(" + i.hostFd() + ", F_DUPFD, " + park + "): hotclone's"
                        + " own fd " + i.hostFd() + " must be open to hand it over", SYS_fcntl, i.hostFd(), F_DUPFD, park));
            }
        }
        for (int fd : present) {
            remote.check("close(" + fd + ")", SYS_close, fd);
        }
        for (FdState fd : fds) {
            switch (fd) {
                case RegularFileFd f -> RegularFileKind.restore(remote, f);
                case DeviceFd d -> DeviceKind.restore(remote, d);
                case InheritedFd i -> InheritedKind.restore(remote, i, parked.get(i.hostFd()));
            }
        }
        parked.values().forEach(p -> InheritedKind.release(remote, p));
    }
}
