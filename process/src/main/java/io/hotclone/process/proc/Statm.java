package io.hotclone.process.proc;

/**
 * A process's memory size from /proc/PID/statm, in pages.
 *
 * @param sizePages     its whole address space
 * @param residentPages the pages it holds in memory now
 */
public record Statm(long sizePages, long residentPages) {
    static Statm parse(String text) {
        String[] fields = text.strip().split(" ");
        return new Statm(Long.parseLong(fields[0]), Long.parseLong(fields[1]));
    }
}
