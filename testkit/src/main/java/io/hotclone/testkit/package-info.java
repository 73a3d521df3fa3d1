/**
 * The test kit: compiles and runs the self-checking programs of {@code testprograms/}
 * detached from the test JVM, so that hotclone can checkpoint them, and reads their verdict.
 *
 * <p>Protocol of every program: it prints {@code ready pid=N}, then {@code tick N} about every
 * 100 ms; once the file given by {@code --verify-file} exists it checks its state and prints
 * {@code PASS}, or one {@code FAIL: what} line per broken piece, and exits.
 */
package io.hotclone.testkit;
