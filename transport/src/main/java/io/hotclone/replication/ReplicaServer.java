package io.hotclone.replication;

import io.hotclone.image.CheckpointKind;
import io.hotclone.journal.CheckpointMark;
import io.hotclone.journal.Journal;
import io.hotclone.journal.JournalException;
import io.hotclone.journal.JournalLock;
import io.hotclone.journal.ReplicaWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The standby's end of {@link Replication} (whose javadoc describes the protocol): accepts one
 * primary at a time and appends what it ships to the journal in {@code journalDir}, which stays
 * usable by {@code Journal.open} at every commit.
 *
 * <p>One receiver thread accepts, reads, appends, acknowledges and sends heartbeats; it owns the
 * journal's replica writer. A primary that stays silent past the heartbeat timeout is reported
 * ({@link ReplicaListener#primarySilent}) and dropped, so that another can connect.
 */
public final class ReplicaServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaServer.class);

    private final ServerSocketChannel server;
    private final Path dir;
    private final String service;
    private final ReplicaListener listener;
    private final Options options;
    private final Thread receiver;
    private volatile Journal journal;
    private volatile CheckpointMark committed;
    private volatile long fence;
    private volatile boolean closed;
    /** Confined to the receiver thread, like the appender inside it. */
    private ReplicaWriter writer;
    /** The connected primary and its epoch, or null. */
    private volatile Session session;

    private record Session(Link link, long epoch) {
    }

    private ReplicaServer(ServerSocketChannel server, Path dir, String service, ReplicaListener listener,
                          Options options, Journal journal) {
        this.server = server;
        this.dir = dir;
        this.service = service;
        this.listener = listener;
        this.options = options;
        this.journal = journal;
        this.committed = journal.lastCommit().orElse(null);
        this.receiver = Thread.ofPlatform().daemon().name("hotclone-replica-" + service).unstarted(this::receive);
    }

    /**
     * Opens (or creates) the journal in {@code journalDir} and listens on {@code bind} for the
     * primary of {@code service}.
     *
     * @throws JournalException     if the directory holds something other than a journal
     * @throws UncheckedIOException if {@code bind} cannot be bound
     */
    public static ReplicaServer listen(InetSocketAddress bind, Path journalDir, String service, ReplicaListener listener) {
        return listen(bind, journalDir, service, listener, Options.DEFAULT);
    }

    static ReplicaServer listen(InetSocketAddress bind, Path journalDir, String service, ReplicaListener listener,
                                Options options) {
        Journal journal = Journal.create(journalDir);
        ServerSocketChannel server;
        try {
            server = ServerSocketChannel.open().bind(bind);
        } catch (IOException e) {
            journal.close();
            throw new UncheckedIOException("cannot listen for the primary of service " + service + " on " + bind + " ("
                    + e + "): give a free port and an address of this machine", e);
        }
        ReplicaServer replica = new ReplicaServer(server, journalDir, service, listener, options, journal);
        replica.receiver.start();
        return replica;
    }

    /** The address bound, with the actual port. */
    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException("replica server of service " + service + " is closed", e);
        }
    }

    /** The last committed seq in the replica, 0 if none. */
    public long committedSeq() {
        CheckpointMark c = committed;
        return c == null ? 0 : c.seq();
    }

    /** The epoch of the last committed checkpoint, 0 if none. */
    public long committedEpoch() {
        CheckpointMark c = committed;
        return c == null ? 0 : c.epoch();
    }

    /** The replica journal, for reading; a reset (see {@link Replication}) replaces it. */
    public Journal journal() {
        return journal;
    }

    /** Refuses, from now on, every record and every primary of an epoch older than {@code epoch}. */
    public void fence(long epoch) {
        fence = Math.max(fence, epoch);
        journal.fence(epoch);
        Session s = session;
        if (s != null && s.epoch() < epoch) {
            LOG.warn("fenced at epoch {}: dropping the primary of service {} of epoch {}", epoch, service, s.epoch());
            s.link().close();
        }
    }

    /** Stops accepting, drops the primary, and closes the journal once the receiver has stopped. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            LOG.warn("closing the replica server of service {}: {}", service, e.toString());
        }
        Session s = session;
        if (s != null) {
            s.link().close();
        }
        try {
            if (!receiver.join(Duration.ofSeconds(10))) {
                LOG.error("the replica receiver of service {} did not stop within 10 s; its journal {} stays open",
                        service, dir);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void receive() {
        try {
            writer = journal.replicaWriter();
            while (!closed) {
                SocketChannel channel;
                try {
                    channel = server.accept();
                } catch (ClosedChannelException e) {
                    break;
                }
                try (Link link = new Link(channel, options.heartbeat())) {
                    serve(link);
                } catch (IOException | RuntimeException e) {
                    if (!closed) {
                        LOG.warn("replica of service {}: the primary's connection ended: {}", service, e.toString());
                    }
                } finally {
                    session = null;
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.error("replica of service {} stopped receiving into {}: {}", service, dir, e.toString(), e);
            }
        } finally {
            if (writer != null) {
                writer.close();
            }
            journal.close();
        }
    }

    /** Serves one primary until its connection ends. */
    private void serve(Link link) throws IOException {
        Message first = link.read(() -> {
            if (link.silence().compareTo(options.timeout()) > 0) {
                throw new IOException(link.remote() + " sent no hello within " + options.timeout());
            }
        });
        if (!(first instanceof Message.Hello hello)) {
            throw new IOException(link.remote() + " began with " + first + " instead of hello");
        }
        long floor = journal.maxEpoch();
        String refusal = !hello.service().equals(service)
                ? "this standby replicates service " + service + ", not " + hello.service()
                + ": point the primary of " + hello.service() + " at a standby of its own"
                : hello.epoch() < floor
                ? "epoch " + hello.epoch() + " is older than epoch " + floor + " that this standby already holds or is"
                + " fenced at: a newer primary has taken over"
                : null;
        if (refusal != null) {
            LOG.error("refused primary {} of service {} (epoch {}): {}", link.remote(), hello.service(), hello.epoch(), refusal);
            link.send(new Message.Refused(refusal));
            return;
        }
        session = new Session(link, hello.epoch());
        if (fence > hello.epoch()) { // fenced between the check and the session's start
            return;
        }
        link.send(new Message.Position(journal.lastCommit(), writer.tornHeader()));
        listener.primaryConnected(hello.service(), hello.epoch(), link.remote());
        LOG.info("replicating service {} from {} (epoch {}) into {}", service, link.remote(), hello.epoch(), dir);
        Link.Idle idle = () -> {
            Duration silence = link.silence();
            if (silence.compareTo(options.timeout()) > 0) {
                listener.primarySilent(silence);
                throw new IOException("no frame from the primary for " + silence.toMillis() + " ms");
            }
            link.heartbeatIfDue(options.heartbeat());
        };
        while (!closed) {
            Message m = link.read(idle);
            switch (m) {
                case Message.Data d -> {
                    Optional<CheckpointMark> done = append(link, d.record());
                    if (done.isPresent()) {
                        committed = done.get();
                        dropBeforeFull(done.get().seq());
                        link.send(new Message.Ack(done.get().seq()));
                        listener.committed(done.get().seq(), done.get().epoch());
                    }
                }
                case Message.Reset r -> reset();
                case Message.Heartbeat h -> {
                }
                default -> throw new IOException(link.remote() + " sent " + m + " while shipping");
            }
            link.heartbeatIfDue(options.heartbeat());
        }
    }

    /** Keeps the replica as bounded as its primary: the roll cycles before a full checkpoint go once it commits. */
    private void dropBeforeFull(long seq) {
        Journal j = journal;
        if (j.checkpointsAfter(seq - 1).getFirst().kind() == CheckpointKind.FULL) {
            j.dropCyclesBefore(seq);
        }
    }

    private Optional<CheckpointMark> append(Link link, MemorySegment record) throws IOException {
        try {
            return writer.append(record);
        } catch (JournalException e) {
            LOG.error("refused a record from primary {}: {}", link.remote(), e.getMessage());
            link.send(new Message.Refused(e.getMessage()));
            throw new IOException("refused a record: " + e.getMessage(), e);
        }
    }

    /** Empties the journal directory and starts an empty journal there, fenced as before. */
    private void reset() throws IOException {
        LOG.warn("the primary of service {} resets replica {}: its history differs; taking a fresh copy", service, dir);
        writer.close();
        writer = null;
        journal.close();
        committed = null;
        try (Stream<Path> all = Files.walk(dir)) {
            // The lock file stays: deleting it would let another process lock a new one beside ours.
            for (Path p : all.sorted(Comparator.reverseOrder())
                    .filter(p -> !p.equals(dir) && !JournalLock.isLockFile(p)).toList()) {
                Files.delete(p);
            }
        }
        Journal fresh = Journal.create(dir);
        fresh.fence(fence);
        journal = fresh;
        writer = fresh.replicaWriter();
    }
}
