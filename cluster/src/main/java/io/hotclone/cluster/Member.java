package io.hotclone.cluster;

import io.hotclone.vid.VidTable;
import io.hotclone.bindings.HotcloneException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.io.IOException;
import java.io.StringReader;

/**
 * One node of a service as it published itself in ZooKeeper.
 *
 * @param replicationAddress "host:port" of a standby's replica server, "" for none
 * @param committedSeq the last checkpoint sequence this node has committed
 * @param epoch the reign this node follows (a primary: the reign it runs)
 * @param vids the node's vid table of the program: the primary's running program, a standby's hot clone
 */
public record Member(String name, Role role, String replicationAddress, long committedSeq, long epoch, VidTable vids) {

    /** A member that runs or holds no program (yet). */
    public Member(String name, Role role, String replicationAddress, long committedSeq, long epoch) {
        this(name, role, replicationAddress, committedSeq, epoch, VidTable.EMPTY);
    }

    public Member withRole(Role newRole, long newEpoch) {
        return new Member(name, newRole, replicationAddress, committedSeq, newEpoch, vids);
    }

    public Member withCommittedSeq(long seq) {
        return new Member(name, role, replicationAddress, seq, epoch, vids);
    }

    /** The member node's content: properties text, readable with ZooKeeper's own shell. */
    byte[] encode() {
        return ("role=" + role + "\nreplication=" + replicationAddress + "\ncommittedSeq=" + committedSeq
                + "\nepoch=" + epoch + "\nvids=" + vids.render() + "\n").getBytes(StandardCharsets.UTF_8);
    }

    static Member decode(String name, byte[] data) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(new String(data, StandardCharsets.UTF_8)));
            return new Member(name, Role.valueOf(p.getProperty("role")), p.getProperty("replication", ""),
                    Long.parseLong(p.getProperty("committedSeq")), Long.parseLong(p.getProperty("epoch")),
                    VidTable.parse(p.getProperty("vids", "")));
        } catch (IOException | RuntimeException e) {
            throw new HotcloneException("member node of " + name + " is not a hotclone member (" + e
                    + "): was it written by another program or an incompatible hotclone version?", e);
        }
    }
}
