/**
 * Which pages a running program wrote since the last checkpoint, found from outside it: the
 * building block of incremental checkpoints. {@link io.hotclone.capture.dirty.DirtyTracker} is
 * the contract, {@link io.hotclone.capture.dirty.DirtySet} what it returns.
 */
package io.hotclone.capture.dirty;
