package io.hotclone.cluster;

/** What a member of a service does: runs the program, or holds a hot clone of it. */
public enum Role {
    /** Runs the program; holds the service's primary lock for as long as its ZooKeeper session lives. */
    PRIMARY,
    /** Holds a clone of the program and can be elected when the primary is gone. */
    STANDBY
}
