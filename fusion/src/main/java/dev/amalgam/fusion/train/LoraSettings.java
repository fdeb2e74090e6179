package dev.amalgam.fusion.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * LoRA (Hu et al., 2021, arXiv:2106.09685): W = W0 + (alpha / rank) * B A with A [rank, in], B [out, rank]; A starts
 * Kaiming-uniform (as PEFT), B at zero, so training starts from the base model.
 *
 * @param rank r
 * @param alpha scaling numerator (the update is scaled by alpha / rank)
 * @param targetModules projection names: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj
 */
public record LoraSettings(int rank, double alpha, List<String> targetModules) {

    /** Projections LoRA can wrap. */
    public static final Set<String> KNOWN_MODULES = Set.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
            "up_proj", "down_proj");

    /** Largest rank (ranks in use are 8 to 256); the adapters' size and work grow with it. */
    public static final int MAX_RANK = 1024;

    public LoraSettings {
        targetModules = List.copyOf(targetModules);
    }

    /** rank 16, alpha 32, all seven projections. */
    public static LoraSettings defaults() {
        return new LoraSettings(16, 32, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                "down_proj"));
    }

    public double scaling() {
        return alpha / rank;
    }

    /** Every problem with the settings. */
    public List<String> validate() {
        List<String> problems = new ArrayList<>();
        if (rank <= 0) {
            problems.add("lora.rank: must be > 0, got " + rank);
        } else if (rank > MAX_RANK) {
            problems.add("lora.rank: must be at most " + MAX_RANK + ", got " + rank);
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            problems.add("lora.alpha: must be a finite number > 0, got " + alpha);
        }
        if (targetModules.isEmpty()) {
            problems.add("lora.targetModules: must name at least one projection");
        }
        for (String m : targetModules) {
            if (!KNOWN_MODULES.contains(m)) {
                problems.add("lora.targetModules: unknown module '" + m + "' (known: q_proj, k_proj, v_proj, o_proj, "
                        + "gate_proj, up_proj, down_proj)");
            }
        }
        return problems;
    }
}
