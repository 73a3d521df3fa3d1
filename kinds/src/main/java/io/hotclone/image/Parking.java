package io.hotclone.image;

import io.hotclone.process.ptrace.RemoteSyscalls;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static io.hotclone.bindings.linux.Fcntl.F_DUPFD;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_fcntl;

/**
 * The descriptors {@link FdState#restoreAll} holds in the restored process above every number
 * the image uses, until the descriptor they become is restored: hotclone's own stdio that the
 * image hands over, the other end of a pipe made with the first (for this process or, through
 * the {@link FdExchange}, another of the program's). Held there, none is in the way of a
 * descriptor moved to its number.
 */
public final class Parking {
    private final RemoteSyscalls remote;
    private final int above;
    private final int vpid;
    private final FdExchange exchange;
    private final Map<Object, Integer> parked = new LinkedHashMap<>();
    private final List<Runnable> last = new ArrayList<>();

    /**
     * @param above a number no descriptor of the image nor of the process yet uses
     * @param vpid  the pid the program knows the process by
     */
    Parking(RemoteSyscalls remote, int above, int vpid, FdExchange exchange) {
        this.remote = remote;
        this.above = above;
        this.vpid = vpid;
        this.exchange = exchange;
        exchange.joined(this);
    }

    RemoteSyscalls remote() {
        return remote;
    }

    int vpid() {
        return vpid;
    }

    FdExchange exchange() {
        return exchange;
    }

    /** Keeps a copy of {@code fd} under {@code key}, above the image's numbers; {@code fd} itself stays open. */
    void copy(Object key, long fd, String what) {
        parked.put(key, (int) remote.check("fcntl(" + fd + ", F_DUPFD, " + above + "): " + what, SYS_fcntl, fd,
                F_DUPFD, above));
    }

    /** Moves {@code fd} out of the way under {@code key}, offered to every process of the program. */
    void park(Object key, long fd, String what) {
        copy(key, fd, what);
        remote.check("close(" + fd + ")", SYS_close, fd);
        exchange.offer(key, this, parked.get(key));
    }

    /**
     * The descriptor parked under {@code key} in this process or in another of the program's,
     * which the caller owns: the parked one itself, or a copy of another process's.
     */
    OptionalInt take(Object key) {
        return exchange.take(key, this).map(OptionalInt::of).orElse(OptionalInt.empty());
    }

    /** Gives up the descriptor parked here under {@code key} to the caller. */
    int unpark(Object key) {
        return parked.remove(key);
    }

    /** The descriptor kept under {@code key}, if any; it stays kept. */
    OptionalInt get(Object key) {
        Integer fd = parked.get(key);
        return fd == null ? OptionalInt.empty() : OptionalInt.of(fd);
    }

    /** Has {@code step} done once every descriptor is restored (a shutdown, which would stop a queue being refilled). */
    void atEnd(Runnable step) {
        last.add(step);
    }

    /** Does the steps left for the end, then closes what is still parked. */
    void finish() {
        last.forEach(Runnable::run);
        for (int fd : parked.values()) {
            remote.check("close(" + fd + ")", SYS_close, fd);
        }
        parked.clear();
    }
}
