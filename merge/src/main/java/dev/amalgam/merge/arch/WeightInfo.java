package dev.amalgam.merge.arch;

import java.util.ArrayList;
import java.util.List;

/**
 * One weight of a model family, as mergekit's {@code WeightInfo}: its name (a template with {@code ${layer_index}}
 * and {@code ${expert_index}} in an architecture file, a concrete tensor name once resolved), whether its rows are
 * indexed by token, whether it may be absent, the other names it may be stored under, and the names it is tied to.
 *
 * @param name      tensor name (or template)
 * @param isEmbed   rows indexed by token id (input embedding, output head)
 * @param optional  may be absent from every model; then it is not written
 * @param aliases   other names of the same tensor, tried in order after {@code name}
 * @param tiedNames tensors that stand in for it in a model that ties it (the head of a tied model is its
 *                  input embedding)
 */
public record WeightInfo(String name, boolean isEmbed, boolean optional, List<String> aliases, List<String> tiedNames) {

    public WeightInfo {
        aliases = List.copyOf(aliases);
        tiedNames = List.copyOf(tiedNames);
    }

    /** Every name the tensor itself may be stored under: {@code name}, then the aliases. */
    public List<String> names() {
        List<String> res = new ArrayList<>(1 + aliases.size());
        res.add(name);
        res.addAll(aliases);
        return res;
    }

    WeightInfo map(java.util.function.UnaryOperator<String> f) {
        return new WeightInfo(f.apply(name), isEmbed, optional, aliases.stream().map(f).toList(),
                tiedNames.stream().map(f).toList());
    }
}
