package io.hotclone.launcher;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Option values as operators write them, checked while the command line is parsed: a bad one
 * is a usage error (exit 2, naming the option and the form it takes) before anything starts
 * or is created.
 */
public final class Values {
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m)");

    private Values() {
    }

    /** A positive whole number of milliseconds, seconds or minutes: 100ms, 2s, 1m. */
    public static final class Period implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String text) {
            Matcher m = DURATION.matcher(text);
            if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
                throw new TypeConversionException("'" + text + "' is not a duration: write a positive whole number of"
                        + " ms, s or m, such as 100ms, 2s or 1m");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMinutes(n);
            };
        }

        /** The duration as {@link #convert} reads it, in its largest whole unit. */
        public static String text(Duration d) {
            if (d.toMillis() % 60_000 == 0) {
                return d.toMinutes() + "m";
            }
            return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
        }
    }

    /** A decimal number, 0 or more: 1.0, 0.5, 2. */
    static final class Factor implements ITypeConverter<Double> {
        @Override
        public Double convert(String text) {
            if (!text.matches("\\d{1,9}(\\.\\d{0,9})?|\\.\\d{1,9}")) {
                throw new TypeConversionException("'" + text + "' is not a factor: write a decimal number of 0 or more,"
                        + " such as 1.0 or 0.5");
            }
            return Double.parseDouble(text);
        }
    }

    /** A checkpoint's seq, as `hotclone journal ls` prints it: 1 or more. */
    static final class Seq implements ITypeConverter<Long> {
        @Override
        public Long convert(String text) {
            if (!text.matches("\\d{1,18}") || Long.parseLong(text) < 1) {
                throw new TypeConversionException("'" + text + "' is not a checkpoint seq: give a number of 1 or more,"
                        + " as `hotclone journal ls DIR` lists them");
            }
            return Long.parseLong(text);
        }
    }

    /** A TCP port, 0 to 65535. */
    static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String text) {
            if (!text.matches("\\d{1,5}") || Integer.parseInt(text) > 65535) {
                throw new TypeConversionException("'" + text + "' is not a TCP port: give 0 to 65535");
            }
            return Integer.parseInt(text);
        }
    }

    /** An IP address, or a name this machine resolves. */
    static final class Address implements ITypeConverter<InetAddress> {
        @Override
        public InetAddress convert(String text) {
            try {
                return InetAddress.getByName(text);
            } catch (UnknownHostException e) {
                throw new TypeConversionException("'" + text + "' is not an address of this machine: give an IP"
                        + " address such as 127.0.0.1 or 0.0.0.0, or a name it resolves");
            }
        }
    }

    /** A whole number of 1 or more. */
    public static final class Count implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String text) {
            if (!text.matches("\\d{1,9}") || Integer.parseInt(text) < 1) {
                throw new TypeConversionException("'" + text + "' is not a whole number of 1 or more");
            }
            return Integer.parseInt(text);
        }
    }
}
