package io.hotclone.replication;

import io.hotclone.journal.Journal;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ships a program's checkpoint journal from the primary to each standby, so that each standby's
 * journal becomes a record-for-record replica ({@link ReplicaServer} is the other end). One per
 * protected program; close it before its journal.
 *
 * <h2>Protocol</h2>
 * One TCP connection per standby, opened by the primary; every message is one Chronicle Wire
 * binary document ({@link Link}, {@link Message}).
 * <ol>
 * <li>The primary sends {@code hello{service, epoch, primary}}. The standby answers
 *     {@code refused{why}} (another service, or an epoch older than its journal's or its fence)
 *     and closes, or {@code position{committed, torn}}: the seq, epoch and commit CRC of its
 *     newest committed checkpoint, and the header of the checkpoint its journal was left inside.</li>
 * <li>If the primary's journal holds that commit, it ships every record after the commit (from
 *     the header of the torn checkpoint's seq on, if the standby was left inside one: the standby
 *     leaves its torn copy behind, abandoned, whatever it holds), or from the header of the full
 *     checkpoint the newest chain starts at, if that came after the commit (a switch came between:
 *     what lies before it may be of an epoch the standby is fenced against). Otherwise the histories differ (an old
 *     primary rejoining, a standby that holds nothing): it sends {@code reset}, the standby empties
 *     its journal, and the primary ships from the header of the full checkpoint the newest
 *     committed one builds on ({@link Journal#chainBase()}).</li>
 * <li>Then {@code data{record}} frames, one per journal record in queue order, live as they are
 *     appended, and {@code ack{seq}} back after each commit the standby appended.
 *     {@code heartbeat} both ways whenever a side has sent nothing for a heartbeat interval; a side
 *     that hears nothing for {@code missed} intervals drops the connection.</li>
 * </ol>
 * A sender whose standby lags by more than {@code maxLagBytes} of page bytes of committed
 * checkpoints stops shipping them, asks for a full checkpoint ({@link
 * ReplicationListener#needsFullCheckpoint}) unless one is already committed, and resumes from
 * the next full header: the standby's journal skips the seqs between, which a full checkpoint
 * does not need. The journal is the only buffer: a slow standby never slows the program.
 *
 * <p>Threads: one sender per standby (it owns the journal tailer) and, while connected, one
 * reader of its acks and heartbeats. Reconnects back off up to {@link Options#MAX_BACKOFF}.
 */
public final class Replication implements AutoCloseable {
    final Journal journal;
    final String service;
    final long epoch;
    final ReplicationListener listener;
    final Options options;
    private final AckPolicy policy;
    private final CountDownLatch closing = new CountDownLatch(1);
    // Guarded by this.
    private final Map<InetSocketAddress, Sender> senders = new LinkedHashMap<>();
    private final List<Waiter> waiters = new ArrayList<>();
    private boolean closed;

    private record Waiter(long seq, CompletableFuture<Long> future) {
    }

    public Replication(Journal journal, String service, long epoch, List<InetSocketAddress> standbys, AckPolicy policy,
                       ReplicationListener listener) {
        this(journal, service, epoch, standbys, policy, listener, Options.DEFAULT);
    }

    Replication(Journal journal, String service, long epoch, List<InetSocketAddress> standbys, AckPolicy policy,
                ReplicationListener listener, Options options) {
        this.journal = journal;
        this.service = service;
        this.epoch = epoch;
        this.policy = policy;
        this.listener = listener;
        this.options = options;
        standbys.forEach(this::addStandby);
    }

    /** Starts shipping to {@code standby} too, unless it already is a standby of this replication. */
    public synchronized void addStandby(InetSocketAddress standby) {
        if (closed) {
            throw new IllegalStateException("replication of service " + service + " is closed: cannot add standby " + standby);
        }
        senders.computeIfAbsent(standby, s -> new Sender(this, s)).start();
    }

    /** The highest committed seq replicated per the policy, 0 if none. A standby whose journal was
     *  reset counts from what it holds again, so this can go down. */
    public synchronized long replicatedSeq() {
        if (senders.isEmpty()) {
            return 0;
        }
        Collection<Sender> all = senders.values();
        return policy == AckPolicy.ALL
                ? all.stream().mapToLong(Sender::acked).min().orElse(0)
                : all.stream().mapToLong(Sender::acked).max().orElse(0);
    }

    /** Completes with the replicated seq once {@code seq} is replicated per the policy; fails if
     *  this replication is closed first. */
    public synchronized CompletableFuture<Long> awaitReplicated(long seq) {
        if (closed) {
            return CompletableFuture.failedFuture(closedError(seq));
        }
        long replicated = replicatedSeq();
        if (replicated >= seq) {
            return CompletableFuture.completedFuture(replicated);
        }
        CompletableFuture<Long> future = new CompletableFuture<>();
        waiters.add(new Waiter(seq, future));
        return future;
    }

    /** Stops every sender and closes its connection; waits up to a few seconds for their threads. */
    @Override
    public void close() {
        List<Sender> stopping;
        List<Waiter> failed;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            stopping = List.copyOf(senders.values());
            failed = List.copyOf(waiters);
            waiters.clear();
        }
        closing.countDown();
        stopping.forEach(Sender::stop);
        stopping.forEach(s -> s.join(Duration.ofSeconds(5)));
        failed.forEach(w -> w.future().completeExceptionally(closedError(w.seq())));
    }

    synchronized boolean closed() {
        return closed;
    }

    /** Waits {@code pause}, or less if this replication closes. */
    void pause(Duration pause) {
        try {
            closing.await(pause.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A sender's standby holds committed {@code seq} now: completes the waits that this satisfies. */
    void progressed() {
        List<Waiter> done = new ArrayList<>();
        long replicated;
        synchronized (this) {
            replicated = replicatedSeq();
            for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (w.seq() <= replicated) {
                    done.add(w);
                    it.remove();
                }
            }
        }
        done.forEach(w -> w.future().complete(replicated));
    }

    private IllegalStateException closedError(long seq) {
        return new IllegalStateException("replication of service " + service + " was closed before seq " + seq
                + " was replicated");
    }
}
