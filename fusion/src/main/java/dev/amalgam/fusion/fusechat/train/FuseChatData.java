package dev.amalgam.fusion.fusechat.train;

import dev.amalgam.fusion.fusechat.FuseChatObjective;
import dev.amalgam.fusion.fusechat.FusionCandidate;
import dev.amalgam.fusion.fusechat.FusionFunction;
import dev.amalgam.fusion.fusechat.KnowledgeFusion;
import dev.amalgam.fusion.fusechat.MetricLevel;
import dev.amalgam.fusion.fusechat.SparseDistribution;
import dev.amalgam.fusion.fusechat.TargetDistributions;
import dev.amalgam.fusion.fusechat.align.CoOccurrenceCounts;
import dev.amalgam.fusion.fusechat.align.DistributionAligner;
import dev.amalgam.fusion.fusechat.align.DtwAlignment;
import dev.amalgam.fusion.fusechat.align.TokenizedText;
import dev.amalgam.fusion.fusechat.align.TopK;
import dev.amalgam.fusion.fusechat.align.VocabMapping;
import dev.amalgam.fusion.fusechat.align.Vocabulary;
import dev.amalgam.fusion.fusechat.repr.RepresentationReader;
import dev.amalgam.fusion.fusechat.repr.SampleRepresentation;
import dev.amalgam.fusion.fusechat.repr.TokenizerVocabulary;
import dev.amalgam.job.CancelledException;
import dev.amalgam.job.Progress;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Steps 2 to 4 of FuseChat stage 1 over a corpus: reads the pivot's and one source's representation datasets (the
 * same corpus, matched by sample id), aligns the source's top-k to the pivot's tokens and vocabulary, and fuses them
 * with the pivot's own distribution into one target per position ({@link FuseChatExample}).
 *
 * <ul>
 *   <li>Same vocabulary (identical token lists) and identical ids: the source's rows are used as they are.</li>
 *   <li>Otherwise: per sample a DTW alignment of the two texts' tokens, each decoded on its own (FuseChat-2.0's
 *       comparison), then {@link DistributionAligner}; the vocabulary mapping for source tokens the pivot lacks is
 *       {@code ms} ({@link VocabMapping#mostSimilar}, counts of co-aligned pairs over the whole corpus, FuseChat-2.0's
 *       default) or {@code mined} ({@link VocabMapping#minEditDistance}: |V_source| x |V_pivot| edit distances).</li>
 *   <li>Targets: q = softmax(top-k / T) of the pivot and of the aligned source (where the aligned row is empty, the
 *       pivot's own); candidates = [pivot (if {@code includePivot}), source] with rewards from metric_ce (sequence
 *       level) or, at token level, -log q_t(gold next token) (floored at {@value #MIN_PROB}), then MinCE or
 *       AvgCE ({@link KnowledgeFusion}).</li>
 *   <li>A sample whose metric_ce is null (NaN) in either dataset is dropped, as the authors' filter does; a sample
 *       with no learned position left after cutting to {@code maxLength} is dropped too. Both are counted.</li>
 * </ul>
 *
 * <p>Everything is held in memory: about (8 + 12 k) bytes a supervised position for the targets (k = top-k), plus
 * both datasets while they are read.
 */
public final class FuseChatData {

    /** The floor of q_t(gold) in the token-level metric, so that a gold token outside the top-k stays finite. */
    public static final double MIN_PROB = 1e-10;

    /**
     * @param function MinCE or AvgCE
     * @param level sequence or token
     * @param temperature target softmax temperature
     * @param includePivot whether the pivot's own distribution is a candidate
     * @param vocabMapping {@code ms} or {@code mined}
     * @param maxLength positions kept per sample (the start)
     */
    public record Settings(FusionFunction function, MetricLevel level, double temperature, boolean includePivot,
                           String vocabMapping, int maxLength) {

        public static Settings of(FuseChatSpec spec) {
            return new Settings(spec.fusionFunction(), spec.metricLevel(), spec.temperature(), spec.includePivot(),
                    spec.vocabMapping(), spec.maxLength());
        }
    }

    /**
     * @param examples the training samples, in the pivot dataset's order
     * @param samples samples in the pivot dataset
     * @param droppedNoMetric dropped because a metric_ce was null
     * @param droppedNoLearnedToken dropped because no learned position was left after the cut
     * @param sameVocabulary whether the source rows were used as they are (no alignment)
     * @param oneHotPositions supervised positions whose aligned source row fell back to the one-hot
     * @param supervisedPositions supervised positions of the examples
     */
    public record Built(List<FuseChatExample> examples, int samples, int droppedNoMetric, int droppedNoLearnedToken,
                        boolean sameVocabulary, long oneHotPositions, long supervisedPositions) {

        public Map<String, Object> summary() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("samples", samples);
            m.put("examples", examples.size());
            m.put("droppedNoMetric", droppedNoMetric);
            m.put("droppedNoLearnedToken", droppedNoLearnedToken);
            m.put("sameVocabulary", sameVocabulary);
            m.put("supervisedPositions", supervisedPositions);
            m.put("oneHotPositions", oneHotPositions);
            return m;
        }
    }

    private FuseChatData() {
    }

    /**
     * @param pivotModelDir the pivot (target) model, for its tokenizer
     * @param pivotRepr the pivot's representation dataset
     * @param sourceModelDir the source model (only its tokenizer files are read)
     * @param sourceRepr the source's representation dataset of the same corpus
     */
    public static Built build(Path pivotModelDir, Path pivotRepr, Path sourceModelDir, Path sourceRepr,
                              Settings settings) {
        return build(pivotModelDir, pivotRepr, sourceModelDir, sourceRepr, settings, Progress.NONE);
    }

    /**
     * As {@link #build(Path, Path, Path, Path, Settings)}, reporting the alignment's progress as a fraction of the
     * samples aligned (0..1) and stopping with {@link CancelledException} between samples when cancelled.
     */
    public static Built build(Path pivotModelDir, Path pivotRepr, Path sourceModelDir, Path sourceRepr,
                              Settings settings, Progress progress) {
        List<SampleRepresentation> pivotSamples;
        List<SampleRepresentation> sourceSamples;
        TokenizerVocabulary pv = TokenizerVocabulary.read(pivotModelDir);
        TokenizerVocabulary sv = TokenizerVocabulary.read(sourceModelDir);
        try (RepresentationReader p = RepresentationReader.open(pivotRepr);
                RepresentationReader s = RepresentationReader.open(sourceRepr)) {
            checkVocabSize("pivot", pivotRepr, p.vocabSize(), pv.size());
            checkVocabSize("source", sourceRepr, s.vocabSize(), sv.size());
            pivotSamples = p.readAll();
            sourceSamples = s.readAll();
        }
        Map<String, SampleRepresentation> byId = new HashMap<>();
        for (SampleRepresentation s : sourceSamples) {
            if (byId.put(s.id(), s) != null) {
                throw new IllegalArgumentException(sourceRepr + ": sample id " + s.id() + " occurs twice");
            }
        }
        java.util.Set<String> pivotIds = new java.util.HashSet<>();
        List<String> missing = new ArrayList<>();
        for (SampleRepresentation p : pivotSamples) {
            if (!pivotIds.add(p.id())) {
                throw new IllegalArgumentException(pivotRepr + ": sample id " + p.id() + " occurs twice");
            }
            if (!byId.containsKey(p.id())) {
                missing.add(p.id());
            }
        }
        if (!missing.isEmpty() || byId.size() != pivotIds.size()) {
            throw new IllegalArgumentException("the pivot's and the source's representations are not of the same "
                    + "corpus: " + missing.size() + " pivot sample(s) missing in the source"
                    + (missing.isEmpty() ? "" : " (first: " + missing.get(0) + ")") + ", "
                    + (byId.size() - (pivotIds.size() - missing.size())) + " source sample(s) not in the pivot's");
        }
        try (TextTokenizer pt = TextTokenizer.load(pivotModelDir); TextTokenizer st = TextTokenizer.load(sourceModelDir)) {
            Vocabulary pivotVocab = vocabulary(pv, pt);
            Vocabulary sourceVocab = vocabulary(sv, st);
            boolean sameVocabulary = pivotVocab.tokens().equals(sourceVocab.tokens());
            Pieces pivotPieces = new Pieces(pt, pv.size());
            Pieces sourcePieces = new Pieces(st, sv.size());
            // pass 1: keep the samples with both metrics; align them (and count co-aligned pairs for MS)
            List<SampleRepresentation[]> kept = new ArrayList<>();
            int droppedNoMetric = 0;
            for (SampleRepresentation p : pivotSamples) {
                SampleRepresentation s = byId.get(p.id());
                if (Double.isNaN(p.metricCe()) || Double.isNaN(s.metricCe())) {
                    droppedNoMetric++;
                } else {
                    kept.add(new SampleRepresentation[] {p, s});
                }
            }
            List<DtwAlignment> alignments = new ArrayList<>();
            List<TokenizedText[]> texts = new ArrayList<>();
            CoOccurrenceCounts counts = new CoOccurrenceCounts();
            for (SampleRepresentation[] pair : kept) {
                if (progress.isCancelled()) {
                    throw new CancelledException("cancelled while aligning the source's representations");
                }
                if (alignments.size() % 256 == 0) {
                    progress.progress((double) alignments.size() / kept.size(), "aligning sample "
                            + alignments.size() + "/" + kept.size());
                }
                if (sameVocabulary && Arrays.equals(pair[0].inputIds(), pair[1].inputIds())) {
                    alignments.add(null);
                    texts.add(null);
                    continue;
                }
                TokenizedText ptext = pivotPieces.text(pair[0].inputIds());
                TokenizedText stext = sourcePieces.text(pair[1].inputIds());
                DtwAlignment a = DtwAlignment.fuseChatV2(stext.pieces(), ptext.pieces(), sourceVocab.wordMarker(),
                        pivotVocab.wordMarker());
                alignments.add(a);
                texts.add(new TokenizedText[] {ptext, stext});
                counts.add(pair[0].inputIds(), pair[1].inputIds(), a);
            }
            DistributionAligner aligner = null;
            if (alignments.stream().anyMatch(java.util.Objects::nonNull)) {
                VocabMapping mapping = "mined".equals(settings.vocabMapping())
                        ? VocabMapping.minEditDistance(sourceVocab, pivotVocab)
                        : VocabMapping.mostSimilar(counts, sourceVocab, pivotVocab);
                aligner = new DistributionAligner(pivotVocab, sourceVocab, mapping, true);
            }
            // pass 2: targets and fusion
            List<FuseChatExample> examples = new ArrayList<>();
            int droppedNoLearned = 0;
            long oneHot = 0;
            long supervised = 0;
            for (int i = 0; i < kept.size(); i++) {
                SampleRepresentation p = kept.get(i)[0];
                SampleRepresentation s = kept.get(i)[1];
                List<TopK> aligned = alignments.get(i) == null ? s.topK()
                        : aligner.align(texts.get(i)[0], texts.get(i)[1], s.topK(), alignments.get(i));
                FuseChatExample e = example(p, s, aligned, settings);
                if (e == null) {
                    droppedNoLearned++;
                    continue;
                }
                for (int t = 0; t + 1 < e.length(); t++) {
                    if (e.labels()[t + 1] != FuseChatObjective.IGNORE_INDEX) {
                        supervised++;
                        if (alignments.get(i) != null && aligned.get(t).size() == 1 && aligned.get(t).logit(0) == 1.0f
                                && aligned.get(t).id(0) == p.inputIds()[t + 1]) {
                            oneHot++;
                        }
                    }
                }
                examples.add(e);
            }
            return new Built(examples, pivotSamples.size(), droppedNoMetric, droppedNoLearned, sameVocabulary, oneHot,
                    supervised);
        }
    }

    /** One sample's fused targets; null when no learned position is left after the cut. */
    static FuseChatExample example(SampleRepresentation pivot, SampleRepresentation source, List<TopK> aligned,
                                   Settings settings) {
        int n = Math.min(pivot.length(), settings.maxLength());
        int[] ids = Arrays.copyOf(pivot.inputIds(), n);
        int[] labels = Arrays.copyOf(pivot.labels(), n);
        List<TopK> own = new ArrayList<>(n);
        for (int t = 0; t < n; t++) {
            TopK k = pivot.topK(t);
            // an imported dataset leaves its last position empty: a one-hot there (it is never learned)
            own.add(k.size() > 0 ? k : TopK.oneHot(ids[Math.min(t + 1, n - 1)]));
        }
        List<SparseDistribution> pivotQ = TargetDistributions.of(own, settings.temperature());
        List<SparseDistribution> sourceQ = TargetDistributions.ofAligned(aligned.subList(0, n), pivotQ,
                settings.temperature());
        boolean anyLearned = false;
        for (int t = 0; t + 1 < n; t++) {
            anyLearned |= labels[t + 1] != FuseChatObjective.IGNORE_INDEX;
        }
        if (!anyLearned) {
            return null;
        }
        List<FusionCandidate> candidates = new ArrayList<>();
        boolean token = settings.level() == MetricLevel.TOKEN;
        if (settings.includePivot()) {
            candidates.add(new FusionCandidate("pivot", pivotQ, pivot.metricCe(), token ? tokenCe(pivotQ, labels) : null));
        }
        candidates.add(new FusionCandidate("source", sourceQ, source.metricCe(), token ? tokenCe(sourceQ, labels) : null));
        List<SparseDistribution> fused = KnowledgeFusion.fuse(candidates, settings.function(), settings.level());
        List<SparseDistribution> targets = new ArrayList<>(n);
        for (int t = 0; t < n; t++) {
            boolean learned = t + 1 < n && labels[t + 1] != FuseChatObjective.IGNORE_INDEX;
            targets.add(learned ? fused.get(t) : null);
        }
        return new FuseChatExample(pivot.id(), ids, labels, targets);
    }

    /** Per-position CE of a candidate's targets against the gold next token, -log max(q_t(y), MIN_PROB). */
    static double[] tokenCe(List<SparseDistribution> q, int[] labels) {
        double[] ce = new double[q.size()];
        for (int t = 0; t + 1 < labels.length; t++) {
            if (labels[t + 1] != FuseChatObjective.IGNORE_INDEX) {
                ce[t] = -Math.log(Math.max(q.get(t).probOf(labels[t + 1]), MIN_PROB));
            }
        }
        return ce;
    }

    private static void checkVocabSize(String which, Path repr, int stored, int tokenizer) {
        if (stored != tokenizer) {
            throw new IllegalArgumentException(repr + ": the " + which + "'s representations have vocab_size " + stored
                    + " but its tokenizer has " + tokenizer + " tokens: they were computed with another model");
        }
    }

    /** The alignment's view of a tokenizer: raw token strings by id, its word marker, its special ids. */
    static Vocabulary vocabulary(TokenizerVocabulary v, TextTokenizer tokenizer) {
        String[] tokens = new String[v.size()];
        Arrays.fill(tokens, "");
        v.ids().forEach((token, id) -> {
            if (tokens[id].isEmpty() || token.compareTo(tokens[id]) < 0) {
                tokens[id] = token;
            }
        });
        boolean byteLevel = v.ids().keySet().stream().anyMatch(t -> t.contains(Vocabulary.BYTE_LEVEL_MARKER));
        boolean sentencePiece = v.ids().keySet().stream().anyMatch(t -> t.contains(Vocabulary.SENTENCEPIECE_MARKER));
        String marker = sentencePiece && !byteLevel ? Vocabulary.SENTENCEPIECE_MARKER : Vocabulary.BYTE_LEVEL_MARKER;
        int unk = v.id("<unk>");
        return new Vocabulary(List.of(tokens), marker, tokenizer.bosTokenId().orElse(Vocabulary.NONE),
                tokenizer.eosTokenId().orElse(Vocabulary.NONE), unk < 0 ? Vocabulary.NONE : unk);
    }

    /** Each token decoded on its own (FuseChat-2.0's {@code tokenizer.decode([id])}), cached per id. */
    private static final class Pieces {
        private final TextTokenizer tokenizer;
        private final String[] cache;

        Pieces(TextTokenizer tokenizer, int size) {
            this.tokenizer = tokenizer;
            this.cache = new String[size];
        }

        TokenizedText text(int[] ids) {
            List<String> pieces = new ArrayList<>(ids.length);
            for (int id : ids) {
                if (cache[id] == null) {
                    cache[id] = tokenizer.decode(new int[] {id}, false);
                }
                pieces.add(cache[id]);
            }
            return new TokenizedText(ids, pieces);
        }
    }
}
