package io.hotclone.restore;

/**
 * The phases of a switch: a standby taking over the program of a primary that failed.
 *
 * <p>PRE_SWITCH chooses the scenario and the checkpoint (the election: the most up-to-date
 * standby wins, and its new epoch fences the old primary); SWITCH restores the program from that
 * checkpoint and lets it run; POST_SWITCH makes this node the primary that protects it towards the
 * remaining standbys. ABORT_SWITCH is where a failure in any of them leads: the half-built process
 * is gone and the node leaves the election to others.
 */
public enum SwitchPhase {
    PRE_SWITCH,
    SWITCH,
    POST_SWITCH,
    ABORT_SWITCH
}
