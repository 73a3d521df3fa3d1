package io.hotclone.journal;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Compares two records field by field, arrays and lists included, and names the first field
 *  that differs (records compare byte arrays by identity, which says nothing here). */
final class DeepEquals {
    private DeepEquals() {
    }

    static void assertDeepEquals(Object expected, Object actual) {
        compare(expected, actual, expected == null ? "value" : expected.getClass().getSimpleName());
    }

    private static void compare(Object expected, Object actual, String path) {
        if (expected == null) {
            assertNull(actual, path);
            return;
        }
        assertNotNull(actual, path);
        if (expected instanceof byte[] e) {
            assertArrayEquals(e, (byte[]) actual, path);
        } else if (expected instanceof List<?> e) {
            List<?> a = (List<?>) actual;
            assertEquals(e.size(), a.size(), path + ".size");
            for (int i = 0; i < e.size(); i++) {
                compare(e.get(i), a.get(i), path + "[" + i + "]");
            }
        } else if (expected.getClass().isRecord()) {
            assertEquals(expected.getClass(), actual.getClass(), path);
            for (RecordComponent c : expected.getClass().getRecordComponents()) {
                compare(get(c, expected), get(c, actual), path + "." + c.getName());
            }
        } else {
            assertEquals(expected, actual, path);
        }
    }

    private static Object get(RecordComponent c, Object record) {
        try {
            return c.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot read " + c + " of " + Arrays.toString(record.getClass().getRecordComponents()), e);
        }
    }
}
