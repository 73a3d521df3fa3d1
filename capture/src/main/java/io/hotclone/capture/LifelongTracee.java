package io.hotclone.capture;

import io.hotclone.process.ptrace.Tracee;

/**
 * A program traced for its whole life, handed by its tracer to a checkpoint while it is in an
 * interrupt stop: the barrier.
 *
 * @param tracee    the program, stopped
 * @param options   the ptrace options it was seized with, which a checkpoint that changes them
 *                  for a moment puts back
 * @param serve     the tracer's work (it must not wait), run by the checkpoint once the program
 *                  runs again, between the batches of pages it reads and while it waits for the
 *                  journal
 */
record LifelongTracee(Tracee tracee, long options, Runnable serve) {
}
