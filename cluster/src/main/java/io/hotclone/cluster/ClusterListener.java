package io.hotclone.cluster;

import java.util.List;

/**
 * What a {@link ClusterSession} tells its node. Called from Curator's threads: keep each call
 * cheap and hand real work to a thread of the node's own.
 */
public interface ClusterListener {
    /** For a session that only reads the service (status) or never serves a program. */
    ClusterListener NONE = new ClusterListener() {
        @Override
        public void leaseLost() {
        }

        @Override
        public void primaryGone(Member last) {
        }

        @Override
        public void membersChanged(List<Member> members) {
        }
    };

    /**
     * This node was primary and lost contact with ZooKeeper (Curator SUSPENDED or LOST): it must
     * stop its program at once, before its session can expire on the server and a standby takes
     * over. Called once per loss of contact.
     */
    void leaseLost();

    /** The primary's member node vanished (its session expired or it left): time to elect. */
    void primaryGone(Member last);

    /** The service's live members, sorted by name, after any change. */
    void membersChanged(List<Member> members);
}
