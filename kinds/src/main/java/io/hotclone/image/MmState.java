package io.hotclone.image;

/** The mm fields a restore sets with prctl(PR_SET_MM_MAP), as /proc/PID/stat shows them. */
public record MmState(long startCode, long endCode, long startData, long endData,
                      long startBrk, long brk, long startStack,
                      long argStart, long argEnd, long envStart, long envEnd) {
}
