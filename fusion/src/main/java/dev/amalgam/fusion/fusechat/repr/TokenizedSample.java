package dev.amalgam.fusion.fusechat.repr;

import dev.amalgam.fusion.fusechat.FuseChatObjective;

/**
 * One sample as one model sees it: its token ids and unshifted causal-LM labels (the id where the token is learned,
 * -100 elsewhere; labels[t] is the target of the logits at t - 1).
 */
public record TokenizedSample(String id, int[] inputIds, int[] labels) {

    public TokenizedSample {
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException("sample " + id + " has " + inputIds.length + " ids but "
                    + labels.length + " labels");
        }
        if (inputIds.length == 0) {
            throw new IllegalArgumentException("sample " + id + " has no tokens");
        }
        for (int t = 0; t < labels.length; t++) {
            if (labels[t] != FuseChatObjective.IGNORE_INDEX && labels[t] != inputIds[t]) {
                throw new IllegalArgumentException("sample " + id + ": label " + labels[t] + " at position " + t
                        + " is neither -100 nor the token there (" + inputIds[t] + ")");
            }
        }
        inputIds = inputIds.clone();
        labels = labels.clone();
    }

    @Override
    public int[] inputIds() {
        return inputIds.clone();
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    public int length() {
        return inputIds.length;
    }
}
