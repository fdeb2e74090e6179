package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.kernel.Chunks;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DARE's and DELLA's random keep masks behave like independent Bernoulli draws: the keep rate is the density
 * (within 3 sigma), and the masks of neighbouring chunks (DARE) and rows (DELLA) agree at chance level at every
 * small shift, so no chunk's or row's stream is another's shifted by a few draws. The output is the same for 1, 2
 * and 16 merge threads. FP32 checkpoints with weight 1 and no rescaling, so that a dropped element is exactly the
 * base's value and a kept one is not.
 */
class RandomMaskIndependenceTest {

    private static final String EMBED = "model.embed_tokens.weight";
    /** 1024 x 512 embeddings: two chunks of 2^18 elements each, 1024 rows of 512. */
    private static final TinyLlama MODEL = new TinyLlama(1024, 512, 64, 1, 4, 4, false, DType.F32);

    @TempDir
    Path tmp;

    @Test
    void dareKeepsAtTheDensityAndNeighbouringChunksAreIndependentForAnyThreadCount() throws IOException {
        double density = 0.3;
        float[][] r = merged("dare_linear", "density: " + density, "{}");
        float[] base = r[0];
        float[] x = r[1];
        float[] out = r[2];
        int[] keep = mask(base, x, out);
        assertKeepRate(keep, density);
        assertThat(keep.length).isEqualTo(2 * Chunks.SIZE);
        int[] chunk0 = Arrays.copyOfRange(keep, 0, Chunks.SIZE);
        int[] chunk1 = Arrays.copyOfRange(keep, Chunks.SIZE, 2 * Chunks.SIZE);
        for (int lag = -3; lag <= 3; lag++) {
            assertChanceAgreement("chunks 0 and 1 at shift " + lag, chunk0, chunk1, lag, density);
        }
    }

    @Test
    void dellaKeepsAtTheDensityAndNeighbouringRowsAreIndependentForAnyThreadCount() throws IOException {
        // epsilon 0: every rank keeps with probability density, so a row's decisions in rank order are its
        // stream's draws compared with one threshold
        double density = 0.5;
        float[][] r = merged("della_linear", "density: " + density + ", epsilon: 0.0", "{rescale: false}");
        float[] base = r[0];
        float[] x = r[1];
        float[] out = r[2];
        int[] keep = mask(base, x, out);
        assertKeepRate(keep, density);
        int columns = MODEL.hidden();
        int rows = keep.length / columns;
        int[][] byRank = new int[rows][];
        for (int row = 0; row < rows; row++) {
            byRank[row] = inRankOrder(keep, base, x, row * columns, columns);
        }
        for (int lag = -3; lag <= 3; lag++) {
            // all pairs of neighbouring rows together, so that a shift of one draw shows as full agreement
            int[] a = new int[(rows - 1) * columns];
            int[] b = new int[(rows - 1) * columns];
            for (int row = 0; row + 1 < rows; row++) {
                int[] shifted = shift(byRank[row], lag);
                System.arraycopy(shifted, 0, a, row * columns, columns);
                System.arraycopy(byRank[row + 1], 0, b, row * columns, columns);
            }
            assertChanceAgreement("rows r and r+1 at shift " + lag, a, b, 0, density);
        }
    }

    /** Merges base and one model with weight 1 on 1, 2 and 16 threads; returns base, model and output embeddings. */
    private float[][] merged(String method, String params, String global) throws IOException {
        Path base = MODEL.write(tmp.resolve("base"), 1);
        Path x = MODEL.writeVariant(tmp.resolve("x"), 1, 2, 0.05f);
        String yaml = "merge_method: " + method + "\nbase_model: base\nparameters: " + global + "\nmodels:\n  - model: x\n    parameters: {weight: 1.0, "
                + params + "}\n";
        byte[] first = null;
        for (int threads : new int[]{1, 2, 16}) {
            Path out = tmp.resolve("out-" + method + "-" + threads);
            new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(tmp), out,
                    MergeOptions.defaults().withThreads(threads).withSeed(11), dev.amalgam.job.Progress.NONE);
            byte[] bytes = Files.readAllBytes(out.resolve("model.safetensors"));
            if (first == null) {
                first = bytes;
            } else {
                assertThat(bytes).as("output with " + threads + " threads").isEqualTo(first);
            }
        }
        return new float[][]{read(base, EMBED), read(x, EMBED), read(tmp.resolve("out-" + method + "-1"), EMBED)};
    }

    private static float[] read(Path dir, String tensor) {
        try (HfModelDir m = HfModelDir.open(dir)) {
            return m.tensor(tensor).toFloatArray();
        }
    }

    /** 1 where the output moved off the base (the delta was kept), 0 where it is the base (every delta is non-zero). */
    private static int[] mask(float[] base, float[] x, float[] out) {
        int[] keep = new int[out.length];
        for (int i = 0; i < out.length; i++) {
            assertThat(x[i]).as("element %d differs between base and model", i).isNotEqualTo(base[i]);
            keep[i] = out[i] != base[i] ? 1 : 0; // a dropped delta leaves the base exactly
        }
        return keep;
    }

    private static void assertKeepRate(int[] keep, double density) {
        int n = keep.length;
        long kept = Arrays.stream(keep).asLongStream().sum();
        double sigma = Math.sqrt(n * density * (1 - density));
        assertThat(Math.abs(kept - n * density)).as("kept %d of %d at density %s", kept, n, density)
                .isLessThan(3 * sigma);
    }

    /**
     * Independent Bernoulli(p) masks agree with probability p^2 + (1-p)^2; asserts the share of positions i where
     * a[i + lag] == b[i] is within 4 sigma of that.
     */
    private static void assertChanceAgreement(String what, int[] a, int[] b, int lag, double p) {
        long agree = 0;
        long pairs = 0;
        for (int i = Math.max(0, -lag); i < b.length && i + lag < a.length; i++) {
            agree += a[i + lag] == b[i] ? 1 : 0;
            pairs++;
        }
        double q = p * p + (1 - p) * (1 - p);
        double sigma = Math.sqrt(q * (1 - q) / pairs);
        double share = (double) agree / pairs;
        assertThat(Math.abs(share - q)).as("%s: agreement %s, chance %s", what, share, q).isLessThan(4 * sigma);
    }

    /** The row's keep decisions ordered by ascending |x - base| (ties by column, as DELLA ranks them). */
    private static int[] inRankOrder(int[] keep, float[] base, float[] x, int off, int columns) {
        Integer[] order = new Integer[columns];
        for (int c = 0; c < columns; c++) {
            order[c] = c;
        }
        float[] mag = new float[columns];
        for (int c = 0; c < columns; c++) {
            mag[c] = Math.abs(x[off + c] - base[off + c]);
        }
        Arrays.sort(order, (i, j) -> mag[i] != mag[j] ? Float.compare(mag[i], mag[j]) : Integer.compare(i, j));
        int[] res = new int[columns];
        for (int k = 0; k < columns; k++) {
            res[k] = keep[off + order[k]];
        }
        return res;
    }

    /** a shifted by lag positions (res[i] = a[i + lag]), wrapping around. */
    private static int[] shift(int[] a, int lag) {
        int[] res = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            res[i] = a[Math.floorMod(i + lag, a.length)];
        }
        return res;
    }
}
