package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.modelengine.answers.BenchmarkFormat;
import dev.amalgam.modelengine.eval.TaskFormat;
import org.junit.jupiter.api.Test;

/** Task and benchmark formats are found by their exact names; an unknown name lists the known ones. */
class NamedValuesTest {

    @Test
    void everyFormatIsFoundByItsOwnNameOnly() {
        for (TaskFormat f : TaskFormat.values()) {
            assertThat(TaskFormat.of(f.id())).isSameAs(f);
        }
        for (BenchmarkFormat f : BenchmarkFormat.values()) {
            assertThat(BenchmarkFormat.of(f.id())).isSameAs(f);
        }
        assertThat(TaskFormat.ids()).hasSize(TaskFormat.values().length).doesNotHaveDuplicates();
        assertThat(BenchmarkFormat.ids()).contains("mt_bench").hasSize(BenchmarkFormat.values().length);
    }

    @Test
    void anUnknownOrDifferentlyCasedNameIsRefusedListingTheKnownOnes() {
        String first = TaskFormat.values()[0].id();
        assertThatThrownBy(() -> TaskFormat.of(first.toUpperCase()))
                .hasMessage("unknown task format '" + first.toUpperCase() + "' (known: " + String.join(", ", TaskFormat.ids()) + ")");
        assertThatThrownBy(() -> BenchmarkFormat.of("mt-bench"))
                .hasMessage("unknown benchmark format 'mt-bench' (one of " + String.join(", ", BenchmarkFormat.ids()) + ")");
    }
}
