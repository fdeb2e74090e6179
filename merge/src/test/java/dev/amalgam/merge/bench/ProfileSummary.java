package dev.amalgam.merge.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a benchmark phase spends its CPU time: reads a JFR recording and prints the methods at the top of the
 * execution samples whose stacks contain a given method (e.g. {@code GeneralizedTaskArithmeticMerge} for TIES,
 * {@code ioBaseline} for the baseline), by sample count.
 *
 * <p>Usage: {@code ProfileSummary RECORDING.jfr STACK_SUBSTRING [TOP=15]}.
 */
public final class ProfileSummary {

    private ProfileSummary() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: ProfileSummary RECORDING.jfr STACK_SUBSTRING [TOP=15]");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        String filter = args[1];
        int top = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        Map<String, Integer> byMethod = new HashMap<>();
        int total = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
                continue;
            }
            RecordedStackTrace stack = e.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty() || !contains(stack.getFrames(), filter)) {
                continue;
            }
            RecordedFrame leaf = stack.getFrames().get(0);
            String name = leaf.getMethod().getType().getName() + "." + leaf.getMethod().getName();
            byMethod.merge(name, 1, Integer::sum);
            total++;
        }
        System.out.printf(Locale.ROOT, "%d samples with '%s' on the stack%n", total, filter);
        int all = total;
        byMethod.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                .forEach(en -> System.out.printf(Locale.ROOT, "%6d  %5.1f %%  %s%n", en.getValue(),
                        100.0 * en.getValue() / all, en.getKey()));
    }

    private static boolean contains(List<RecordedFrame> frames, String filter) {
        for (RecordedFrame f : frames) {
            if ((f.getMethod().getType().getName() + "." + f.getMethod().getName()).contains(filter)) {
                return true;
            }
        }
        return false;
    }
}
