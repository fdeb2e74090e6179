package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C of a local job command (its shutdown hook, signalled to a real {@code amalgam prune} process): it stops after a search step,
 * leaves its checkpoint and no staging directory, and the same command resumes and ends as an uninterrupted run.
 */
class LocalStopTest {

    @TempDir
    Path dir;

    @Test
    void anInterruptedPruneResumesFromItsCheckpointAndMatchesAnUninterruptedOne() throws Exception {
        TinyModels.write(Architecture.LLAMA, dir.resolve("m"), new TinySizes(64, 128, 8, 4, 2, 256, DType.F32), 5);
        StringBuilder calib = new StringBuilder();
        for (int i = 0; i < 48; i++) {
            calib.append("{\"text\": \"Blocks are removed one at a time, by perplexity, sample ").append(i).append(".\"}\n");
        }
        Files.writeString(dir.resolve("calib.jsonl"), calib);
        List<String> prune = List.of("prune", "--model", "m", "--data", "calib.jsonl", "--blocks", "10", "--samples", "24",
                "--seq-len", "96", "--batch-size", "1");

        Process first = start(prune, "out");
        Path checkpoint = dir.resolve("out.work/checkpoint.json");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(checkpoint) && first.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(first.isAlive()).as("still searching after its first checkpoint").isTrue();
        // SIGTERM runs the same shutdown hook as Ctrl-C's SIGINT; a shell without job control (as CI's may be)
        // starts background commands with SIGINT ignored, and a JVM leaves an ignored SIGINT ignored
        new ProcessBuilder("kill", "-TERM", Long.toString(first.pid())).start().waitFor();
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(dir.resolve("out.log"));
        assertThat(err).contains("stopped; run the same command again to resume from");
        assertThat(dir.resolve("out")).as("nothing published").doesNotExist();
        assertThat(checkpoint).exists();
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".staging-") || n.contains(".partial-"));
        }

        Process resumed = start(prune, "out");
        assertThat(resumed.waitFor(180, TimeUnit.SECONDS)).isTrue();
        assertThat(resumed.exitValue()).as(Files.readString(dir.resolve("out.log"))).isZero();
        assertThat(Files.readString(dir.resolve("out.log"))).contains("Resuming after step");
        assertThat(dir.resolve("out.work")).as("removed once the job succeeded").doesNotExist();

        Process whole = start(prune, "whole");
        assertThat(whole.waitFor(180, TimeUnit.SECONDS)).isTrue();
        assertThat(whole.exitValue()).isZero();
        assertThat(Files.readAllBytes(dir.resolve("out/model/model.safetensors")))
                .isEqualTo(Files.readAllBytes(dir.resolve("whole/model/model.safetensors")));
    }

    private Process start(List<String> args, String out) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1",
                "-cp", System.getProperty("java.class.path"), Amalgam.class.getName()));
        command.addAll(args);
        command.addAll(List.of("--out", out));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("MKL_NUM_THREADS", "1");
        pb.environment().put("MKL_CBWR", "COMPATIBLE");
        pb.redirectErrorStream(true).redirectOutput(dir.resolve(out + ".log").toFile());
        return pb.start();
    }
}
