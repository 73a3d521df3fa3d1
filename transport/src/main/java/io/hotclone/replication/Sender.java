package io.hotclone.replication;

import io.hotclone.image.CheckpointKind;
import io.hotclone.journal.CheckpointMark;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.RawRecord;
import io.hotclone.journal.RecordTailer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.locks.LockSupport;

/** Ships the journal to one standby, on its own thread, reconnecting until the replication closes. */
final class Sender {
    private static final Logger LOG = LoggerFactory.getLogger(Sender.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(10);
    /** How long an idle sender waits before looking for new records, at first and at most. */
    private static final long FIRST_POLL_NANOS = 20_000;
    private static final long MAX_POLL_NANOS = 1_000_000;

    private final Replication replication;
    private final InetSocketAddress standby;
    private final Thread thread;
    private volatile long acked;
    private volatile Link link;
    /** Why the ack reader ended the connection, if it did. */
    private volatile String readerFailure;
    // Confined to the sender thread.
    private Message.Position position;
    /** The seq of the last record read from the journal. */
    private long current;
    /** Whether records are skipped, up to the next full checkpoint's header. */
    private boolean skipping;

    Sender(Replication replication, InetSocketAddress standby) {
        this.replication = replication;
        this.standby = standby;
        this.thread = Thread.ofPlatform().daemon().name("hotclone-replication-" + standby).unstarted(this::run);
    }

    void start() {
        if (thread.getState() == Thread.State.NEW) {
            thread.start();
        }
    }

    long acked() {
        return acked;
    }

    void stop() {
        Link l = link;
        if (l != null) {
            l.close();
        }
    }

    void join(Duration timeout) {
        try {
            if (!thread.join(timeout)) {
                LOG.warn("the replication sender to {} did not stop within {}", standby, timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Thrown when the standby refuses this primary. */
    private static final class Refused extends IOException {
        Refused(String message) {
            super(message);
        }
    }

    private void run() {
        Duration backoff = FIRST_BACKOFF;
        String lastWhy = null;
        while (!replication.closed()) {
            boolean connected = false;
            String why;
            try (Link l = Link.connect(standby, replication.options.heartbeat(), replication.options.timeout())) {
                link = l;
                readerFailure = null;
                if (replication.closed()) {
                    break;
                }
                handshake(l);
                connected = true;
                backoff = FIRST_BACKOFF;
                replication.listener.connected(standby);
                LOG.info("replicating service {} (epoch {}) to {}", replication.service, replication.epoch, standby);
                session(l);
                why = "replication closed";
            } catch (Refused e) {
                why = e.getMessage();
                if (!why.equals(lastWhy)) {
                    LOG.error(why);
                }
            } catch (IOException | RuntimeException e) {
                String failure = readerFailure;
                why = failure != null ? failure : e.toString();
                if (connected || !why.equals(lastWhy)) {
                    LOG.warn("replication of service {} to {} stopped: {}", replication.service, standby, why);
                }
            } finally {
                link = null;
            }
            if (connected || !why.equals(lastWhy)) {
                replication.listener.disconnected(standby, why);
            }
            lastWhy = why;
            replication.pause(backoff);
            backoff = backoff.multipliedBy(2).compareTo(Options.MAX_BACKOFF) > 0 ? Options.MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    private void handshake(Link l) throws IOException {
        l.send(new Message.Hello(replication.service, replication.epoch, l.local()));
        Message answer = l.read(() -> {
            if (l.silence().compareTo(replication.options.timeout()) > 0) {
                throw new IOException("standby " + standby + " did not answer hello within " + replication.options.timeout());
            }
        });
        switch (answer) {
            case Message.Position p -> position = p;
            case Message.Refused r -> throw new Refused("standby " + standby + " refused primary of service "
                    + replication.service + " (epoch " + replication.epoch + "): " + r.why());
            default -> throw new IOException("standby " + standby + " answered hello with " + answer);
        }
    }

    private void session(Link l) throws IOException {
        Thread reader = Thread.ofPlatform().daemon().name("hotclone-replication-acks-" + standby).start(() -> readAcks(l));
        try (RecordTailer tailer = resume(l, position)) {
            ship(l, tailer);
        } finally {
            l.close();
            try {
                reader.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Positions a tailer where the standby's journal leaves off, or resets the standby. */
    private RecordTailer resume(Link l, Message.Position p) throws IOException {
        skipping = false;
        Optional<CheckpointMark> committed = p.committed();
        if (committed.isPresent() && replication.journal.holds(committed.get())) {
            long held = committed.get().seq();
            long torn = p.tornHeader().map(CheckpointMark::seq).orElse(0L);
            OptionalLong base = replication.journal.chainBase();
            RecordTailer tailer;
            if (base.isPresent() && base.getAsLong() > held && torn <= base.getAsLong()) {
                // The newest chain starts at a full checkpoint after what the standby holds: it needs
                // nothing before it, which may be of an epoch it is fenced against (a switch came between).
                tailer = replication.journal.tailFrom(base.getAsLong());
            } else {
                tailer = replication.journal.tailAfter(held);
                if (torn > 0 && !tailer.resumes(torn)) {
                    tailer.close();
                    tailer = null;
                }
            }
            if (tailer != null) {
                acked(held, false);
                current = held;
                return tailer;
            }
        }
        if (committed.isPresent() || p.tornHeader().isPresent()) {
            LOG.info("standby {} holds {}{}, not in this journal: resetting it", standby,
                    committed.map(c -> "checkpoint " + c).orElse("no checkpoint"),
                    p.tornHeader().map(h -> " and torn " + h).orElse(""));
            l.send(new Message.Reset());
        }
        acked(0, false);
        OptionalLong base = replication.journal.chainBase();
        current = base.orElse(0);
        return base.isPresent() ? replication.journal.tailFrom(base.getAsLong()) : replication.journal.tailAfter(0);
    }

    private void ship(Link l, RecordTailer tailer) throws IOException {
        checkLag();
        long poll = FIRST_POLL_NANOS;
        while (!replication.closed()) {
            if (readerFailure != null) {
                throw new IOException(readerFailure);
            }
            RawRecord record = skipping ? skipToFull(tailer) : tailer.next();
            if (record == null) {
                l.heartbeatIfDue(replication.options.heartbeat());
                LockSupport.parkNanos(poll);
                poll = Math.min(2 * poll, MAX_POLL_NANOS);
                continue;
            }
            poll = FIRST_POLL_NANOS;
            l.send(new Message.Data(record.bytes()));
            current = record.head().seq();
            if (record.head().kind() == RawRecord.Kind.COMMIT) {
                checkLag();
            }
        }
    }

    /** The next full checkpoint's header, past every record before it, or null at the end of the journal. */
    private RawRecord skipToFull(RecordTailer tailer) {
        for (RawRecord.Head head = tailer.peek(); head != null; head = tailer.peek()) {
            if (head.kind() == RawRecord.Kind.FULL_HEADER && head.seq() > current) {
                skipping = false;
                LOG.info("standby {} catches up from full checkpoint {}", standby, head.seq());
                return tailer.next();
            }
            tailer.skip();
        }
        return null;
    }

    private void checkLag() {
        List<CheckpointSummary> behind = replication.journal.checkpointsAfter(current);
        long bytes = behind.stream().mapToLong(CheckpointSummary::pageBytes).sum();
        if (skipping || bytes <= replication.options.maxLagBytes()) {
            return;
        }
        skipping = true;
        boolean fullAhead = behind.stream().anyMatch(c -> c.kind() == CheckpointKind.FULL);
        LOG.warn("standby {} lags {} KiB of checkpoint pages behind (more than {} KiB): skipping to {} full checkpoint",
                standby, bytes >> 10, replication.options.maxLagBytes() >> 10, fullAhead ? "the next" : "a new");
        if (!fullAhead) {
            replication.listener.needsFullCheckpoint(standby);
        }
    }

    private void readAcks(Link l) {
        Duration timeout = replication.options.timeout();
        try {
            while (true) {
                Message m = l.read(() -> {
                    if (l.silence().compareTo(timeout) > 0) {
                        throw new IOException("no frame from standby " + standby + " for " + l.silence().toMillis()
                                + " ms (timeout " + timeout.toMillis() + " ms)");
                    }
                });
                switch (m) {
                    case Message.Ack a -> acked(a.seq(), true);
                    case Message.Heartbeat h -> {
                    }
                    case Message.Refused r -> throw new IOException("standby " + standby + " refused a record: " + r.why());
                    default -> throw new IOException("standby " + standby + " sent " + m + " during shipping");
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!replication.closed()) {
                readerFailure = e.getMessage();
            }
            l.close();
        }
    }

    private void acked(long seq, boolean report) {
        acked = seq;
        if (report) {
            replication.listener.acknowledged(standby, seq);
        }
        replication.progressed();
    }
}
