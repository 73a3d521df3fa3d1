package io.hotclone.process.proc;

/**
 * The fields of /proc/PID/stat that a checkpoint uses (proc_pid_stat(5)). Field numbers are the
 * man page's, counted from 1; the comm field may contain spaces and parentheses, so parsing
 * starts after its last ')'. {@code exitCode} is what wait(2) would give the parent, for a
 * process that ended (a zombie).
 */
public record ProcStat(String comm, char state, int ppid, int pgrp, int session, long startCode,
                       long endCode, long startStack, long startData, long endData, long startBrk,
                       long argStart, long argEnd, long envStart, long envEnd, int exitCode) {

    static ProcStat parse(String text) {
        int open = text.indexOf('(');
        int close = text.lastIndexOf(')');
        String[] f = text.substring(close + 2).strip().split(" ");
        // f[0] is field 3 (state): field n is f[n - 3].
        return new ProcStat(text.substring(open + 1, close), f[0].charAt(0),
                Integer.parseInt(f[4 - 3]), Integer.parseInt(f[5 - 3]), Integer.parseInt(f[6 - 3]),
                unsigned(f[26 - 3]), unsigned(f[27 - 3]), unsigned(f[28 - 3]),
                unsigned(f[45 - 3]), unsigned(f[46 - 3]), unsigned(f[47 - 3]),
                unsigned(f[48 - 3]), unsigned(f[49 - 3]), unsigned(f[50 - 3]), unsigned(f[51 - 3]),
                Integer.parseInt(f[52 - 3]));
    }

    private static long unsigned(String s) {
        return Long.parseUnsignedLong(s);
    }
}
