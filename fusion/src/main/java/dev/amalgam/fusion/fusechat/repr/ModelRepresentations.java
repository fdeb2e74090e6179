package dev.amalgam.fusion.fusechat.repr;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.amalgam.fusion.fusechat.FuseChatObjective;
import dev.amalgam.job.Progress;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.ChatTemplate;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step 1 of FuseChat on the engine: one forward per sample of a chat corpus (no gradients), keeping per position
 * the top-k logits among the first len(tokenizer) columns with their ids, and metric_ce, the mean CE of the
 * learned next tokens (as {@link dev.amalgam.fusion.fusechat.Representations} defines them), written as a
 * representation dataset ({@link RepresentationFormat}).
 *
 * <p>Each sample is rendered with the pivot's chat template and tokenised by the model's own tokenizer
 * ({@link ChatSampleTokenizer}). Samples are batched in corpus order, right-padded, while a batch stays small
 * ({@link RepresentationSettings}). The top-k and the log-softmax run on the model's device and only [T, k] and
 * [T] come back. Progress after every batch; cancellation between batches (a cancelled run leaves an unfinished
 * directory, without meta.json, and starts over when run again).
 *
 * <pre>{@code
 * RepresentationSummary s = ModelRepresentations.run(sourceDir, pivotDir, corpus, outDir,
 *         RepresentationSettings.defaults(), EngineOptions.cpu(), Progress.NONE);
 * }</pre>
 */
public final class ModelRepresentations {

    private final LlamaModel model;
    private final ChatSampleTokenizer tokenizer;
    private final RepresentationSettings settings;
    private final int vocabSize;
    private final int padId;

    /**
     * @param vocabSize len(tokenizer): top-k ids are taken below it
     * @param padId the id the padding positions carry (masked out, never read)
     */
    public ModelRepresentations(LlamaModel model, ChatSampleTokenizer tokenizer, RepresentationSettings settings,
                                int vocabSize, int padId) {
        if (vocabSize < settings.topK()) {
            throw new IllegalArgumentException("topK " + settings.topK() + " exceeds the vocabulary size " + vocabSize);
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.settings = settings;
        this.vocabSize = vocabSize;
        this.padId = padId;
    }

    /**
     * The problems of running {@code modelDir} with {@code settings} and the chat template of {@code templateDir},
     * read from their config and tokenizer files only (for a 422 before a job is queued).
     */
    public static List<String> validate(Path modelDir, Path templateDir, RepresentationSettings settings) {
        return validate(modelDir, templateDir, settings, "templateModel");
    }

    /** Like {@link #validate(Path, Path, RepresentationSettings)}, naming the template model's problems {@code templateField}. */
    public static List<String> validate(Path modelDir, Path templateDir, RepresentationSettings settings,
                                        String templateField) {
        List<String> problems = new ArrayList<>();
        try {
            LlamaConfig config = LlamaConfig.read(modelDir.resolve(HfModelDir.CONFIG_FILE));
            if (settings.maxLength() > config.maxPositionEmbeddings()) {
                problems.add("maxLength: " + settings.maxLength() + " exceeds the model's max_position_embeddings "
                        + config.maxPositionEmbeddings());
            }
            int size = Math.min(config.vocabSize(), TokenizerVocabulary.read(modelDir).size());
            if (settings.topK() > size) {
                problems.add("topK: " + settings.topK() + " exceeds the model's vocabulary size " + size);
            }
        } catch (RuntimeException e) {
            problems.add("model: " + e.getMessage());
        }
        try (TextTokenizer t = TextTokenizer.load(templateDir)) {
            if (t.chatTemplate().isEmpty()) {
                problems.add(templateField + ": the model has no chat template");
            }
        } catch (RuntimeException e) {
            problems.add(templateField + ": " + e.getMessage());
        }
        return problems;
    }

    /** Loads the model and both tokenizers, writes the dataset into {@code outDir}, and frees everything. */
    public static RepresentationSummary run(Path modelDir, Path templateDir, Path corpus, Path outDir,
                                            RepresentationSettings settings, EngineOptions engine, Progress progress) {
        return run(modelDir, modelDir.getFileName().toString(), templateDir, templateDir.getFileName().toString(), corpus,
                outDir, settings, engine, progress);
    }

    /**
     * Like {@link #run(Path, Path, Path, Path, RepresentationSettings, EngineOptions, Progress)}, with the names
     * {@code meta.json} gives the model and the template model (e.g. their artifact names; by default the
     * directories' names).
     */
    public static RepresentationSummary run(Path modelDir, String modelName, Path templateDir, String templateName,
                                            Path corpus, Path outDir, RepresentationSettings settings,
                                            EngineOptions engine, Progress progress) {
        DjlRuntime.disableGradientsOnThisThread();
        long total = ChatCorpus.count(corpus);
        int vocabSize = Math.min(LlamaConfig.read(modelDir.resolve(HfModelDir.CONFIG_FILE)).vocabSize(),
                TokenizerVocabulary.read(modelDir).size());
        ChatTemplate pivotTemplate;
        try (TextTokenizer pivot = TextTokenizer.load(templateDir)) {
            pivotTemplate = pivot.chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                    templateDir + " has no chat template"));
        }
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("source", "engine");
        info.put("model", modelName);
        info.put("template_model", templateName);
        info.put("max_length", settings.maxLength());
        try (TextTokenizer own = TextTokenizer.load(modelDir);
                LlamaModel model = CheckpointLoader.load(modelDir, engine);
                RepresentationWriter writer = RepresentationWriter.create(outDir, settings.topK(), vocabSize, info)) {
            int pad = own.padTokenId().or(own::eosTokenId).orElse(0);
            ModelRepresentations runner = new ModelRepresentations(model,
                    new ChatSampleTokenizer(own, pivotTemplate, settings.maxLength()), settings, vocabSize, pad);
            RepresentationSummary summary = runner.run(corpus, total, writer, progress);
            writer.finish();
            return summary;
        }
    }

    private RepresentationSummary run(Path corpus, long total, RepresentationWriter writer, Progress progress) {
        Stats stats = new Stats();
        List<TokenizedSample> batch = new ArrayList<>();
        long[] done = {0};
        ChatCorpus.read(corpus, sample -> {
            TokenizedSample t = tokenizer.tokenize(sample);
            int longest = Math.max(t.length(), batch.stream().mapToInt(TokenizedSample::length).max().orElse(0));
            if (!batch.isEmpty() && (batch.size() == settings.batchSize()
                    || 4L * (batch.size() + 1) * longest * model.config().vocabSize()
                    > RepresentationSettings.MAX_BATCH_LOGIT_BYTES)) {
                flush(batch, writer, stats, progress, done, total);
            }
            batch.add(t);
        });
        if (!batch.isEmpty()) {
            flush(batch, writer, stats, progress, done, total);
        }
        return stats.summary(writer, settings.topK(), vocabSize);
    }

    private void flush(List<TokenizedSample> batch, RepresentationWriter writer, Stats stats, Progress progress,
                       long[] done, long total) {
        progress.throwIfCancelled();
        for (SampleRepresentation s : represent(batch)) {
            writer.write(s);
            stats.add(s.metricCe());
        }
        done[0] += batch.size();
        progress.progress(total == 0 ? 1 : done[0] / (double) total,
                "represented " + done[0] + " of " + total + " samples");
        batch.clear();
    }

    /** The representations of a batch of samples, in their order. */
    public List<SampleRepresentation> represent(List<TokenizedSample> batch) {
        int b = batch.size();
        int len = batch.stream().mapToInt(TokenizedSample::length).max().orElseThrow();
        int k = settings.topK();
        long[][] ids = new long[b][len];
        long[][] mask = new long[b][len];
        long[][] next = new long[b][len]; // the gold next id where it is learned, else 0 (its CE is not used)
        for (int i = 0; i < b; i++) {
            int[] in = batch.get(i).inputIds();
            int[] labels = batch.get(i).labels();
            for (int t = 0; t < len; t++) {
                ids[i][t] = t < in.length ? in[t] : padId;
                mask[i][t] = t < in.length ? 1 : 0;
                next[i][t] = t + 1 < labels.length && labels[t + 1] != FuseChatObjective.IGNORE_INDEX
                        ? labels[t + 1] : 0;
            }
        }
        float[] topValues;
        long[] topIds;
        float[] goldLogProbs;
        try (NDManager m = model.manager().newSubManager()) {
            NDArray logits = model.logits(m.create(ids), m.create(mask), BlockMask.none()); // [b, len, V] FP32
            NDArray columns = vocabSize < logits.getShape().get(2)
                    ? logits.get(new NDIndex(":, :, :" + vocabSize)) : logits;
            NDList top = columns.topK(k, -1, true, true);
            topValues = top.get(0).toType(DataType.FLOAT32, false).toFloatArray();
            topIds = top.get(1).toType(DataType.INT64, false).toLongArray();
            NDArray gold = logits.logSoftmax(-1).gather(m.create(next).toDevice(logits.getDevice(), false)
                    .expandDims(2), 2);
            goldLogProbs = gold.toFloatArray(); // [b, len]
        }
        List<SampleRepresentation> out = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            TokenizedSample s = batch.get(i);
            int n = s.length();
            int[] rowIds = new int[n * k];
            float[] rowValues = new float[n * k];
            for (int t = 0; t < n; t++) {
                int from = (i * len + t) * k;
                for (int j = 0; j < k; j++) {
                    rowIds[t * k + j] = (int) topIds[from + j];
                    rowValues[t * k + j] = topValues[from + j];
                }
                lowerIdFirstOnTies(rowIds, rowValues, t * k, k);
            }
            int[] labels = s.labels();
            double sum = 0;
            int learned = 0;
            for (int t = 0; t + 1 < n; t++) {
                if (labels[t + 1] != FuseChatObjective.IGNORE_INDEX) {
                    sum -= goldLogProbs[i * len + t];
                    learned++;
                }
            }
            out.add(new SampleRepresentation(s.id(), s.inputIds(), labels, learned == 0 ? Double.NaN : sum / learned,
                    k, rowIds, rowValues));
        }
        return out;
    }

    /** Orders equal logits of one row by ascending id, as {@code Representations.topK} does (torch leaves it open). */
    private static void lowerIdFirstOnTies(int[] ids, float[] values, int from, int k) {
        for (int a = from + 1; a < from + k; a++) {
            int id = ids[a];
            float v = values[a];
            int at = a;
            while (at > from && values[at - 1] == v && ids[at - 1] > id) {
                ids[at] = ids[at - 1];
                values[at] = values[at - 1];
                at--;
            }
            ids[at] = id;
            values[at] = v;
        }
    }

    /** Counts the metric over a run. */
    static final class Stats {
        private long unsupervised;
        private double sum;
        private long finite;

        void add(double metricCe) {
            if (Double.isNaN(metricCe)) {
                unsupervised++;
            } else {
                sum += metricCe;
                finite++;
            }
        }

        RepresentationSummary summary(RepresentationWriter writer, int k, int vocabSize) {
            return new RepresentationSummary(writer.samples(), writer.positions(), k, vocabSize, unsupervised,
                    finite == 0 ? Double.NaN : sum / finite);
        }
    }
}
