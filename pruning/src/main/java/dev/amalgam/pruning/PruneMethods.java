package dev.amalgam.pruning;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Registry of the pruning methods by spec name: BlockPruner and the baselines of its paper. {@link #get(String)}
 * fails with the list of known names. To add a method, write a {@link PruneMethod} in this package and list it in
 * {@link #ALL}.
 */
public final class PruneMethods {

    /** Every method, in the order error messages and the README list them. */
    private static final List<PruneMethod> ALL = List.of(new BlockPruner(), new LayerGreedy(), new ShortGpt(),
            new RelativeMagnitude(), new OneShotBlock());

    private PruneMethods() {
    }

    /** The method registered under {@code specName}; unknown names fail with the known ones listed. */
    public static PruneMethod get(String specName) {
        PruneMethod m = find(specName);
        if (m == null) {
            throw new IllegalArgumentException("unknown pruning method '" + specName + "'; known: " + known());
        }
        return m;
    }

    /** The method registered under {@code specName}, or null. */
    public static PruneMethod find(String specName) {
        for (PruneMethod m : ALL) {
            if (m.specName().equals(specName)) {
                return m;
            }
        }
        return null;
    }

    /** Every registered method, in registration order. */
    public static List<PruneMethod> all() {
        return ALL;
    }

    /** Every spec name, comma-separated in registration order, for error messages. */
    public static String known() {
        return ALL.stream().map(PruneMethod::specName).collect(Collectors.joining(", "));
    }
}
