package io.hotclone.launcher;

import io.hotclone.journal.SecondlyJournals;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.QueueDocs;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random damage to a real journal of a self-checking program: a queue file cut short anywhere,
 * a bit flipped in any record, a queue file deleted. Whatever the damage, {@code journal verify}
 * exits 1 naming the damaged file, and {@code restore} either refuses with a message or brings
 * back a program that passes its own check, as does {@code restore --latest-sound} when asked.
 *
 * <p>Seeded: the seed is printed, {@code -Dhotclone.seed=S} replays it; {@code
 * -Dhotclone.trials=N} runs N trials (default 3, for the default suite). A flip lands inside a
 * record (hotclone's own bytes, every one under a CRC), not in Chronicle's framing of it.
 */
class JournalFuzzTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern RESTORED_PID = Pattern.compile("(?m)^pid (\\d+)$");

    @TempDir
    Path tmp;

    private enum Kind { TRUNCATE, FLIP, DELETE }

    /** What was done to which queue file. */
    private record Damage(Kind kind, String file, String what) {
        @Override
        public String toString() {
            return kind + " " + file + ": " + what;
        }
    }

    @Test
    void randomDamageIsNamedByVerifyAndNeverRestoresAWrongProcess() throws Exception {
        long seed = Long.getLong("hotclone.seed", new SecureRandom().nextLong());
        int trials = Integer.getInteger("hotclone.trials", 3);
        System.out.println("journal fuzz: seed " + seed + ", " + trials + " trials (replay: -Dhotclone.seed=" + seed
                + " -Dhotclone.trials=" + trials + ")");
        Path verifyFile = tmp.resolve("verify");
        Path journal = record(verifyFile);
        Random random = new Random(seed);
        Map<String, Integer> outcomes = new TreeMap<>();
        for (int i = 0; i < trials; i++) {
            Path copy = tmp.resolve("trial-" + i);
            copyJournal(journal, copy);
            Damage damage = damage(copy, random);
            String context = "trial " + i + " of seed " + seed + ", " + damage;

            HotcloneCli.Run verify = HotcloneCli.run(tmp, "journal", "verify", copy.toString());
            assertEquals(1, verify.exitCode(), context + ": verify must fail\n" + verify);
            assertTrue(verify.out().lines().anyMatch(l -> l.startsWith("problem: ") && l.contains(damage.file())),
                    context + ": verify names the file\n" + verify);

            String outcome = restore(context, verifyFile, "restore", "--journal", copy.toString(), "--detach");
            if (outcome.equals("refused")) {
                outcome += ", then --latest-sound " + restore(context, verifyFile, "restore", "--journal",
                        copy.toString(), "--detach", "--latest-sound");
            }
            outcomes.merge(damage.kind() + ": " + outcome, 1, Integer::sum);
            System.out.println("journal fuzz: " + context + " -> " + outcome);
        }
        System.out.println("journal fuzz: seed " + seed + ", outcomes " + outcomes);
    }

    /**
     * Runs {@code hotclone args}: a refusal must be one clear line, a restored program must pass
     * its own check. Returns "refused" or "restored".
     */
    private String restore(String context, Path verifyFile, String... args) throws Exception {
        HotcloneCli.Run run = HotcloneCli.run(tmp, args);
        String said = context + ": " + String.join(" ", args) + "\n" + run;
        if (run.exitCode() == 1) {
            String refusal = run.err().lines().filter(l -> l.startsWith("hotclone: ")).findFirst().orElse("");
            assertFalse(refusal.isEmpty(), said);
            assertFalse(run.err().contains("Exception") || run.err().contains("Error:"), said);
            System.out.println("journal fuzz:   " + args[args.length - 1] + " refused: " + refusal);
            return "refused";
        }
        assertEquals(0, run.exitCode(), said);
        Matcher pid = RESTORED_PID.matcher(run.out());
        assertTrue(pid.find(), said);
        try (Program restored = Program.adopt(Integer.parseInt(pid.group(1)), run.stdout())) {
            List<String> failures = Verify.failures(restored, verifyFile, WAIT);
            assertEquals(List.of(), failures, said + "\nthe restored program must pass its own check");
        } finally {
            Files.deleteIfExists(verifyFile);
        }
        return "restored";
    }

    /** A journal of counter, checkpointed every 20 ms over one-second queue files for about 3 s, then killed. */
    private Path record(Path verifyFile) throws Exception {
        Path journal = tmp.resolve("journal");
        SecondlyJournals.make(journal);
        HotcloneCli.run(tmp, "--version"); // builds ./hotclone if the sources changed, within its own time limit
        try (Launched run = Launched.start(journal, List.of("--checkpoint-interval", "20ms"),
                List.of(TestPrograms.compile("counter").toString(), "--verify-file", verifyFile.toString()));
             Program program = Program.adopt(run.awaitCheckpoint(), run.out())) {
            program.awaitTick(program.lastTick() + 30, WAIT);
            assertTrue(run.process().isAlive(), "hotclone must protect its program on: " + Files.readString(run.err()));
            run.process().destroyForcibly().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS);
            program.kill9();
        }
        return journal;
    }

    private static Damage damage(Path journal, Random random) throws IOException {
        List<Path> files;
        try (Stream<Path> all = Files.list(journal)) {
            files = all.filter(f -> f.getFileName().toString().endsWith(".cq4")).sorted().toList();
        }
        Kind kind = Kind.values()[random.nextInt(Kind.values().length)];
        if (kind == Kind.DELETE) {
            // A file that holds no commit (the last one, rolled just before the kill) loses nothing deleted.
            List<String> committed = Files.readAllLines(journal.resolve("hotclone-journal.cycles"));
            files = files.stream().filter(f -> committed.contains(f.getFileName().toString())).toList();
        }
        Path file = files.get(random.nextInt(files.size()));
        String name = file.getFileName().toString();
        List<QueueDocs.Doc> docs = QueueDocs.all(file);
        switch (kind) {
            case TRUNCATE -> {
                long size = random.nextLong(docs.getLast().end());
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.truncate(size);
                }
                return new Damage(kind, name, "cut to " + size + " of " + docs.getLast().end() + " bytes of data");
            }
            case FLIP -> {
                List<QueueDocs.Doc> records = QueueDocs.records(file);
                if (records.isEmpty()) {
                    fail("queue file " + file + " holds no record to flip a bit of");
                }
                QueueDocs.Doc record = records.get(random.nextInt(records.size()));
                long at = record.contents() + random.nextInt(record.length());
                int bit = random.nextInt(8);
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    ByteBuffer b = ByteBuffer.allocate(1);
                    ch.read(b, at);
                    b.put(0, (byte) (b.get(0) ^ (1 << bit))).rewind();
                    ch.write(b, at);
                }
                return new Damage(kind, name, "bit " + bit + " of byte " + at + ", in the record at " + record.header()
                        + " (" + record.length() + " bytes)");
            }
            case DELETE -> {
                Files.delete(file);
                return new Damage(kind, name, "deleted (" + (files.indexOf(file) + 1) + " of " + files.size() + ")");
            }
        }
        throw new AssertionError(kind);
    }

    /** Copies a journal as it lies, but for what belongs to its writer's life (its lock, its control socket). */
    private static void copyJournal(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (!f.getFileName().toString().equals("hotclone-journal.lock")) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
    }
}
