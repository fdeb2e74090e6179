package dev.amalgam.merge.kernel;

import java.util.SplittableRandom;

/**
 * Seeds for independent random streams, derived with SplitMix64: substream {@code i} of a seed {@code s} is
 * seeded with {@code mix64(s + (i + 1) * GOLDEN_GAMMA)}, the i-th output of a SplitMix64 generator started at
 * {@code s} (what {@code new SplittableRandom(s)} returns from its (i+1)-th {@code nextLong()}).
 *
 * <p>Why not {@code new SplittableRandom(s + i * GOLDEN_GAMMA)}: GOLDEN_GAMMA is that generator's own step, so
 * stream i + 1 would be stream i shifted by one draw and neighbouring chunks' masks would be the same mask
 * shifted by one element. Mixed seeds are 64-bit pseudo-random values, so two streams of up to 2^18 draws
 * overlap with probability about 2^-45.
 */
public final class RandomStreams {

    /** SplitMix64's increment (the odd integer closest to 2^64 / phi), also {@link SplittableRandom}'s. */
    public static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private RandomStreams() {
    }

    /** SplitMix64's finaliser (Stafford's variant 13): a bijection of 64-bit values that mixes every bit. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The seed of substream {@code index} (0, 1, ...) of {@code seed}. */
    public static long seed(long seed, long index) {
        return mix64(seed + (index + 1) * GOLDEN_GAMMA);
    }

    /** A generator for substream {@code index} of {@code seed}. */
    public static SplittableRandom stream(long seed, long index) {
        return new SplittableRandom(seed(seed, index));
    }
}
