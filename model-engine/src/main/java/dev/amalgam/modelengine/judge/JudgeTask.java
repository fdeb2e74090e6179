package dev.amalgam.modelengine.judge;

import tools.jackson.databind.node.ObjectNode;

/**
 * One request to the judge and how its answer becomes a judgment record (one line of the judgments file).
 * A benchmark is a list of tasks; its report is computed from the records alone, so judgments kept from an
 * earlier, failed attempt count the same as new ones.
 */
public interface JudgeTask {

    /** Unique in the benchmark run: the record's {@code key}, by which a resumed run skips what is judged. */
    String key();

    /** The request to send. */
    ChatClient.Request request();

    /** The judgment record of the judge's answer: the key, what was judged, the judge's text and the parsed verdict. */
    ObjectNode record(ChatClient.Response response);
}
