package dev.amalgam.fusion.wrpo;

import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.data.TokenizedPreference;
import dev.amalgam.fusion.train.TrainableModel;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelio.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The frozen reference model's summed log-probs of every record's three responses, computed once at the start of
 * the preference stage (the reference is the SFT model, i.e. the policy before its first update) and cached in the
 * work directory, so neither a second model copy nor repeated reference forwards are needed, and a resumed job
 * reuses exactly the same values.
 *
 * @param logps per record {source-chosen, target-chosen, rejected}
 * @param fingerprint hash of the records' token ids (a cache from other data is not reused)
 */
public record ReferenceLogps(float[][] logps, long fingerprint) {

    /** Computes the reference log-probs with the model as it is now, {@code batchSize} records per forward. */
    public static ReferenceLogps compute(TrainableModel model, List<TokenizedPreference> records, int batchSize) {
        float[][] out = new float[records.size()][];
        for (int from = 0; from < records.size(); from += batchSize) {
            List<TokenizedPreference> batch = records.subList(from, Math.min(records.size(), from + batchSize));
            try (NDManager scope = model.base().manager().newSubManager()) {
                LlamaModel forward = model.forwardModel(scope);
                try {
                    float[] all = PreferenceObjective.policyLogps(forward, batch, scope).toFloatArray(); // [3B]
                    int b = batch.size();
                    for (int i = 0; i < b; i++) {
                        out[from + i] = new float[] {all[i], all[b + i], all[2 * b + i]};
                    }
                } finally {
                    model.release(forward);
                }
            }
        }
        return new ReferenceLogps(out, fingerprint(records));
    }

    /** FNV-1a over every token id and length. */
    public static long fingerprint(List<TokenizedPreference> records) {
        long h = 0xcbf29ce484222325L;
        for (TokenizedPreference r : records) {
            for (int[] part : new int[][] {r.prompt(), r.sourceChosen(), r.targetChosen(), r.rejected()}) {
                h = (h ^ part.length) * 0x100000001b3L;
                for (int id : part) {
                    h = (h ^ id) * 0x100000001b3L;
                }
            }
        }
        return h;
    }

    public void save(Path file) {
        ObjectNode o = Json.object();
        o.put("fingerprint", fingerprint);
        ArrayNode rows = o.putArray("logps");
        for (float[] row : logps) {
            ArrayNode a = rows.addArray();
            for (float v : row) {
                a.add(v);
            }
        }
        Json.write(file, o);
    }

    /** The cached values when {@code file} exists and was computed from the same records. */
    public static ReferenceLogps load(Path file, List<TokenizedPreference> records) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode o = Json.read(file);
        long fp = o.path("fingerprint").asLong();
        if (fp != fingerprint(records) || o.path("logps").size() != records.size()) {
            return null;
        }
        List<float[]> rows = new ArrayList<>();
        for (JsonNode row : o.path("logps").values()) {
            rows.add(new float[] {row.get(0).floatValue(), row.get(1).floatValue(), row.get(2).floatValue()});
        }
        return new ReferenceLogps(rows.toArray(new float[0][]), fp);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReferenceLogps r && r.fingerprint == fingerprint && Arrays.deepEquals(r.logps, logps);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(fingerprint);
    }

    @Override
    public String toString() {
        return "ReferenceLogps[" + logps.length + " records, fingerprint " + fingerprint + "]";
    }

}
