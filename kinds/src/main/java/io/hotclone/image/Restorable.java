package io.hotclone.image;

import java.util.List;

/**
 * What a checkpoint keeps and what it refuses, naming the resource and the process: the one
 * list an operator reads, printed by {@code hotclone check} and repeated in the README (a test
 * keeps the two equal). A new kind adds its line here.
 */
public final class Restorable {
    /** One kind of program state and what is said of it. */
    public record Entry(String what, String detail) {
    }

    /** What a checkpoint holds and a restore brings back. */
    public static final List<Entry> KEPT = List.of(
            new Entry("memory", "private and shared anonymous memory, file mappings, the heap and the stacks;"
                    + " MAP_SHARED anonymous memory a child inherited over fork is shared again, carried once"),
            new Entry("processes", "every process of the program (children, grandchildren, daemons it started),"
                    + " with the same pids, parents, sessions and process groups, all stopped at one barrier; each"
                    + " incremental on its own from its first checkpoint"),
            new Entry("zombies", "children that ended and were not waited for, made again with their pid, process"
                    + " group, session and exit status (or the signal that ended them; a core dump's flag is lost),"
                    + " their parent's SIGCHLD for them not sent twice"),
            new Entry("threads", "every thread, with the same ids: registers, FPU and vector state, signal mask and"
                    + " pending signals, rseq, robust futex list, clear-child-tid, alternate signal stack, name;"
                    + " one blocked in a system call restarts it"),
            new Entry("signals", "handlers, process-wide pending signals"),
            new Entry("System V IPC", "in the program's IPC namespace (hotclone run makes one): shared memory"
                    + " segments of up to 8 MiB with their bytes and every process's attach, semaphore sets with their"
                    + " values, message queues with their messages and byte limit; each with its id, key, owner and"
                    + " mode (a segment removed while attached stays so); carried whole at every checkpoint"),
            new Entry("process", "working directory, umask, personality, resource limits, the mm's layout"),
            new Entry("files", "regular files by path and offset (their contents are not rolled back yet),"
                    + " /dev/null and the other stateless devices"),
            new Entry("eventfds", "their counter, semaphore mode and flags"),
            new Entry("epolls", "their interest list: each watched descriptor's events, triggers (edge, one-shot)"
                    + " and data; readiness is found again"),
            new Entry("pipes", "with both ends in the program (one process or two): the bytes queued in them,"
                    + " their capacity, flags"),
            new Entry("FIFOs", "named pipes, opened again by their path for reading, writing or both (made there"
                    + " with their mode where missing), with the bytes queued in them and their capacity; their other"
                    + " end may be outside the program, which opens it again by name"),
            new Entry("timerfds", "their clock, the time left and the interval, expirations not yet read; an"
                    + " absolute timer stays absolute"),
            new Entry("signalfds", "their mask (the signals they read are the pending ones, kept with them)"),
            new Entry("inotify", "each watch added again on the path of the file it watched, with its mask and its"
                    + " watch descriptor; events queued and not read are not kept, and a watched file must be at its"
                    + " path where the program is restored"),
            new Entry("unix sockets", "socketpairs with both ends in the program (stream, datagram, seqpacket: what"
                    + " is queued each way, shutdowns), listening sockets with their name and backlog (connections"
                    + " waiting are left out), unconnected ones with their name"),
            new Entry("tcp and udp sockets", "IPv4 and IPv6: listening TCP sockets on their address and port"
                    + " (connections waiting to be accepted are left out: their clients are reset and connect again), with"
                    + " their backlog and options (SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, TCP_NODELAY, IPV6_V6ONLY);"
                    + " UDP sockets bound and connected as they were; a port taken where it is restored is named"),
            new Entry("shared open files", "descriptors that are one open file (dup, or inherited by a child) stay"
                    + " one, sharing offset and flags"),
            new Entry("stdio", "stdin, stdout and stderr shared with the hotclone that runs it (a restore hands"
                    + " over its own)"));

    /** What a checkpoint refuses by name, and leaves the program running untouched. */
    public static final List<Entry> REFUSED = List.of(
            new Entry("orphaned sessions and groups", "a process in a session or process group whose leader is"
                    + " gone (a daemon's) or is a zombie"),
            new Entry("memory or descriptors shared between processes", "MAP_SHARED anonymous memory a process"
                    + " shares other than where its parent still maps it (its parent unmapped or moved it), a vfork"
                    + " child before its exec, clone(CLONE_VM) or clone(CLONE_FILES) without CLONE_THREAD"),
            new Entry("pipes", "with an end held outside the program, in packet mode (O_DIRECT); a FIFO deleted"
                    + " or replaced at its path"),
            new Entry("sockets", "established TCP connections, queued UDP"
                    + " datagrams; netlink, raw and packet sockets; Unix sockets connected outside the program or with"
                    + " descriptors in flight (SCM_RIGHTS)"),
            new Entry("System V IPC outside the program's namespace", "for a program hotclone did not start"
                    + " (hotclone checkpoint --pid): a segment it attaches of the node's IPC namespace, any object of an"
                    + " IPC namespace it made; a segment larger than 8 MiB or attached in part; semaphore adjustments"
                    + " on exit (SEM_UNDO) are not kept"),
            new Entry("memfds, deleted files", "files without a name"),
            new Entry("io_uring, userfaultfd, other anonymous-inode files", "named by their kind"),
            new Entry("devices that hold state", "a GPU, a terminal of its own, anything but the stateless ones"),
            new Entry("threads and child processes under --dirty-tracking mprotect", "which follows one thread:"
                    + " use uffd"));

    private Restorable() {
    }
}
