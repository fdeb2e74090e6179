package dev.amalgam.merge.plan;

/**
 * Embedding rows for tokens an input model does not have, chosen as mergekit does: the only model that has the
 * token, else the base model's row, else the mean of the rows of the models that have it (zero if none).
 * Stored per output row as a list of (input index, source row) to average, in compressed-row form.
 *
 * @param offsets sources of output row r are entries offsets[r] .. offsets[r+1]-1
 * @param inputs  input index (within the tensor's inputs) of each source entry
 * @param rows    row in that input's tensor of each source entry
 */
public record RowDefaults(int[] offsets, int[] inputs, int[] rows) {

    /**
     * Builds the defaults from each input's row map.
     *
     * @param rowMaps   per input: its row for each output row, -1 if it lacks the token
     * @param baseIndex index of the base model among the inputs, or -1
     * @param overrides per output row, the (input, source row) entries {@code tokenizer.tokens} sets instead of
     *                  the rule above (none: a zero row)
     */
    static RowDefaults of(int[][] rowMaps, int baseIndex, java.util.Map<Integer, int[][]> overrides) {
        int outRows = rowMaps[0].length;
        int[] offsets = new int[outRows + 1];
        java.util.List<int[]> entries = new java.util.ArrayList<>();
        for (int r = 0; r < outRows; r++) {
            offsets[r] = entries.size();
            if (overrides.containsKey(r)) {
                entries.addAll(java.util.List.of(overrides.get(r)));
                continue;
            }
            int present = 0;
            int donor = -1;
            for (int i = 0; i < rowMaps.length; i++) {
                if (rowMaps[i][r] >= 0) {
                    present++;
                    donor = i;
                }
            }
            if (present == 1) {
                entries.add(new int[]{donor, rowMaps[donor][r]});
            } else if (present > 1 && baseIndex >= 0 && rowMaps[baseIndex][r] >= 0) {
                entries.add(new int[]{baseIndex, rowMaps[baseIndex][r]});
            } else {
                for (int i = 0; i < rowMaps.length; i++) {
                    if (rowMaps[i][r] >= 0) {
                        entries.add(new int[]{i, rowMaps[i][r]});
                    }
                }
            }
        }
        offsets[outRows] = entries.size();
        int[] inputs = new int[entries.size()];
        int[] rows = new int[entries.size()];
        for (int e = 0; e < entries.size(); e++) {
            inputs[e] = entries.get(e)[0];
            rows[e] = entries.get(e)[1];
        }
        return new RowDefaults(offsets, inputs, rows);
    }
}
