package io.hotclone.launcher;

import java.util.concurrent.Callable;

/**
 * A command another module adds to {@code hotclone} when it is on the class path: a picocli
 * {@code @Command} class named in that module's
 * {@code META-INF/services/io.hotclone.launcher.ContributedCommand}. The demo comes this way, so
 * the shipped launcher does not depend on the test kit the demo runs its program with.
 */
public interface ContributedCommand extends Callable<Integer> {
}
