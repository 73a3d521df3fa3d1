package io.hotclone.image;

import io.hotclone.process.ptrace.RemoteSyscalls;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_pidfd_getfd;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_pidfd_open;

/**
 * The descriptors the processes of a program being restored hand each other: an end of a pipe
 * one process made for another ({@link Parking#park}), an open file several share
 * ({@link SharedFd}). A process takes another's descriptor with pidfd_getfd(2), called inside it
 * and naming the other by the pid the program knows it by; the processes are restored parents
 * first, so what a process takes is there already. What is left parked in each process is
 * closed by {@link #finish}, once every process has its descriptors.
 *
 * <p>Thread confinement: the restore's thread.
 */
public final class FdExchange {
    /** A descriptor parked in process {@code vpid} (its {@code parking}) under a key. */
    private record Offer(Parking parking, int vpid, int fd) {
    }

    private final Map<Object, Offer> offers = new HashMap<>();
    private final List<Parking> parkings = new ArrayList<>();
    /** Every pipe's read end in the image, by the pipe's inode: it carries the pipe's capacity and bytes. */
    private final Map<Long, PipeFd> readEnds = new HashMap<>();
    /** Every connected Unix socket in the image, by its inode: it carries what is queued to it. */
    private final Map<Long, UnixSocketFd> sockets = new HashMap<>();
    /** The steps done once for the whole program, by their keys (a FIFO refilled). */
    private final Set<Object> claimed = new HashSet<>();

    /** For the restore of {@code processes}, the image's every process. */
    public FdExchange(List<ProcessImage> processes) {
        for (ProcessImage p : processes) {
            for (FdState f : p.fds()) {
                if (f instanceof PipeFd pipe && pipe.readEnd()) {
                    readEnds.putIfAbsent(pipe.pipe(), pipe);
                } else if (f instanceof UnixSocketFd socket && socket.peer() != 0) {
                    sockets.putIfAbsent(socket.inode(), socket);
                }
            }
        }
    }

    /** The read end of pipe {@code pipe} in the image, whichever process holds it. */
    Optional<PipeFd> readEnd(long pipe) {
        return Optional.ofNullable(readEnds.get(pipe));
    }

    /** The connected Unix socket {@code inode} in the image, whichever process holds it. */
    Optional<UnixSocketFd> socket(long inode) {
        return Optional.ofNullable(sockets.get(inode));
    }

    /** Whether {@code key} is claimed here for the first time in the program: a step done once for all processes. */
    boolean first(Object key) {
        return claimed.add(key);
    }

    void joined(Parking parking) {
        parkings.add(parking);
    }

    void offer(Object key, Parking parking, int fd) {
        offers.put(key, new Offer(parking, parking.vpid(), fd));
    }

    /**
     * The descriptor offered under {@code key}, for the process {@code into} restores: the one
     * parked there if that process offered it (it is the caller's from then on), else a copy of
     * another process's, which keeps its own until {@link #finish}. Empty if none was offered.
     */
    Optional<Integer> take(Object key, Parking into) {
        Offer o = offers.get(key);
        if (o == null) {
            return Optional.empty();
        }
        if (o.parking() == into) {
            offers.remove(key);
            return Optional.of(into.unpark(key));
        }
        return Optional.of(copy(into.remote(), o.vpid(), o.fd(), "the descriptor " + key + " of process " + o.vpid()));
    }

    /**
     * A copy, in the process {@code remote} runs in, of descriptor {@code fd} of the program's
     * process {@code vpid}: the same open file.
     */
    static int copy(RemoteSyscalls remote, int vpid, int fd, String what) {
        long pidfd = remote.check("pidfd_open(" + vpid + ") to take " + what, SYS_pidfd_open, vpid, 0);
        try {
            return (int) remote.check("pidfd_getfd(" + vpid + ", " + fd + ") to take " + what, SYS_pidfd_getfd, pidfd, fd,
                    0);
        } finally {
            remote.check("close(pidfd of " + vpid + ")", SYS_close, pidfd);
        }
    }

    /** Once every process has its descriptors: the steps each left for the end, then what each still has parked is closed. */
    public void finish() {
        parkings.forEach(Parking::finish);
        parkings.clear();
        offers.clear();
    }
}
