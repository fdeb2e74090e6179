package dev.amalgam.fusion.fusechat.align;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Token alignment of two tokenisations of the same text by dynamic time warping (FuseLLM / FuseChat step 2).
 *
 * <p>With source strings s_0..s_{n-1}, pivot strings p_0..p_{m-1} and a {@link TokenCost} c:
 * <pre>
 *   D[i][j] = c(s_i, p_j) + min(D[i-1][j], D[i][j-1], D[i-1][j-1]),   D[-1][-1] = 0, other borders infinite
 * </pre>
 * The path is traced back from (n-1, m-1) to (0, 0): at each cell it steps to the smallest of its three
 * predecessors (cells beyond the border count as infinite), ties going to the first in the {@link Backtrack}
 * order. Every pivot position ends up with at least one source position and vice versa; both lists are in
 * ascending order.
 *
 * @param pivotToSource for each pivot position, the aligned source positions
 * @param sourceToPivot for each source position, the aligned pivot positions
 * @param path the (source, pivot) cells of the path, from (0, 0) to (n-1, m-1)
 * @param cost D[n-1][m-1], the total cost of the path
 */
public record DtwAlignment(List<int[]> pivotToSource, List<int[]> sourceToPivot, List<int[]> path, double cost) {

    /** Which predecessor wins a tie in the trace-back. */
    public enum Backtrack {
        /** FuseLLM and FuseChat 1.0: diagonal, then the previous source position, then the previous pivot position. */
        DIAGONAL_SOURCE_PIVOT,
        /** FuseChat-2.0: diagonal, then the previous pivot position, then the previous source position. */
        DIAGONAL_PIVOT_SOURCE
    }

    /** FuseChat-2.0's alignment: {@link TokenCost#fuseChatV2} and its tie order. */
    public static DtwAlignment fuseChatV2(List<String> source, List<String> pivot, String sourceMarker,
                                          String pivotMarker) {
        return align(source, pivot, TokenCost.fuseChatV2(sourceMarker, pivotMarker), Backtrack.DIAGONAL_PIVOT_SOURCE);
    }

    public static DtwAlignment align(List<String> source, List<String> pivot, TokenCost cost, Backtrack order) {
        int n = source.size();
        int m = pivot.size();
        if (n == 0 || m == 0) {
            throw new IllegalArgumentException("cannot align an empty token sequence (source " + n + " tokens, pivot "
                    + m + " tokens)");
        }
        double[][] d = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double best;
                if (i == 0 && j == 0) {
                    best = 0;
                } else {
                    best = Math.min(at(d, i - 1, j), Math.min(at(d, i, j - 1), at(d, i - 1, j - 1)));
                }
                d[i][j] = cost.cost(source.get(i), pivot.get(j)) + best;
            }
        }
        List<List<Integer>> toSource = lists(m);
        List<List<Integer>> toPivot = lists(n);
        List<int[]> path = new ArrayList<>();
        int i = n - 1;
        int j = m - 1;
        while (i > 0 || j > 0) {
            path.add(new int[] {i, j});
            toSource.get(j).add(i);
            toPivot.get(i).add(j);
            double diagonal = at(d, i - 1, j - 1);
            double previousSource = at(d, i - 1, j);
            double previousPivot = at(d, i, j - 1);
            // The first strict minimum in the tie order, as numpy's argmin over the three options.
            if (diagonal <= previousSource && diagonal <= previousPivot) {
                i--;
                j--;
            } else if (order == Backtrack.DIAGONAL_SOURCE_PIVOT) {
                if (previousSource <= previousPivot) {
                    i--;
                } else {
                    j--;
                }
            } else if (previousPivot <= previousSource) {
                j--;
            } else {
                i--;
            }
        }
        path.add(new int[] {0, 0});
        toSource.get(0).add(0);
        toPivot.get(0).add(0);
        Collections.reverse(path);
        return new DtwAlignment(sorted(toSource), sorted(toPivot), List.copyOf(path), d[n - 1][m - 1]);
    }

    private static double at(double[][] d, int i, int j) {
        return i < 0 || j < 0 ? Double.POSITIVE_INFINITY : d[i][j];
    }

    private static List<List<Integer>> lists(int size) {
        List<List<Integer>> lists = new ArrayList<>(size);
        for (int k = 0; k < size; k++) {
            lists.add(new ArrayList<>());
        }
        return lists;
    }

    private static List<int[]> sorted(List<List<Integer>> lists) {
        List<int[]> out = new ArrayList<>(lists.size());
        for (List<Integer> l : lists) {
            out.add(l.stream().mapToInt(Integer::intValue).sorted().toArray());
        }
        return List.copyOf(out);
    }
}
