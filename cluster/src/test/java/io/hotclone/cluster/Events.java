package io.hotclone.cluster;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A listener that records what a session reported, with the time, for bounded waits in tests. */
final class Events implements ClusterListener {
    record Seen<T>(T what, long atNanos) {}

    private final BlockingQueue<Seen<Boolean>> leaseLost = new LinkedBlockingQueue<>();
    private final BlockingQueue<Seen<Member>> primaryGone = new LinkedBlockingQueue<>();
    private final BlockingQueue<List<Member>> members = new LinkedBlockingQueue<>();

    @Override
    public void leaseLost() {
        leaseLost.add(new Seen<>(true, System.nanoTime()));
    }

    @Override
    public void primaryGone(Member last) {
        primaryGone.add(new Seen<>(last, System.nanoTime()));
    }

    @Override
    public void membersChanged(List<Member> now) {
        members.add(now);
    }

    long awaitLeaseLost(long timeoutMillis) throws InterruptedException {
        return await(leaseLost, timeoutMillis, "leaseLost").atNanos();
    }

    boolean leaseLostReported() {
        return !leaseLost.isEmpty();
    }

    Seen<Member> awaitPrimaryGone(long timeoutMillis) throws InterruptedException {
        return await(primaryGone, timeoutMillis, "primaryGone");
    }

    /** Waits for a membersChanged whose list holds {@code expected}. */
    void awaitMember(Member expected, long timeoutMillis) throws InterruptedException {
        awaitMembers(now -> now.contains(expected), "listing " + expected, timeoutMillis);
    }

    /** Waits for a membersChanged whose list has no member called {@code name}. */
    void awaitNoMember(String name, long timeoutMillis) throws InterruptedException {
        awaitMembers(now -> now.stream().noneMatch(m -> m.name().equals(name)), "without " + name, timeoutMillis);
    }

    private void awaitMembers(Predicate<List<Member>> wanted, String what, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            List<Member> now = members.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (now == null) {
                throw new AssertionError("no membersChanged " + what + " within " + timeoutMillis + " ms");
            }
            if (wanted.test(now)) {
                return;
            }
        }
    }

    private static <T> T await(BlockingQueue<T> queue, long timeoutMillis, String what) throws InterruptedException {
        T event = queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        if (event == null) {
            throw new AssertionError("no " + what + " within " + timeoutMillis + " ms");
        }
        return event;
    }
}
