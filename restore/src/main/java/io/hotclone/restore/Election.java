package io.hotclone.restore;

import io.hotclone.replication.ReplicaServer;

import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What a {@link Switch} needs from the coordinator of its service: whether the program ended, the
 * election among the standbys, the epoch that fences the old primary, and a way to leave the
 * service to the others. The launcher implements it on the node's cluster session; restore/ does
 * not know how the coordinator works.
 *
 * <p>Every call may throw {@link io.hotclone.bindings.HotcloneException} when the coordinator
 * cannot answer.
 */
public interface Election {
    /** The exit status of the program if it ended on its primary (nothing to take over), else empty. */
    OptionalInt ended();

    /**
     * Stands for primary with what {@code replica} holds (the epoch and seq of its last committed
     * checkpoint, read again as it changes) until the election is decided. The winner holds the
     * primary lock and is published as primary when this returns.
     *
     * @return the new epoch if this node won, empty if another standby did
     */
    OptionalLong campaign(ReplicaServer replica);

    /** The service's current epoch: the reign of the primary elected last. */
    long epoch();

    /** The name of the live primary, "?" if none is published. */
    String primary();

    /** Leaves the service at once, so that another standby is elected: this node's switch failed. */
    void abandon();
}
