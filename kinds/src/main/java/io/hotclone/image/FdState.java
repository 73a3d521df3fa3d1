package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.hotclone.bindings.linux.Fcntl.F_DUPFD;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_fcntl;

/**
 * One open file descriptor of the program. Each kind of file is a permitted record that holds
 * its saved state, its dump (a static {@code dump} listed in {@link #DUMPERS}) and its
 * {@link #restore}.
 */
public sealed interface FdState extends ImageRecord permits RegularFileFd, DeviceFd, InheritedFd, EventfdFd, EpollFd {
    /** The kinds tried in order on each descriptor: the first that recognises it saves it. */
    List<Dumper> DUMPERS = List.of(InheritedFd::dump, RegularFileFd::dump, DeviceFd::dump, EventfdFd::dump,
            EpollFd::dump);

    /** The descriptor number in the program. */
    int fd();

    /** The open flags (O_ACCMODE, O_APPEND, O_NONBLOCK ...) as /proc/PID/fdinfo shows them. */
    int flags();

    /** Whether FD_CLOEXEC is set. */
    boolean closeOnExec();

    /** Whether it refers to other descriptors of the program (an epoll's list), which are restored first. */
    default boolean refersToOthers() {
        return false;
    }

    /**
     * Opens this descriptor at its number in the process {@code remote} runs in.
     *
     * @param parked where {@link #restoreAll} parked each of hotclone's stdio the image hands over
     */
    void restore(RemoteSyscalls remote, Map<Integer, Integer> parked);

    /** Recognises the descriptors of one kind. */
    @FunctionalInterface
    interface Dumper {
        /** The saved state of {@code fd}, or null when the descriptor is not of this kind. */
        FdState dump(ProcFs proc, int fd, String target, FdInfo info);
    }

    /** Every open descriptor of the process; refuses, naming it, one no kind takes. */
    static List<FdState> dumpAll(ProcFs proc) {
        List<FdState> fds = new ArrayList<>();
        for (int fd : proc.fds()) {
            String target = proc.link("fd/" + fd);
            FdInfo info = proc.fdInfo(fd);
            FdState state = null;
            for (Dumper kind : DUMPERS) {
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
        for (boolean referring : new boolean[] {false, true}) {
            for (FdState fd : fds) {
                if (fd.refersToOthers() == referring) {
                    fd.restore(remote, parked);
                }
            }
        }
        for (int p : parked.values()) {
            remote.check("close(" + p + ")", SYS_close, p);
        }
    }
}
