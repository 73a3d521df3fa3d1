package io.hotclone.replication;

/** When a checkpoint counts as replicated: once every configured standby acknowledged its commit, or once one did. */
public enum AckPolicy { ALL, ONE }
