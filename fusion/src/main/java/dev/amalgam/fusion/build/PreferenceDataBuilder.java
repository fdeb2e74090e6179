package dev.amalgam.fusion.build;

import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.data.Split;
import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.generate.GeneratedSequence;
import dev.amalgam.modelengine.generate.GenerationConfig;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.generate.Generator;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Builds WRPO records from prompts with scored candidates, as the reference pipeline: candidates without a score are
 * scored by a {@link ResponseScorer} (a reward model); y_ws is the best source response; the prompts are shuffled
 * with the seed and a {@code sftFraction} share becomes SFT records (prompt + y_ws); for every other prompt the
 * target's own samples (given, or sampled on-policy with the engine's generation) are scored and the best becomes
 * y_wt, the worst y_l. Ties keep the earliest candidate (numpy's argmax/argmin, as the reference); a prompt whose own
 * samples are all the same text is dropped, as the reference's post-processing does (samples that differ but score
 * the same are kept: y_wt and y_l are then the same, first, sample). With {@link PairRule#FUSECHAT3} the pairs come
 * from the sources instead (see there). Dropped prompts are counted ({@link Completed}).
 *
 * <pre>{@code
 * try (ResponseScorer rm = ResponseScorer.rewardModel(rmDir, EngineOptions.cpu())) {
 *     List<PreferenceRecord> records = PreferenceDataBuilder.build(prompts, rm, target, tokenizer,
 *             BuildSettings.reference());
 *     PreferenceJsonl.write(out, records);
 * }
 * }</pre>
 */
public final class PreferenceDataBuilder {

    private PreferenceDataBuilder() {
    }

    /**
     * The reference pipeline's split: prompts shuffled with the seed; the first {@code sftFraction} become SFT records
     * (prompt + best source response); the indices of the others are left for {@link #complete} (after the SFT stage).
     *
     * @param sft SFT records in shuffled order
     * @param preferenceIndices indices into the prompt list, in shuffled order
     */
    public record SplitPrompts(List<PreferenceRecord> sft, List<Integer> preferenceIndices) {
    }

    /** Splits the prompts; scores the SFT prompts' source responses with {@code scorer} where unscored. */
    public static SplitPrompts split(List<PromptCandidates> prompts, ResponseScorer scorer, BuildSettings settings) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(settings.seed()));
        int sftCount = (int) Math.round(settings.sftFraction() * prompts.size());
        List<PreferenceRecord> sft = new ArrayList<>();
        for (int index : order.subList(0, sftCount)) {
            PromptCandidates p = prompts.get(index);
            sft.add(new PreferenceRecord(p.prompt(), List.of(sourceBest(p, scorer)), List.of(), Split.SFT,
                    p.promptId()));
        }
        return new SplitPrompts(sft, List.copyOf(order.subList(sftCount, order.size())));
    }

    /**
     * The preference records of {@link #completeCounted}, in shuffled prompt order.
     *
     * @param target in the reference pipeline the target after its SFT stage (null if every prompt has target
     *     responses, or with the fusechat3 pair rule)
     */
    public static List<PreferenceRecord> complete(List<PromptCandidates> prompts, List<Integer> indices,
            ResponseScorer scorer, LlamaModel target, TextTokenizer targetTokenizer, BuildSettings settings) {
        return completeCounted(prompts, indices, scorer, target, targetTokenizer, settings).records();
    }

    /**
     * Preference records and the count of prompts dropped, by reason.
     *
     * @param records the built records
     * @param identicalSamples prompts dropped because the target's own samples were all the same text (wrpo)
     * @param noPairInMargin prompts dropped because no source's best/worst margin lay in the window (fusechat3)
     */
    public record Completed(List<PreferenceRecord> records, int identicalSamples, int noPairInMargin) {
    }

    /**
     * Preference records of the prompts at {@code indices}: with the wrpo pair rule y_ws = best source response,
     * y_wt / y_l = best / worst of the target's own responses (given, or sampled from {@code target}; prompt i
     * samples with seed + i); with fusechat3 one source's own best and worst.
     */
    public static Completed completeCounted(List<PromptCandidates> prompts, List<Integer> indices,
            ResponseScorer scorer, LlamaModel target, TextTokenizer targetTokenizer, BuildSettings settings) {
        List<PreferenceRecord> preference = new ArrayList<>();
        int identical = 0;
        int noPair = 0;
        for (int index : indices) {
            PromptCandidates p = prompts.get(index);
            if (settings.pairRule() == PairRule.FUSECHAT3) {
                PreferenceRecord r = sameSourcePair(p, index, scorer, settings);
                if (r == null) {
                    noPair++;
                } else {
                    preference.add(r);
                }
                continue;
            }
            List<Candidate> own = p.targetResponses();
            if (own.isEmpty()) {
                own = sample(p, target, targetTokenizer, settings, index);
            }
            if (own.size() < 2) {
                throw new IllegalArgumentException("prompt " + index + " has " + own.size()
                        + " target response(s); best and worst need two");
            }
            if (own.stream().map(Candidate::text).distinct().count() == 1) {
                identical++; // every own sample is the same text: no preference to learn from this prompt
                continue;
            }
            double[] s = scores(p, own, scorer);
            preference.add(new PreferenceRecord(p.prompt(), List.of(sourceBest(p, scorer), own.get(best(s)).text()),
                    List.of(own.get(worst(s)).text()), Split.PREFERENCE, p.promptId()));
        }
        return new Completed(preference, identical, noPair);
    }

    /**
     * FuseChat-3.0's pair of one prompt: per source its own best and worst response; among the sources whose margin
     * (best - worst score) lies in [minMargin, maxMargin], the one with the highest best score (first on ties); null
     * when none qualifies.
     */
    static PreferenceRecord sameSourcePair(PromptCandidates p, int index, ResponseScorer scorer,
            BuildSettings settings) {
        double[] s = scores(p, p.sourceResponses(), scorer);
        java.util.Map<String, List<Integer>> bySource = new java.util.LinkedHashMap<>();
        for (int i = 0; i < s.length; i++) {
            String source = p.sourceResponses().get(i).source();
            if (source == null) {
                throw new IllegalArgumentException("prompt " + index + ": source_responses[" + i + "] has no \"source\""
                        + " (the fusechat3 pair rule pairs responses of one source)");
            }
            bySource.computeIfAbsent(source, k -> new ArrayList<>()).add(i);
        }
        int bestChosen = -1;
        int bestRejected = -1;
        for (List<Integer> own : bySource.values()) {
            double[] os = own.stream().mapToDouble(i -> s[i]).toArray();
            int b = own.get(best(os));
            int w = own.get(worst(os));
            double margin = s[b] - s[w];
            if (margin >= settings.minMargin() && margin <= settings.maxMargin()
                    && (bestChosen < 0 || s[b] > s[bestChosen])) {
                bestChosen = b;
                bestRejected = w;
            }
        }
        if (bestChosen < 0) {
            return null;
        }
        return new PreferenceRecord(p.prompt(), List.of(p.sourceResponses().get(bestChosen).text()),
                List.of(p.sourceResponses().get(bestRejected).text()), Split.PREFERENCE, p.promptId());
    }

    /**
     * {@link #split} and {@link #complete} in one go, sampling with the given target (use the two steps to sample
     * with the SFT model instead, as the reference does).
     *
     * @param scorer scores unscored candidates (may be null when every candidate carries a score)
     * @param target samples the target's responses for prompts without target candidates (null if all have them)
     * @param targetTokenizer the target's tokenizer (chat template, EOS), null with {@code target}
     * @return SFT records first, then preference records, each group in shuffled prompt order
     */
    public static List<PreferenceRecord> build(List<PromptCandidates> prompts, ResponseScorer scorer,
            LlamaModel target, TextTokenizer targetTokenizer, BuildSettings settings) {
        SplitPrompts split = split(prompts, scorer, settings);
        List<PreferenceRecord> out = new ArrayList<>(split.sft());
        out.addAll(complete(prompts, split.preferenceIndices(), scorer, target, targetTokenizer, settings));
        return out;
    }

    private static String sourceBest(PromptCandidates p, ResponseScorer scorer) {
        return p.sourceResponses().get(best(scores(p, p.sourceResponses(), scorer))).text();
    }

    private static double[] scores(PromptCandidates p, List<Candidate> candidates, ResponseScorer scorer) {
        double[] s = new double[candidates.size()];
        List<String> unscored = new ArrayList<>();
        for (Candidate c : candidates) {
            if (c.score() == null) {
                unscored.add(c.text());
            }
        }
        double[] computed = new double[0];
        if (!unscored.isEmpty()) {
            if (scorer == null) {
                throw new IllegalArgumentException("candidates without a score need a reward model");
            }
            computed = scorer.score(p.prompt(), unscored);
        }
        int j = 0;
        for (int i = 0; i < candidates.size(); i++) {
            Double given = candidates.get(i).score();
            s[i] = given != null ? given : computed[j++];
        }
        return s;
    }

    /** The target's own samples for one prompt: {@code targetSamples} sequences, seeded by prompt index. */
    static List<Candidate> sample(PromptCandidates p, LlamaModel target, TextTokenizer tokenizer,
            BuildSettings settings, long promptIndex) {
        if (target == null || tokenizer == null) {
            throw new IllegalArgumentException("a prompt without target responses needs the target model to sample");
        }
        return sampleResponses(target, tokenizer, p.prompt(), settings.targetSamples(), settings.sampling(promptIndex));
    }

    /**
     * {@code n} unscored responses of {@code model} to {@code prompt} (rendered with the model's chat template), in
     * one batch: the target's on-policy samples, or a source model's when the source runs on the engine.
     */
    public static List<Candidate> sampleResponses(LlamaModel model, TextTokenizer tokenizer, List<ChatMessage> prompt,
            int n, GenerationConfig config) {
        int[] ids = tokenizer.encodeChat(prompt, true);
        // as vLLM caps a sequence at the model's context: at most max_position_embeddings - prompt tokens new ones
        int room = model.config().maxPositionEmbeddings() - ids.length;
        if (room <= 0) {
            throw new IllegalArgumentException("a prompt of " + ids.length + " tokens leaves no room to sample in the "
                    + "model's max_position_embeddings " + model.config().maxPositionEmbeddings());
        }
        if (config.maxNewTokens() > room) {
            config = new GenerationConfig(room, config.temperature(), config.topP(), config.topK(), config.seed(),
                    config.stopAtEos());
        }
        List<int[]> batch = Collections.nCopies(n, ids);
        Set<Integer> eos = tokenizer.eosTokenIds(model.config().eosTokenIds());
        List<GeneratedSequence> seqs = new Generator(model, BlockMask.none()).generate(batch, config, eos);
        List<Candidate> out = new ArrayList<>();
        for (GeneratedSequence g : seqs) {
            out.add(new Candidate(tokenizer.decode(g.tokens(), true), null));
        }
        return out;
    }

    /**
     * File to file, for the CLI and the job handler: reads prompts with candidates ({@link CandidatesJsonl}),
     * scores unscored ones with the reward model at {@code rewardModelDirOrNull}, samples the target at
     * {@code targetModelDirOrNull} where a prompt has no target responses, and writes the records as JSONL
     * ({@link dev.amalgam.fusion.data.PreferenceJsonl}); returns how many records were written.
     */
    public static int buildFile(Path candidatesJsonl, Path rewardModelDirOrNull, Path targetModelDirOrNull,
            Path outJsonl, BuildSettings settings, EngineOptions options) {
        List<PromptCandidates> prompts = CandidatesJsonl.readAll(candidatesJsonl);
        boolean needsTarget = prompts.stream().anyMatch(p -> p.targetResponses().isEmpty());
        ResponseScorer scorer = rewardModelDirOrNull == null ? null
                : ResponseScorer.rewardModel(rewardModelDirOrNull, options);
        try (ResponseScorer closing = scorer;
                LlamaModel target = needsTarget && targetModelDirOrNull != null
                        ? CheckpointLoader.load(targetModelDirOrNull, options) : null;
                TextTokenizer tokenizer = target != null ? TextTokenizer.load(targetModelDirOrNull) : null) {
            List<PreferenceRecord> records = build(prompts, closing, target, tokenizer, settings);
            PreferenceJsonl.write(outJsonl, records);
            return records.size();
        }
    }

    static int best(double[] s) {
        int b = 0;
        for (int i = 1; i < s.length; i++) {
            b = s[i] > s[b] ? i : b;
        }
        return b;
    }

    static int worst(double[] s) {
        int w = 0;
        for (int i = 1; i < s.length; i++) {
            w = s[i] < s[w] ? i : w;
        }
        return w;
    }
}
