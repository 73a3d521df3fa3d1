package io.hotclone.vid;

import java.util.Map;
import java.util.OptionalInt;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Which real id stands behind each virtual one, on one node: the program lives in a pid
 * namespace of its own, where its processes and threads keep their ids (vids) from node to
 * node, while the node's kernel knows them by other ones (the ids an operator can kill there).
 * A restore gives every thread its vid again; each node's table maps those to its own ids.
 *
 * @param realByVirtual the real id of each vid
 */
public record VidTable(SortedMap<Integer, Integer> realByVirtual) {
    public static final VidTable EMPTY = new VidTable(new TreeMap<>());

    public VidTable {
        realByVirtual = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(realByVirtual));
    }

    /** The table of the pairs (vid, real id) given. */
    public static VidTable of(Map<Integer, Integer> realByVirtual) {
        return new VidTable(new TreeMap<>(realByVirtual));
    }

    /** The real id behind {@code vid}, if the table has it. */
    public OptionalInt real(int vid) {
        Integer real = realByVirtual.get(vid);
        return real == null ? OptionalInt.empty() : OptionalInt.of(real);
    }

    /** The vid a real id stands behind, if the table has it. */
    public OptionalInt virtual(int real) {
        return realByVirtual.entrySet().stream().filter(e -> e.getValue() == real)
                .mapToInt(Map.Entry::getKey).findFirst();
    }

    public boolean isEmpty() {
        return realByVirtual.isEmpty();
    }

    /** "VID=REAL" pairs, by vid, separated by spaces: how status and the coordinator show it. */
    public String render() {
        return realByVirtual.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(" "));
    }

    /** The table {@link #render} wrote; refuses, quoting it, text that is not one. */
    public static VidTable parse(String text) {
        TreeMap<Integer, Integer> ids = new TreeMap<>();
        for (String pair : text.strip().split("\\s+")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                if (eq <= 0 || ids.put(Integer.parseInt(pair.substring(0, eq)), Integer.parseInt(pair.substring(eq + 1))) != null) {
                    throw new IllegalArgumentException("a pair VID=REAL, each vid once");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + pair + "' in vid table '" + text + "' is not VID=REAL", e);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + pair + "' in vid table '" + text + "' is not " + e.getMessage(), e);
            }
        }
        return new VidTable(ids);
    }
}
