package io.hotclone.replication;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Records what both ends of replication report, as lines, and waits (bounded) for one to come. */
final class Events implements ReplicationListener, ReplicaListener {
    private final List<String> lines = new ArrayList<>();

    static String name(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    private synchronized void add(String line) {
        lines.add(line);
        notifyAll();
    }

    synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    /** The first line, from {@code from} on, that {@code wanted} accepts; fails after {@code within}. */
    synchronized String await(Predicate<String> wanted, int from, Duration within, String what) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            for (int i = from; i < lines.size(); i++) {
                if (wanted.test(lines.get(i))) {
                    return lines.get(i);
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no event " + what + " within " + within + "; events: " + lines);
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    String await(String prefix, Duration within) throws InterruptedException {
        return await(l -> l.startsWith(prefix), 0, within, "starting \"" + prefix + "\"");
    }

    synchronized int size() {
        return lines.size();
    }

    @Override
    public void acknowledged(InetSocketAddress standby, long seq) {
        add("ack " + name(standby) + " " + seq);
    }

    @Override
    public void connected(InetSocketAddress standby) {
        add("connected " + name(standby));
    }

    @Override
    public void disconnected(InetSocketAddress standby, String why) {
        add("disconnected " + name(standby) + " " + why);
    }

    @Override
    public void needsFullCheckpoint(InetSocketAddress standby) {
        add("needsFull " + name(standby));
    }

    @Override
    public void primaryConnected(String service, long epoch, InetSocketAddress from) {
        add("primary " + service + " " + epoch);
    }

    @Override
    public void committed(long seq, long epoch) {
        add("committed " + seq + " " + epoch);
    }

    @Override
    public void primarySilent(Duration silentFor) {
        add("silent " + silentFor.toMillis());
    }
}
