package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;

/**
 * One open file descriptor of the program. Each kind of file is a permitted record that holds
 * its saved state, its dump (a static {@code dump} listed in {@link #DUMPERS}) and its
 * {@link #restore}.
 */
public sealed interface FdState extends ImageRecord permits RegularFileFd, DeviceFd, InheritedFd, EventfdFd,
        EpollFd, DupFd, PipeFd, FifoFd, TimerFd, SignalFd, InotifyFd, UnixSocketFd,
        InetSocketFd, SharedFd {
    /** The kinds tried in order on each descriptor: the first that recognises it saves it. */
    List<Dumper> DUMPERS = List.of(InheritedFd::dump, RegularFileFd::dump, FifoFd::dump, DeviceFd::dump, EventfdFd::dump,
            EpollFd::dump, PipeFd::dump, TimerFd::dump, SignalFd::dump, InotifyFd::dump, UnixSocketFd::dump,
            InetSocketFd::dump);

    /** The descriptor number in the program. */
    int fd();

    /** The open flags (O_ACCMODE, O_APPEND, O_NONBLOCK ...) as /proc/PID/fdinfo shows them. */
    int flags();

    /** Whether FD_CLOEXEC is set. */
    boolean closeOnExec();

    /**
     * The pass of {@link #restoreAll} it is restored in: 0 most; 1 what takes what an earlier
     * one made (a pipe's write end, a socketpair's second end); 3 what refers to others (an
     * epoll's list), after the duplicates of the first two (a duplicate comes in the pass after
     * its original's).
     */
    default int order() {
        return 0;
    }

    /** Opens this descriptor at its number in the process {@code parking} restores. */
    void restore(Parking parking);

    /** Recognises the descriptors of one kind. */
    @FunctionalInterface
    interface Dumper {
        /** The saved state of {@code fd}, or null when the descriptor is not of this kind. */
        FdState dump(ProcFs proc, int fd, String target, FdInfo info);
    }

    /**
     * A descriptor of a process of the program saved before, which a later process may share.
     *
     * @param pid  the process's pid here
     * @param vpid the pid the program knows it by
     */
    record Held(int pid, int vpid, int fd, String target) {
    }

    /**
     * Every open descriptor of the process, a duplicate of an earlier one of its own, or the
     * same open file as one of {@code program} (the processes of the program saved before), saved
     * as such; refuses, naming it, one no kind takes. Adds the process's own to {@code program}.
     */
    static List<FdState> dumpAll(ProcFs proc, List<Held> program) {
        List<FdState> fds = new ArrayList<>();
        List<String> targets = new ArrayList<>();
        for (int fd : proc.fds()) {
            String target = proc.link("fd/" + fd);
            FdInfo info = proc.fdInfo(fd);
            FdState state = DupFd.dump(proc, fd, target, info, fds, targets);
            if (state == null) {
                state = SharedFd.dump(proc, fd, target, info, program);
            }
            for (Iterator<Dumper> kinds = DUMPERS.iterator(); state == null && kinds.hasNext(); ) {
                state = kinds.next().dump(proc, fd, target, info);
            }
            if (state == null) {
                throw new HotcloneException("cannot checkpoint process " + proc.pid() + ": fd " + fd
                        + " is " + Unsupported.describe(target) + ", which hotclone cannot checkpoint yet");
            }
            fds.add(state);
            targets.add(target);
        }
        int vpid = proc.innermostId(proc.pid());
        for (int i = 0; i < fds.size(); i++) {
            if (!(fds.get(i) instanceof DupFd) && !(fds.get(i) instanceof SharedFd)) {
                program.add(new Held(proc.pid(), vpid, fds.get(i).fd(), targets.get(i)));
            }
        }
        return fds;
    }

    /**
     * Refuses, naming it, what the descriptors of the whole program ({@code program}: each
     * process's, by its pid here) cannot be restored as: a pipe end whose other end no process
     * of the program holds, or held as two open files; a Unix socket connected to one no
     * process of the program holds.
     */
    static void refuseUnpaired(Map<Integer, List<FdState>> program) {
        PipeFd.refuseUnpaired(program);
        UnixSocketFd.refuseUnpaired(program);
    }

    /**
     * The pass {@code fd} is restored in: its {@link #order}, and for a duplicate the one after
     * its original's, so that it comes before what refers to it (an epoll watching a dup).
     */
    private static int pass(FdState fd, Map<Integer, FdState> byNumber) {
        return fd instanceof DupFd dup ? pass(byNumber.get(dup.of()), byNumber) + 1 : fd.order();
    }

    /**
     * Gives the process {@code remote} runs in exactly the descriptors of the image: the ones it
     * has now ({@code present}, hotclone's stdio among them) are closed, except that the stdio
     * the image hands over is first parked above every number in use. Descriptors that refer
     * to others (an epoll's list, a duplicate) come after them. What it parks for the program's
     * other processes, and its steps for the end, wait for {@code exchange}'s
     * {@link FdExchange#finish}.
     *
     * @param vpid the pid the program knows the process by
     */
    static void restoreAll(RemoteSyscalls remote, List<Integer> present, List<FdState> fds, int vpid,
                           FdExchange exchange) {
        int above = 1 + Math.max(present.stream().mapToInt(Integer::intValue).max().orElse(0),
                fds.stream().mapToInt(FdState::fd).max().orElse(0));
        Parking parking = new Parking(remote, above, vpid, exchange);
        for (FdState fd : fds) {
            if (fd instanceof InheritedFd i && parking.get(i.hostFd()).isEmpty()) {
                parking.copy(i.hostFd(), i.hostFd(), "hotclone's own fd " + i.hostFd() + " must be open to hand it over");
            }
        }
        for (int fd : present) {
            remote.check("close(" + fd + ")", SYS_close, fd);
        }
        Map<Integer, FdState> byNumber = fds.stream().collect(Collectors.toMap(FdState::fd, fd -> fd));
        fds.stream().sorted(Comparator.comparingInt(fd -> pass(fd, byNumber))).forEach(fd -> fd.restore(parking));
    }
}
