package io.hotclone.cluster;

import io.hotclone.bindings.HotcloneException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a node becomes primary: takes the {@link PrimaryLock}, raises the {@link Epoch} and shows
 * itself as PRIMARY in its {@link Membership}; after a primary is gone, through an election among
 * the standbys that stand as candidates in {@code candidates/<epoch>/<name>}.
 */
final class PrimaryElection {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryElection.class);

    private final ServiceZk zk;
    private final Membership membership;
    private final PrimaryLock lock;
    private final Epoch epoch;
    private final ServiceWatch watch;

    PrimaryElection(ServiceZk zk, Membership membership, PrimaryLock lock, Epoch epoch, ServiceWatch watch) {
        this.zk = zk;
        this.membership = membership;
        this.lock = lock;
        this.epoch = epoch;
        this.watch = watch;
    }

    /** See {@link ClusterSession#becomePrimary}, but for the end mark. */
    long becomePrimary(Duration wait) {
        if (membership.isPrimary()) {
            throw new IllegalStateException(zk.name() + " is already primary of " + zk.service());
        }
        long losses = membership.contactLosses();
        if (!lock.acquire(wait)) {
            throw new HotcloneException("service " + zk.service() + " already has a primary: " + lock.holder()
                    + " holds its lock; this node can join as a standby, or take over once that primary's lease ("
                    + "its session) has ended");
        }
        return reign(losses);
    }

    /** See {@link ClusterSession#elect}. */
    long elect(Supplier<Standing> standing, Duration wait) {
        if (membership.isPrimary()) {
            throw new IllegalStateException(zk.name() + " is already primary of " + zk.service());
        }
        long start = System.nanoTime();
        long deadline = start + wait.toNanos();
        long gathered = start + zk.lease().toNanos();
        long round = epoch.read();
        String candidatePath = zk.path("candidates", Long.toString(round), zk.name());
        try {
            Standing stood = null;
            while (true) {
                long seen = watch.changeCount();
                Standing now = standing.get();
                if (!now.equals(stood)) {
                    stand(candidatePath, round, now);
                    stood = now;
                }
                List<Member> members = membership.members();
                Map<String, Standing> candidates = candidates(round);
                // The epoch is read last: a winner raises it before it withdraws its candidacy, so an
                // epoch still at `round` means the lists above were read before anyone won.
                if (epoch.read() != round || members.stream().anyMatch(m -> m.role() == Role.PRIMARY)) {
                    return -1;
                }
                Set<String> standbys = members.stream().filter(m -> m.role() == Role.STANDBY)
                        .map(Member::name).collect(Collectors.toSet());
                candidates.keySet().retainAll(standbys);
                boolean everyoneStood = candidates.keySet().containsAll(standbys);
                Optional<String> best = best(candidates);
                long nanos = System.nanoTime();
                if (best.equals(Optional.of(zk.name())) && (everyoneStood || nanos - gathered >= 0)) {
                    return takeOver(round, deadline);
                }
                if (nanos - deadline >= 0) {
                    throw new HotcloneException("no new primary for service " + zk.service() + " within " + wait.toMillis()
                            + " ms: candidates " + candidates + " of live standbys " + standbys
                            + "; the best one did not take over (is it stuck?)");
                }
                watch.awaitChange(seen, everyoneStood || deadline - gathered < 0 ? deadline : gathered);
            }
        } finally {
            withdraw(candidatePath);
        }
    }

    /** The winner among candidates: the highest standing, then the smallest name. */
    static Optional<String> best(Map<String, Standing> standingByName) {
        return standingByName.entrySet().stream()
                .max(Map.Entry.<String, Standing>comparingByValue().thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder())))
                .map(Map.Entry::getKey);
    }

    /**
     * Waits for the lock in turns of a quarter lease: a standby that stopped waiting for the
     * others (after one lease) may have won meanwhile, and then it holds the lock for good.
     */
    private long takeOver(long round, long deadline) {
        long losses = membership.contactLosses();
        while (true) {
            long left = deadline - System.nanoTime();
            if (lock.acquire(Duration.ofNanos(Math.max(0, Math.min(left, zk.lease().toNanos() / 4))))) {
                if (lostRound(round)) {
                    lock.giveUp();
                    return -1;
                }
                return reign(losses);
            }
            if (lostRound(round)) {
                return -1;
            }
            if (left <= 0) {
                throw new HotcloneException("won the election of service " + zk.service() + " but its lock stayed held by "
                        + lock.holder() + ": is an old primary still alive?");
            }
        }
    }

    private boolean lostRound(long round) {
        return epoch.read() != round || membership.primary().isPresent();
    }

    /** Holding the lock: raise the epoch, publish PRIMARY; on any failure give the lock up. */
    private long reign(long losses) {
        try {
            long raised = epoch.raise(lock);
            membership.reign(raised, losses);
            LOG.info("{} is primary of service {} in epoch {}", zk.name(), zk.service(), raised);
            return raised;
        } catch (RuntimeException e) {
            lock.giveUpQuietly();
            throw e;
        }
    }

    /** Stands (or updates its stand) as candidate, and shows the same committedSeq in its member node. */
    private void stand(String candidatePath, long round, Standing standing) {
        byte[] data = standing.encode();
        try {
            if (zk.client().checkExists().forPath(candidatePath) == null) {
                zk.client().create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(candidatePath, data);
            } else {
                zk.client().setData().forPath(candidatePath, data);
            }
        } catch (Exception e) {
            throw zk.failure("stand for primary of service " + zk.service(), e);
        }
        membership.showCommitted(standing.seq(), round);
    }

    private Map<String, Standing> candidates(long round) {
        String path = zk.path("candidates", Long.toString(round));
        Map<String, Standing> standings = new HashMap<>();
        try {
            for (String child : zk.client().getChildren().forPath(path)) {
                try {
                    standings.put(child, Standing.decode(zk.client().getData().forPath(ZKPaths.makePath(path, child))));
                } catch (KeeperException.NoNodeException gone) {
                    // withdrew between the listing and the read
                }
            }
            return standings;
        } catch (KeeperException.NoNodeException none) {
            return standings;
        } catch (Exception e) {
            throw zk.failure("read the candidates of service " + zk.service(), e);
        }
    }

    private void withdraw(String candidatePath) {
        try {
            zk.client().delete().quietly().forPath(candidatePath);
        } catch (Exception e) {
            LOG.debug("could not withdraw candidate {}: {}", candidatePath, e.toString());
        }
    }
}
