package io.hotclone.process.proc;

import java.util.List;

/** /proc/PID/fdinfo/FD: position, open flags (O_CLOEXEC included when set) and mount id. */
public record FdInfo(int fd, long pos, int flags, int mountId) {
    static FdInfo parse(int fd, List<String> lines) {
        long pos = 0;
        int flags = 0;
        int mountId = 0;
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String value = line.substring(colon + 1).strip();
            switch (line.substring(0, colon)) {
                case "pos" -> pos = Long.parseLong(value);
                case "flags" -> flags = Integer.parseInt(value, 8);
                case "mnt_id" -> mountId = Integer.parseInt(value);
                default -> { }
            }
        }
        return new FdInfo(fd, pos, flags, mountId);
    }
}
