package dev.amalgam.fusion.data;

/**
 * Token ids of one preference record after the chat template and truncation.
 *
 * @param prompt the prompt rendered with the generation prompt (kept from the end when cut)
 * @param sourceChosen y_ws tokens (chat-template suffix such as the EOS included)
 * @param targetChosen y_wt tokens
 * @param rejected y_l tokens
 */
public record TokenizedPreference(int[] prompt, int[] sourceChosen, int[] targetChosen, int[] rejected) {

    /** Tokens of the three responses, in the order source-chosen, target-chosen, rejected. */
    public int[][] responses() {
        return new int[][] {sourceChosen, targetChosen, rejected};
    }
}
