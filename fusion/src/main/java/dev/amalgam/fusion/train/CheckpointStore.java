package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.Json;
import dev.amalgam.modelio.SafetensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Training checkpoints in a job's persistent work directory: {@code checkpoints/<stage>-step-<n>/} holds the FP32
 * master parameters ({@code parameters.safetensors}), the AdamW moments ({@code optimizer.safetensors}, names
 * {@code m.<param>} and {@code v.<param>}) and {@code state.json} (stage, next step, applied updates, loss scale).
 * A checkpoint is written to a temporary directory and renamed, so a worker that dies mid-write leaves the previous
 * one intact; only the newest {@link #KEEP} are kept.
 */
public final class CheckpointStore {

    static final int KEEP = 2;
    private static final long SHARD = 4L << 30;

    private final Path root;

    public CheckpointStore(Path workDir) {
        this.root = workDir.resolve("checkpoints");
    }

    /**
     * What a checkpoint records beyond the arrays.
     *
     * @param stageIndex index of the stage in the spec's stage list
     * @param stage its name
     * @param nextStep the first optimizer step still to run in that stage
     * @param appliedUpdates AdamW's update count
     * @param lossScale loss-scaler state
     * @param sequence global counter ordering checkpoints
     * @param numerics the settings the arithmetic depended on (see {@code FusionRunner.numerics}); "" if unknown
     */
    public record State(int stageIndex, String stage, long nextStep, long appliedUpdates, double[] lossScale,
            long sequence, String numerics) {
    }

    /** Saves the trainer's state atomically. */
    public Path save(State state, TrainableModel model, Trainer trainer) {
        try {
            Files.createDirectories(root);
            String name = String.format("%06d-%s-step-%d", state.sequence(), state.stage(), state.nextStep());
            Path tmp = root.resolve(name + ".tmp");
            deleteTree(tmp);
            Files.createDirectories(tmp);
            List<String> names = new ArrayList<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            Map<String, NDArray> byName = new LinkedHashMap<>();
            for (TrainableParameter p : model.parameters()) {
                names.add(p.name());
                shapes.put(p.name(), p.master().getShape().getShape());
                byName.put(p.name(), p.master());
            }
            writeDir(tmp.resolve("parameters"), names, shapes, byName);
            List<String> optNames = new ArrayList<>();
            Map<String, long[]> optShapes = new LinkedHashMap<>();
            Map<String, NDArray> optArrays = new LinkedHashMap<>();
            trainer.optimizer().firstMoments().forEach((k, a) -> {
                optNames.add("m." + k);
                optShapes.put("m." + k, a.getShape().getShape());
                optArrays.put("m." + k, a);
            });
            trainer.optimizer().secondMoments().forEach((k, a) -> {
                optNames.add("v." + k);
                optShapes.put("v." + k, a.getShape().getShape());
                optArrays.put("v." + k, a);
            });
            writeDir(tmp.resolve("optimizer"), optNames, optShapes, optArrays);
            ObjectNode json = Json.object();
            json.put("stageIndex", state.stageIndex());
            json.put("stage", state.stage());
            json.put("nextStep", state.nextStep());
            json.put("appliedUpdates", state.appliedUpdates());
            json.putArray("lossScale").add(state.lossScale()[0]).add(state.lossScale()[1]);
            json.put("sequence", state.sequence());
            json.put("numerics", state.numerics());
            Json.write(tmp.resolve("state.json"), json);
            Path dir = root.resolve(name);
            deleteTree(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            prune();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint under " + root, e);
        }
    }

    private static void writeDir(Path dir, List<String> names, Map<String, long[]> shapes, Map<String, NDArray> arrays)
            throws IOException {
        Files.createDirectories(dir);
        if (names.isEmpty()) {
            return;
        }
        TensorFiles.write(dir, names, shapes, DType.F32, SHARD, arrays::get, false); // live arrays: not closed
    }

    /** The newest complete checkpoint, if any. */
    public Optional<Path> latest() {
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> !p.getFileName().toString().endsWith(".tmp"))
                    .filter(p -> Files.isRegularFile(p.resolve("state.json")))
                    .max(Comparator.comparing(p -> p.getFileName().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
    }

    /** Reads a checkpoint's state. */
    public static State readState(Path checkpoint) {
        JsonNode j = Json.read(checkpoint.resolve("state.json"));
        return new State(j.path("stageIndex").asInt(), j.path("stage").asString(), j.path("nextStep").asLong(),
                j.path("appliedUpdates").asLong(), new double[] {j.path("lossScale").path(0).asDouble(),
                    j.path("lossScale").path(1).asDouble()}, j.path("sequence").asLong(), j.path("numerics").asString(""));
    }

    /** Loads the FP32 masters of a checkpoint into the model (then refreshes its compute-type copies). */
    public static void restoreParameters(Path checkpoint, TrainableModel model) {
        NDManager manager = model.base().manager();
        forEachTensor(checkpoint.resolve("parameters"), (file, name) -> {
            TrainableParameter p = model.parameters().stream().filter(q -> q.name().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("checkpoint parameter " + name + " is not trained"));
            try (NDManager tmp = manager.newSubManager()) {
                NDArray loaded = TensorFiles.read(file, name, tmp);
                p.master().set(new NDIndex("..."), loaded);
            }
        });
        model.afterUpdate();
    }

    /** Loads the AdamW moments, update count and loss scale of a checkpoint into {@code trainer}. */
    public static void restoreOptimizer(Path checkpoint, Trainer trainer) {
        State s = readState(checkpoint);
        Map<String, NDArray> first = trainer.optimizer().firstMoments();
        Map<String, NDArray> second = trainer.optimizer().secondMoments();
        forEachTensor(checkpoint.resolve("optimizer"), (file, name) -> {
            NDArray loaded = TensorFiles.read(file, name, trainer.optimizer().manager());
            (name.startsWith("m.") ? first : second).put(name.substring(2), loaded);
        });
        trainer.restoreAppliedUpdates(s.appliedUpdates());
        trainer.scaler().restore(s.lossScale());
    }

    private interface TensorVisitor {
        void visit(SafetensorsFile file, String name);
    }

    private static void forEachTensor(Path dir, TensorVisitor visitor) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList()) {
                try (SafetensorsFile file = SafetensorsFile.open(f)) {
                    for (String name : file.names()) {
                        visitor.visit(file, name);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private void prune() throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            List<Path> done = s.filter(p -> Files.isRegularFile(p.resolve("state.json")))
                    .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed()).toList();
            for (int i = KEEP; i < done.size(); i++) {
                deleteTree(done.get(i));
            }
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
