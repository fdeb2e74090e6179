package dev.amalgam.merge.config;

import java.util.ArrayList;
import java.util.List;

/**
 * A model reference as mergekit writes it ({@code mergekit/common.py}, {@code ModelReference} and {@code ModelPath}):
 * {@code path}, {@code path@revision}, {@code path+lora} or {@code path@rev+lora@rev}, where {@code lora} names a
 * PEFT adapter applied to the model before merging. The string is split on {@code +} first (at most one), then each
 * part on {@code @} (at most one each), as mergekit does. The dict form
 * {@code {model: {path, revision}, lora: {path, revision}}} (each part also a plain string) reads into the same
 * record; configs keep the reference as its string ({@link #toString()}, mergekit's {@code __str__}).
 *
 * <p>Revisions are accepted and ignored (a warning says so): models are read from local directories or artifacts,
 * and mergekit too ignores a revision for a path that exists locally.
 *
 * @param path         the model (a path in the CLI, an artifact id or name in the service)
 * @param revision     the model's revision, or null
 * @param loraPath     the PEFT adapter, or null
 * @param loraRevision the adapter's revision, or null
 */
public record ModelReference(String path, String revision, String loraPath, String loraRevision) {

    /**
     * Parses mergekit's string form.
     *
     * @throws IllegalArgumentException saying what is wrong (more than one {@code +} or {@code @}, an empty part)
     */
    public static ModelReference parse(String text) {
        String[] chunks = text.split("\\+", -1);
        if (chunks.length > 2) {
            throw new IllegalArgumentException("model reference '" + text + "' has more than one '+' (the form is"
                    + " model+lora)");
        }
        String[] model = pathAndRevision(chunks[0], text);
        String[] lora = chunks.length == 2 ? pathAndRevision(chunks[1], text) : new String[2];
        return new ModelReference(model[0], model[1], lora[0], lora[1]);
    }

    private static String[] pathAndRevision(String part, String whole) {
        String[] pr = part.split("@", -1);
        if (pr.length > 2) {
            throw new IllegalArgumentException("model reference '" + whole + "' has more than one '@' in '" + part
                    + "' (the form is path@revision)");
        }
        if (pr[0].isBlank() || (pr.length == 2 && pr[1].isBlank())) {
            throw new IllegalArgumentException("model reference '" + whole + "' has an empty path or revision");
        }
        return new String[] {pr[0], pr.length == 2 ? pr[1] : null};
    }

    /** Whether a LoRA adapter is applied. */
    public boolean hasLora() {
        return loraPath != null;
    }

    /** The paths to resolve: the model's, then the adapter's when there is one. */
    public List<String> paths() {
        List<String> p = new ArrayList<>();
        p.add(path);
        if (loraPath != null) {
            p.add(loraPath);
        }
        return p;
    }

    /** Warnings for what is accepted but not used (revisions). */
    public List<String> warnings() {
        List<String> w = new ArrayList<>();
        if (revision != null) {
            w.add("model '" + this + "': revision '" + revision + "' is ignored; '" + path
                    + "' is read as it is stored here (nothing is fetched from a hub)");
        }
        if (loraRevision != null) {
            w.add("model '" + this + "': adapter revision '" + loraRevision + "' is ignored; '" + loraPath
                    + "' is read as it is stored here (nothing is fetched from a hub)");
        }
        return w;
    }

    /** mergekit's string form: {@code path[@revision][+lora[@revision]]}. */
    @Override
    public String toString() {
        String s = revision == null ? path : path + "@" + revision;
        if (loraPath != null) {
            s += "+" + (loraRevision == null ? loraPath : loraPath + "@" + loraRevision);
        }
        return s;
    }
}
