package dev.amalgam.pruning;

import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.ModelHead;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A pruning job: which method, how much to remove, and the calibration settings. One format for the HTTP API, the
 * stored job and the CLI (camelCase JSON):
 * <pre>{@code
 * {"method": "blockpruner", "blocks": 12, "candidates": "mix",
 *  "samples": 256, "seqLen": 2048, "seed": 42, "batchSize": 8, "output": "masked", "cacheBudgetMb": 8192}
 * }</pre>
 * Exactly one of {@code blocks} (removed blocks; even for layer-level methods, which remove blocks / 2 layers) and
 * {@code targetRatio} (stop once the pruning ratio reaches it) is given. The record may hold invalid values;
 * {@link #validate()} lists every problem.
 *
 * @param method pruning method, from {@link PruneMethods}
 * @param blocks number of blocks to remove, or null
 * @param targetRatio pruning ratio to reach (0, 1), or null
 * @param candidates block types a block-level method may remove ({@code mix} for layer-level methods)
 * @param samples calibration rows sampled from the dataset
 * @param seqLen calibration sequence length in tokens
 * @param seed seed of the row sampling
 * @param batchSize sequences per forward
 * @param output checkpoint form
 * @param cacheBudgetMb memory for cached activations of the search; 0 runs the plain search
 */
public record PruneSpec(PruneMethod method, Integer blocks, Double targetRatio, Candidates candidates, int samples,
        int seqLen, long seed, int batchSize, OutputForm output, int cacheBudgetMb) {

    /** Reference defaults (docs/algorithms.md, section 2; batch size and seed of the reference code). */
    public static final int DEFAULT_SAMPLES = 256;
    public static final int DEFAULT_SEQ_LEN = 2048;
    public static final long DEFAULT_SEED = 42;
    public static final int DEFAULT_BATCH_SIZE = 8;
    public static final int DEFAULT_CACHE_BUDGET_MB = 8192;

    /**
     * Upper bounds of the fields that size the work (samples up to 256x the reference's, batch and context far
     * beyond what fits a GPU, a cache budget of 256 GiB); the model bounds blocks, targetRatio and seqLen further.
     */
    public static final int MAX_SAMPLES = 65_536;
    public static final int MAX_SEQ_LEN = 131_072;
    public static final int MAX_BATCH_SIZE = 1024;
    public static final int MAX_CACHE_BUDGET_MB = 262_144;

    /** Field names of the JSON form. */
    public static final List<String> FIELDS = List.of("method", "blocks", "targetRatio", "candidates", "samples",
            "seqLen", "seed", "batchSize", "output", "cacheBudgetMb");

    /** BlockPruner removing {@code blocks} blocks, everything else at its default. */
    public static PruneSpec blockPruner(int blocks) {
        return new PruneSpec(PruneMethods.get(BlockPruner.NAME), blocks, null, Candidates.MIX, DEFAULT_SAMPLES,
                DEFAULT_SEQ_LEN, DEFAULT_SEED, DEFAULT_BATCH_SIZE, OutputForm.MASKED, DEFAULT_CACHE_BUDGET_MB);
    }

    public PruneSpec withMethod(PruneMethod m) {
        return new PruneSpec(m, blocks, targetRatio, candidates, samples, seqLen, seed, batchSize, output, cacheBudgetMb);
    }

    public PruneSpec withBlocks(Integer k) {
        return new PruneSpec(method, k, null, candidates, samples, seqLen, seed, batchSize, output, cacheBudgetMb);
    }

    public PruneSpec withTargetRatio(Double r) {
        return new PruneSpec(method, null, r, candidates, samples, seqLen, seed, batchSize, output, cacheBudgetMb);
    }

    public PruneSpec withCandidates(Candidates c) {
        return new PruneSpec(method, blocks, targetRatio, c, samples, seqLen, seed, batchSize, output, cacheBudgetMb);
    }

    public PruneSpec withCalibration(int samples, int seqLen, long seed, int batchSize) {
        return new PruneSpec(method, blocks, targetRatio, candidates, samples, seqLen, seed, batchSize, output,
                cacheBudgetMb);
    }

    public PruneSpec withOutput(OutputForm form) {
        return new PruneSpec(method, blocks, targetRatio, candidates, samples, seqLen, seed, batchSize, form, cacheBudgetMb);
    }

    public PruneSpec withCacheBudgetMb(int mb) {
        return new PruneSpec(method, blocks, targetRatio, candidates, samples, seqLen, seed, batchSize, output, mb);
    }

    /** Every problem of the spec on its own (empty when valid). */
    public List<String> validate() {
        List<String> problems = new ArrayList<>();
        if (method == null) {
            problems.add("method: required, one of " + PruneMethods.known());
        }
        if ((blocks == null) == (targetRatio == null)) {
            problems.add("blocks/targetRatio: give exactly one of 'blocks' (number of blocks to remove) or "
                    + "'targetRatio' (pruning ratio to reach)");
        }
        if (blocks != null && blocks < 1) {
            problems.add("blocks: must be >= 1, got " + blocks);
        }
        if (blocks != null && method != null && method.layerLevel() && blocks % 2 != 0) {
            problems.add("blocks: " + method.specName() + " removes whole layers (2 blocks each), so blocks must be "
                    + "even, got " + blocks);
        }
        if (targetRatio != null && !(targetRatio > 0 && targetRatio < 1)) {
            problems.add("targetRatio: must be in (0, 1), got " + targetRatio);
        }
        if (candidates == null) {
            problems.add("candidates: required, one of mix, attention, mlp");
        } else if (method != null && method.layerLevel() && candidates != Candidates.MIX) {
            problems.add("candidates: " + method.specName() + " removes whole layers; only 'mix' applies");
        }
        if (samples < 1 || samples > MAX_SAMPLES) {
            problems.add("samples: must be between 1 and " + MAX_SAMPLES + ", got " + samples);
        }
        if (seqLen < 2 || seqLen > MAX_SEQ_LEN) {
            problems.add("seqLen: must be between 2 and " + MAX_SEQ_LEN + ", got " + seqLen);
        }
        if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
            problems.add("batchSize: must be between 1 and " + MAX_BATCH_SIZE + ", got " + batchSize);
        }
        if (output == null) {
            problems.add("output: required, one of masked, compact");
        }
        if (cacheBudgetMb < 0 || cacheBudgetMb > MAX_CACHE_BUDGET_MB) {
            problems.add("cacheBudgetMb: must be between 0 (plain search) and " + MAX_CACHE_BUDGET_MB + ", got "
                    + cacheBudgetMb);
        }
        return problems;
    }

    /** Problems of the spec applied to a model with {@code config} (includes {@link #validate()}). */
    public List<String> validateFor(LlamaConfig config) {
        List<String> problems = validate();
        if (config.head() != ModelHead.CAUSAL_LM) {
            problems.add("model: pruning needs a causal language model, got a sequence-classification model");
            return problems;
        }
        if (!problems.isEmpty()) {
            return problems;
        }
        int available = maxRemovableBlocks(config.numHiddenLayers());
        if (blocks != null && blocks > available) {
            problems.add("blocks: the model has " + config.numHiddenLayers() + " layers; " + method.specName()
                    + " with candidates '" + candidates.specName() + "' can remove at most " + available
                    + " blocks (at least one block must remain)");
        }
        if (targetRatio != null) {
            ParameterCounts counts = ParameterCounts.of(config);
            double reachable = maxRatio(counts);
            if (targetRatio > reachable) {
                problems.add(String.format(java.util.Locale.ROOT,
                        "targetRatio: %s with candidates '%s' can reach at most %.4f on this model, asked %.4f",
                        method.specName(), candidates.specName(), reachable, targetRatio));
            }
        }
        if (seqLen > config.maxPositionEmbeddings()) {
            problems.add("seqLen: " + seqLen + " exceeds the model's max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
        return problems;
    }

    /** Most blocks removable while one block (one layer for layer-level methods) remains. */
    int maxRemovableBlocks(int layers) {
        if (method.layerLevel()) {
            return 2 * (layers - 1);
        }
        return candidates == Candidates.MIX ? 2 * layers - 1 : layers;
    }

    private double maxRatio(ParameterCounts c) {
        long keep = Math.min(c.attentionBlock(), c.mlpBlock());
        long removable;
        if (method.layerLevel()) {
            removable = (c.numLayers() - 1L) * (c.attentionBlock() + c.mlpBlock());
        } else if (candidates == Candidates.MIX) {
            removable = c.numLayers() * (c.attentionBlock() + c.mlpBlock()) - keep;
        } else {
            removable = c.numLayers() * (candidates == Candidates.ATTENTION ? c.attentionBlock() : c.mlpBlock());
        }
        return (double) removable / c.total();
    }

    /** The JSON form (camelCase, the method and enum values by spec name, absent optionals omitted). */
    public ObjectNode toJson() {
        ObjectNode n = JsonMapper.builder().build().createObjectNode();
        n.put("method", method == null ? null : method.specName());
        if (blocks != null) {
            n.put("blocks", blocks);
        }
        if (targetRatio != null) {
            n.put("targetRatio", targetRatio);
        }
        n.put("candidates", candidates == null ? null : candidates.specName());
        n.put("samples", samples);
        n.put("seqLen", seqLen);
        n.put("seed", seed);
        n.put("batchSize", batchSize);
        n.put("output", output == null ? null : output.specName());
        n.put("cacheBudgetMb", cacheBudgetMb);
        return n;
    }

    /**
     * Reads the spec's fields with {@code r}, adding every problem (wrong types, unknown values, and then
     * {@link #validate()}) to the reader. Missing optional fields take their defaults. Fields the reader's caller
     * does not read are left to its {@link SpecReader#finish()} to report as unknown.
     *
     * @return the spec (fields that could not be read left null or at their default)
     */
    public static PruneSpec read(SpecReader r) {
        int before = r.problems().size();
        String methodName = r.string("method", BlockPruner.NAME);
        PruneMethod method = methodName == null ? null : PruneMethods.find(methodName);
        if (methodName != null && method == null) {
            r.problem("method", "unknown '" + methodName + "', expected one of " + PruneMethods.known());
        }
        // checked by validate() and against the model
        Integer blocks = r.anyInt("blocks");
        Double ratio = r.anyNumber("targetRatio");
        String candName = r.string("candidates", Candidates.MIX.specName());
        Candidates candidates = candName == null ? null : Candidates.fromSpecName(candName);
        if (candName != null && candidates == null) {
            r.problem("candidates", "unknown '" + candName + "', expected mix, attention or mlp");
        }
        // bounded here, so that a wrong value is reported with its real bounds and the rest is still checked
        int samples = r.integer("samples", 1, MAX_SAMPLES, DEFAULT_SAMPLES);
        int seqLen = r.integer("seqLen", 2, MAX_SEQ_LEN, DEFAULT_SEQ_LEN);
        long seed = r.longInteger("seed", DEFAULT_SEED);
        int batch = r.integer("batchSize", 1, MAX_BATCH_SIZE, DEFAULT_BATCH_SIZE);
        String outName = r.string("output", OutputForm.MASKED.specName());
        OutputForm output = outName == null ? null : OutputForm.fromSpecName(outName);
        if (outName != null && output == null) {
            r.problem("output", "unknown '" + outName + "', expected masked or compact");
        }
        int cache = r.integer("cacheBudgetMb", 0, MAX_CACHE_BUDGET_MB, DEFAULT_CACHE_BUDGET_MB);
        PruneSpec spec = new PruneSpec(method, blocks, ratio, candidates, samples, seqLen, seed, batch, output, cache);
        // the spec's own checks, except for fields already reported (a wrong value is not also "missing")
        List<String> reported = r.problems().subList(before, r.problems().size()).stream()
                .map(p -> p.substring(0, Math.max(0, p.indexOf(':')))).toList();
        for (String problem : spec.validate()) {
            String fields = problem.substring(0, Math.max(0, problem.indexOf(':')));
            if (java.util.Arrays.stream(fields.split("/")).noneMatch(reported::contains)) {
                r.problems().add(problem);
            }
        }
        return spec;
    }

    /**
     * Parses the JSON form on its own: {@link #read}, and every field that is neither the spec's nor one of
     * {@code extraFields} is reported as unknown.
     *
     * @param extraFields fields the caller handles itself (e.g. a job's {@code model}, {@code dataset})
     */
    public static PruneSpec fromJson(JsonNode json, Set<String> extraFields, List<String> problems) {
        if (json == null || !json.isObject()) {
            problems.add("spec: must be a JSON object");
            return null;
        }
        SpecReader r = SpecReader.of(json);
        r.allow(extraFields.toArray(String[]::new));
        PruneSpec spec = read(r);
        r.finish();
        problems.addAll(r.problems());
        return spec;
    }

    /** Parses and validates, or throws {@link InvalidPruneSpecException} listing every problem. */
    public static PruneSpec parse(JsonNode json) {
        List<String> problems = new ArrayList<>();
        PruneSpec spec = fromJson(json, Set.of(), problems);
        if (!problems.isEmpty()) {
            throw new InvalidPruneSpecException(problems);
        }
        return spec;
    }
}
