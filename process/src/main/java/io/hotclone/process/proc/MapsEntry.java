package io.hotclone.process.proc;

/**
 * One line of /proc/PID/maps.
 *
 * @param start  first address
 * @param end    address past the last byte
 * @param read   r
 * @param write  w
 * @param exec   x
 * @param shared s (else p)
 * @param offset file offset
 * @param device device of the backing file, as major:minor hex
 * @param inode  inode of the backing file, 0 for anonymous memory
 * @param name   path or pseudo-name ("[heap]", "[vdso]", "" ...)
 */
public record MapsEntry(long start, long end, boolean read, boolean write, boolean exec,
                        boolean shared, long offset, String device, long inode, String name) {

    public long length() {
        return end - start;
    }

    /** PROT_* bits of this mapping. */
    public int prot() {
        return (read ? 1 : 0) | (write ? 2 : 0) | (exec ? 4 : 0);
    }

    /** Parses one maps line; the name may contain spaces. */
    static MapsEntry parse(String line) {
        int dash = line.indexOf('-');
        int sp1 = line.indexOf(' ', dash);
        int sp2 = line.indexOf(' ', sp1 + 1);
        int sp3 = line.indexOf(' ', sp2 + 1);
        int sp4 = line.indexOf(' ', sp3 + 1);
        int sp5 = line.indexOf(' ', sp4 + 1);
        String perms = line.substring(sp1 + 1, sp2);
        String name = sp5 < 0 ? "" : line.substring(sp5).strip();
        return new MapsEntry(
                Long.parseUnsignedLong(line, 0, dash, 16),
                Long.parseUnsignedLong(line, dash + 1, sp1, 16),
                perms.charAt(0) == 'r', perms.charAt(1) == 'w', perms.charAt(2) == 'x',
                perms.charAt(3) == 's',
                Long.parseUnsignedLong(line, sp2 + 1, sp3, 16),
                line.substring(sp3 + 1, sp4),
                Long.parseLong(line, sp4 + 1, sp5 < 0 ? line.length() : sp5, 10),
                name);
    }
}
