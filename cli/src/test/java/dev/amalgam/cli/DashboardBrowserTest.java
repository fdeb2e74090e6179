package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.amalgam.cli.browser.Chromium;
import dev.amalgam.cli.browser.Page;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The dashboard as a user drives it, in a real headless Chromium (the system's: Debian's chromium package;
 * the test never downloads a browser) against the whole platform in this JVM on tiny models: sign in, import and
 * upload, submit a merge, a pruning and a fusion from the forms and watch them finish with their plots drawn, open
 * the merged model and its lineage, cancel a job, see a 422 next to its field, keyboard navigation, the offline,
 * 429 and 401 states, and every screen at 390 px and on a desktop without horizontal scroll. Screenshots of each
 * screen go to target/dashboard-screenshots (not committed). Skipped, saying why, only when no Chromium is installed.
 */
class DashboardBrowserTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(4);

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private String base;
    private String key;

    @Test
    void aUserRunsMergePruningAndFusionFromTheDashboard() throws Exception {
        Optional<Path> binary = Chromium.find();
        assumeTrue(binary.isPresent(), "no Chromium installed (looked for $AMALGAM_CHROMIUM, /usr/bin/chromium, google-chrome):"
                + " the dashboard's browser tests are skipped; .ci/run installs Debian's chromium package");
        Path imports = dir.resolve("import");
        writeInputs(imports);
        Path screenshots = Path.of("target", "dashboard-screenshots").toAbsolutePath();
        try (LocalPlatform platform = LocalPlatform.start(0, dir.resolve("data"), imports);
             Chromium chromium = Chromium.start(binary.get(), dir.resolve("chromium-profile"))) {
            base = "http://127.0.0.1:" + platform.port();
            key = Files.readString(dir.resolve("data").resolve("api-key")).trim();
            for (String[] a : List.of(new String[] {"MODEL", "base", "base"}, new String[] {"MODEL", "a", "a"},
                    new String[] {"MODEL", "b", "b"}, new String[] {"MODEL", "small", "small"}, new String[] {"DATASET", "mc", "mc.jsonl"},
                    new String[] {"DATASET", "small-judged", "small-judged.jsonl"})) {
                assertThat(post("/api/v1/artifacts/import", "{\"kind\":\"%s\",\"name\":\"%s\",\"path\":\"%s\"}".formatted((Object[]) a)).statusCode())
                        .isEqualTo(201);
            }
            Page page = new Page(chromium, screenshots);
            page.viewport(1280, 900, false);

            signIn(page);
            uploadAndImport(page, imports);
            String merge = mergeFromTheForm(page);
            serverProblemNextToItsField(page);
            String prune = pruningFromTheForm(page);
            String fuse = fusionFromTheForm(page);
            evaluationFromTheForm(page);
            comparisonTable(page);
            failedJobBanner(page);
            artifactAndLineage(page, merge);
            deleteAnUnusedArtifact(page);
            cancelAJob(page);
            jobList(page);
            keyboard(page);
            rateLimitedAndOffline(page);
            noHorizontalScroll(page, merge, prune, fuse);
            signedOutBy401(page);
            assertThat(page.errors()).as("no script errors on any screen").isEmpty();
        }
    }

    // ---- the steps ----

    private void signIn(Page page) {
        page.navigate(base + "/");
        page.waitFor("location.hash.startsWith('#/signin')", "an unknown browser lands on sign-in");
        page.screenshot("01-sign-in");
        page.fill("#api-key", "amk_not-a-key");
        page.click("form.signin button[type=submit]");
        page.waitFor("document.querySelector('#key-problem').textContent.includes('does not know')", "a wrong key is refused");
        page.fill("#api-key", key);
        page.click("form.signin button[type=submit]");
        page.waitFor("location.hash === '#/jobs' && document.querySelector('#job-count')", "the jobs screen after sign-in");
        assertThat(page.text("#who")).as("the tenant is shown").contains("tenant ");
        assertThat(page.eval("localStorage.getItem('amalgam.apiKey')").asString()).as("kept per browser").isEqualTo(key);
    }

    private void uploadAndImport(Page page, Path imports) {
        page.navigate(base + "/#/upload");
        page.fill("#imp-path", "calib.jsonl");
        page.fill("#imp-name", "calib");
        page.eval("document.querySelector('#imp-kind').value = 'DATASET'");
        page.click("#import button[type=submit]");
        page.waitFor("document.querySelector('#import .alert.ok')", "the import succeeds");
        page.chooseFiles("#up-file", List.of(imports.resolve("prefs.jsonl")));
        assertThat(page.eval("document.querySelector('#up-name').value").asString()).as("named after the file").isEqualTo("prefs");
        page.click("#upload-file button[type=submit]");
        page.waitFor("document.querySelector('#upload-file .alert.ok')", "the upload succeeds");
        page.screenshot("02-upload");

        // a model directory as the directory form sends it: the browser's tar of the files (here the files of an
        // imported model, fetched back), which the server unpacks into an equal model
        JsonNode copy = page.eval("""
                (async () => {
                  const { tarBlob } = await import('/app/tar.js');
                  const auth = { Authorization: 'Bearer ' + localStorage.getItem('amalgam.apiKey') };
                  const small = (await (await fetch('/api/v1/artifacts?kind=MODEL&name=small', { headers: auth })).json()).items[0];
                  const files = await (await fetch('/api/v1/artifacts/' + small.id + '/files', { headers: auth })).json();
                  const entries = [];
                  for (const f of files) {
                    const blob = await (await fetch('/api/v1/artifacts/' + small.id + '/files/' + f.path, { headers: auth })).blob();
                    entries.push({ path: f.path, file: new File([blob], f.path.split('/').pop()) });
                  }
                  const r = await fetch('/api/v1/artifacts?kind=MODEL&name=small-copy', { method: 'POST',
                    headers: Object.assign({ 'Content-Type': 'application/x-tar' }, auth), body: tarBlob(entries) });
                  return { status: r.status, body: await r.json(), original: files };
                })()""");
        assertThat(copy.get("status").asInt()).as(copy.toString()).isEqualTo(201);
        assertThat(copy.get("body").get("files").toString()).as("the same files, byte for byte")
                .isEqualTo(copy.get("original").toString());
    }

    private String mergeFromTheForm(Page page) {
        page.navigate(base + "/#/new/merge");
        page.fill("#f-output", "ui-merged");
        page.fill("#f-configYaml", "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters: {weight: 0.5, density: 0.5}\n"
                + "  - model: b\n    parameters: {weight: 0.5, density: 0.5}\ndtype: bfloat16\n");
        page.screenshot("03-merge-form");
        page.click("#submit");
        String id = jobIdAfterSubmit(page);
        waitUntilFinished(page, "SUCCEEDED");
        page.waitFor("document.querySelector('#job-outputs a')", "the merged model is linked");
        return id;
    }

    private void serverProblemNextToItsField(Page page) {
        page.navigate(base + "/#/new/prune");
        page.fill("#f-name", "ui-bad");
        page.fill("#f-dataset", "calib");
        page.fill("#f-model", "");
        page.click("#submit");
        page.waitFor("document.querySelector('[data-field=model].invalid')", "a client-side hint for a required field");
        assertThat(page.text("#f-model-problem")).isEqualTo("required");
        page.fill("#f-model", "no-such-model");
        page.click("#submit");
        page.waitFor("document.querySelector('#f-model-problem').textContent.includes('no artifact')", "the server's 422 next to the model field");
        assertThat(page.text("#form-problems")).contains("shown next to the fields");
        assertThat(page.eval("location.hash").asString()).as("no job was made").isEqualTo("#/new/prune");
        page.screenshot("04-form-422");
    }

    private String pruningFromTheForm(Page page) {
        page.navigate(base + "/#/new/prune");
        page.fill("#f-model", "small");
        page.fill("#f-dataset", "calib");
        page.fill("#f-name", "ui-pruned");
        page.fill("#f-blocks", "2");
        page.fill("#f-samples", "8");
        page.fill("#f-seqLen", "64");
        page.fill("#f-batchSize", "4");
        page.click("#submit");
        String id = jobIdAfterSubmit(page);
        waitUntilFinished(page, "SUCCEEDED");
        page.waitFor("document.querySelector('#plot-perplexity polyline') && +document.querySelector('#plot-perplexity').dataset.points >= 2",
                "the perplexity plot of the two removals");
        page.waitFor("document.querySelectorAll('#plot-perplexity .point-label').length === 2", "the chosen block named at each removal");
        assertThat(page.eval("[...document.querySelectorAll('#pruning-steps tbody td.mono')].map(t => t.textContent).filter(Boolean).length").asInt())
                .as("the block chosen per step in the table").isEqualTo(2);
        page.screenshot("05-pruning-job");
        return id;
    }

    private String fusionFromTheForm(Page page) throws Exception {
        page.navigate(base + "/#/new/fuse");
        page.fill("#f-target", "small");
        page.fill("#f-data", "prefs");
        page.fill("#f-name", "ui-fused");
        page.fill("#f-epochs", "1");
        page.fill("#f-lr", "0.001");
        page.fill("#f-sftLr", "0.001");
        page.fill("#f-beta", "0.1");
        page.fill("#f-batchSize", "2");
        page.fill("#f-gradAccum", "2");
        page.fill("#f-maxLength", "48");
        page.fill("#f-maxPromptLength", "24");
        page.fill("#f-checkpointEvery", "2");
        page.fill("#f-more", "{\"device\": \"cpu\", \"outputDtype\": \"fp32\"}");
        page.screenshot("06-fusion-form");
        page.click("#submit");
        String id = jobIdAfterSubmit(page);
        // live: events arrive over SSE while the page stays (no reload)
        page.eval("window.__fusionPage = document.querySelector('#job-log')");
        waitUntilFinished(page, "SUCCEEDED");
        assertThat(page.eval("window.__fusionPage === document.querySelector('#job-log')").asBoolean()).as("followed live, not reloaded").isTrue();
        for (String plot : List.of("plot-loss", "plot-margins", "plot-accuracies", "plot-lr", "plot-alpha")) {
            page.waitFor("document.querySelector('#" + plot + " polyline')", plot + " drawn");
        }
        assertThat(page.eval("[...document.querySelectorAll('#plot-loss polyline')].map(p => p.dataset.series)").toString())
                .contains("sft loss").contains("wrpo loss");
        JsonNode events = getJson("/api/v1/jobs/" + id + "/events?limit=5000");
        page.waitFor("document.querySelectorAll('#job-log > div').length === " + events.size(), "the log holds the whole history");
        assertThat(page.text("#job-log")).contains("status=SUCCEEDED");
        page.fill("#log-search", "wrpo");
        assertThat(page.eval("[...document.querySelectorAll('#job-log > div')].filter(d => !d.hidden).every(d => d.textContent.includes('wrpo'))").asBoolean())
                .as("the search filters the log").isTrue();
        page.fill("#log-search", "");
        page.screenshot("07-fusion-job");
        return id;
    }

    private void evaluationFromTheForm(Page page) {
        page.navigate(base + "/#/new/evaluate");
        page.fill("#f-model", "small");
        page.fill("#f-dataset", "calib");
        page.fill("#f-seqLen", "64");
        page.fill("#f-tasks", "[{\"name\": \"count\", \"dataset\": \"mc\", \"format\": \"generic\"}]");
        page.click("#submit");
        jobIdAfterSubmit(page);
        waitUntilFinished(page, "SUCCEEDED");
        // from the result once final: with the standard error of the task's acc_norm as an error bar
        page.waitFor("document.querySelectorAll('#plot-tasks rect').length === 2 && document.querySelector('#plot-tasks line')",
                "a bar for the task (with its standard error) and one for the average");
        assertThat(page.text("#plot-tasks")).contains("count acc_norm").contains("average");
        assertThat(page.text("#plot-eval-perplexity")).containsPattern("Perplexity: \\d+\\.\\d{4}");
        page.screenshot("07b-evaluation-job");
    }

    /** A comparison (an evaluation and an MT-Bench judgment) shows its table on the job's and its REPORT's screens. */
    private void comparisonTable(Page page) throws Exception {
        var r = post("/api/v1/comparisons", """
                {"models": ["small", "a"], "tasks": [{"name": "count", "dataset": "mc", "format": "generic"}],
                 "judgments": [{"model": "small", "benchmark": "mt_bench", "dataset": "small-judged"}],
                 "name": "small-vs-a"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        String id = JSON.readTree(r.body()).get("id").asString();
        page.navigate(base + "/#/jobs/" + id);
        waitUntilFinished(page, "SUCCEEDED");
        page.waitFor("document.querySelectorAll('#job-result #comparison-table tbody tr').length === 2", "the comparison table");
        assertThat(page.text("#comparison-table thead")).contains("Model").contains("count").contains("Avg.").contains("MT-Bench");
        // the judgment's ratings 8 and 5: MT-Bench 6.50 for small, an empty cell for a
        assertThat(page.eval("[...document.querySelectorAll('#comparison-table tbody tr')].map(r => r.lastChild.textContent).join('|')")
                .asString()).isEqualTo("6.50|");
        String report = getJson("/api/v1/jobs/" + id).get("result").get("report").asString();
        page.navigate(base + "/#/artifacts/" + report);
        page.waitFor("document.querySelectorAll('#comparison #comparison-table tbody tr').length === 2", "the REPORT's table");
        assertThat(page.text("#comparison-table tbody")).contains("small").contains("6.50");
        page.screenshot("07d-comparison-report");
    }

    private void failedJobBanner(Page page) {
        // a perplexity dataset without "text" rows passes submission (the rows are read by the worker) and fails there
        page.navigate(base + "/#/new/evaluate");
        page.fill("#f-model", "small");
        page.fill("#f-dataset", "mc");
        page.fill("#f-seqLen", "64");
        page.click("#submit");
        jobIdAfterSubmit(page);
        waitUntilFinished(page, "FAILED");
        assertThat(page.text("#job-error")).startsWith("This job failed.").contains("\"text\"");
        assertThat(page.text("#clone")).isEqualTo("Retry…");
        page.screenshot("07c-failed-job");
    }

    private void deleteAnUnusedArtifact(Page page) throws Exception {
        String id = getJson("/api/v1/artifacts?name=ui-fused-report").get("items").get(0).get("id").asString();
        page.navigate(base + "/#/artifacts/" + id);
        page.waitFor("document.querySelector('#delete') && !document.querySelector('#delete').disabled", "delete offered for an unused artifact");
        page.eval("window.confirm = () => true");
        page.click("#delete");
        page.waitFor("location.hash === '#/artifacts'", "back at the list after the delete");
        assertThat(getJson("/api/v1/artifacts/" + id).get("status").asString()).isEqualTo("DELETED");
    }

    private void artifactAndLineage(Page page, String mergeJob) throws Exception {
        page.navigate(base + "/#/jobs/" + mergeJob);
        page.click("#job-outputs a");
        page.waitFor("document.querySelector('#artifact-title') && document.querySelector('#artifact-title').textContent === 'ui-merged'",
                "the merged model's page");
        page.waitFor("document.querySelectorAll('#artifact-files tbody tr').length > 3", "its files");
        assertThat(page.eval("[...document.querySelectorAll('#artifact-files td.mono')].every(t => /^[0-9a-f]{64}$/.test(t.textContent))").asBoolean())
                .as("a sha256 per file").isTrue();
        page.waitFor("document.querySelector('#model-card .markdown h2')", "the model card rendered");
        Path downloads = Files.createDirectories(dir.resolve("downloads"));
        page.browser().browserCommand("Browser.setDownloadBehavior", Map.of("behavior", "allow", "downloadPath", downloads.toString()));
        page.click("#artifact-files a[data-file='config.json']");
        page.waitFor("true", "a moment");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(downloads.resolve("config.json")) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(downloads.resolve("config.json")).as("the file downloads with the key").exists();
        assertThat(Files.readString(downloads.resolve("config.json"))).contains("LlamaForCausalLM");
        page.waitFor("document.querySelectorAll('#lineage [data-node]').length === 5", "lineage: the merge job and its three inputs");
        assertThat(page.eval("document.querySelectorAll('#lineage [data-node=job]').length").asInt()).isEqualTo(1);
        page.screenshot("08-artifact-lineage");
        page.navigate(base + "/#/artifacts");
        page.waitFor("document.querySelectorAll('#artifact-list tbody tr').length >= 8", "the artifact list");
        page.eval("document.querySelector('#artifact-kind').value = 'DATASET'; document.querySelector('#artifact-kind').dispatchEvent(new Event('change'))");
        page.waitFor("[...document.querySelectorAll('#artifact-list tbody tr td:nth-child(2)')].every(t => t.textContent === 'DATASET')"
                + " && document.querySelectorAll('#artifact-list tbody tr').length === 4", "the kind filter (mc, small-judged, calib, the upload)");
        page.screenshot("09-artifacts");
    }

    private void cancelAJob(Page page) throws Exception {
        HttpResponse<String> r = post("/api/v1/fusions", """
                {"target": "small", "data": "prefs", "name": "ui-long", "stages": ["sft", "wrpo"], "epochs": 100, "lr": 0.001,
                 "batchSize": 1, "gradAccum": 1, "maxLength": 48, "maxPromptLength": 24, "device": "cpu"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        String id = JSON.readTree(r.body()).get("id").asString();
        page.navigate(base + "/#/jobs/" + id);
        page.waitFor("document.querySelector('#cancel') && !document.querySelector('#cancel').disabled", "a cancellable job");
        page.click("#cancel");
        page.waitFor("document.querySelector('.status') && document.querySelector('#job-title + .status').textContent === 'CANCELLED'",
                Duration.ofSeconds(60), "the job shows CANCELLED");
        assertThat(page.eval("document.querySelector('#cancel') === null").asBoolean()).as("nothing left to cancel").isTrue();
        assertThat(page.text("#clone")).isEqualTo("Retry…");
        page.click("#clone");
        page.waitFor("document.querySelector('#f-name') && document.querySelector('#f-name').value === 'ui-long'", "retry prefills the form");
        assertThat(page.eval("JSON.parse(document.querySelector('#f-more').value).device").asString()).isEqualTo("cpu");
    }

    private void jobList(Page page) {
        page.navigate(base + "/#/jobs");
        page.waitFor("document.querySelectorAll('#job-list [data-job]').length === 7", "seven jobs (the comparison's too)");
        page.eval("document.querySelector('#job-type').value = 'prune'; document.querySelector('#job-type').dispatchEvent(new Event('change'))");
        page.waitFor("document.querySelectorAll('#job-list [data-job]').length === 1 && document.querySelector('#job-list .name').textContent === 'ui-pruned'",
                "the type filter");
        page.navigate(base + "/#/jobs");
        page.fill("#job-search", "UI-FU");
        page.waitFor("document.querySelectorAll('#job-list [data-job]').length === 1 && document.querySelector('#job-list .name').textContent === 'ui-fused'",
                "the name search, any case");
        page.navigate(base + "/#/jobs?status=CANCELLED");
        page.waitFor("document.querySelectorAll('#job-list [data-job]').length === 1 && document.querySelector('#job-list .name').textContent === 'ui-long'",
                "the status filter");
        page.navigate(base + "/#/jobs");
        page.waitFor("document.querySelectorAll('#job-list [data-job]').length === 7", "all jobs again");
        page.screenshot("10-jobs");
    }

    private void keyboard(Page page) {
        page.navigate(base + "/#/jobs");
        page.waitForSelector("#job-list [data-job]");
        page.eval("document.activeElement.blur(); document.querySelector('.brand').focus()");
        page.press("Tab");
        assertThat(page.eval("document.activeElement.textContent").asString()).as("Tab moves to the navigation").isEqualTo("Jobs");
        page.press("Tab");
        page.press("Tab");
        assertThat(page.eval("document.activeElement.textContent").asString()).isEqualTo("Artifacts");
        page.press("Enter");
        page.waitFor("location.hash === '#/artifacts' && document.querySelector('#artifact-list')", "Enter follows the focused link");
    }

    private void rateLimitedAndOffline(Page page) {
        // 429: the browser answers the next artifact list itself, as the gateway's rate limit would
        AtomicInteger refused = new AtomicInteger();
        page.browser().onEvent(e -> {
            if (!e.path("method").asString("").equals("Fetch.requestPaused")) {
                return;
            }
            String request = e.path("params").path("requestId").asString();
            if (refused.getAndIncrement() == 0) {
                String body = "{\"type\":\"about:blank\",\"status\":429,\"detail\":\"rate limit\"}";
                page.browser().command("Fetch.fulfillRequest", Map.of("requestId", request, "responseCode", 429,
                        "responseHeaders", List.of(Map.of("name", "Retry-After", "value", "3"), Map.of("name", "Content-Type", "value", "application/problem+json")),
                        "body", Base64.getEncoder().encodeToString(body.getBytes(StandardCharsets.UTF_8))));
            } else {
                page.browser().command("Fetch.continueRequest", Map.of("requestId", request));
            }
        });
        page.browser().command("Fetch.enable", Map.of("patterns", List.of(Map.of("urlPattern", "*/api/v1/artifacts?*"))));
        page.navigate(base + "/#/jobs");
        page.waitForSelector("#job-list [data-job]");
        page.eval("location.hash = '#/artifacts'");
        page.waitFor("(document.querySelector('.banner.wait') || {}).textContent?.includes('Too many requests')", "the 429 banner with its wait");
        assertThat(page.text(".banner.wait")).containsPattern("Retrying in [123] s");
        page.screenshot("11-rate-limited");
        page.waitFor("document.querySelector('#artifact-list') && !document.querySelector('.banner.wait')", Duration.ofSeconds(10),
                "the list after the wait, the banner gone");
        page.browser().command("Fetch.disable", Map.of());

        page.browser().command("Network.enable", Map.of());
        page.browser().command("Network.emulateNetworkConditions", Map.of("offline", true, "latency", 0, "downloadThroughput", -1, "uploadThroughput", -1));
        page.eval("location.hash = '#/jobs'");
        page.waitFor("(document.querySelector('.banner.offline') || {}).textContent?.includes('unreachable')", "the offline banner");
        page.screenshot("12-offline");
        page.browser().command("Network.emulateNetworkConditions", Map.of("offline", false, "latency", 0, "downloadThroughput", -1, "uploadThroughput", -1));
        page.waitFor("!document.querySelector('.banner.offline') && document.querySelector('#job-list [data-job]')", Duration.ofSeconds(20),
                "back online: the banner goes, the list loads");
    }

    private void noHorizontalScroll(Page page, String merge, String prune, String fuse) throws Exception {
        String artifact = getJson("/api/v1/jobs/" + merge).get("outputs").get(0).asString();
        List<String[]> screens = List.of(new String[] {"jobs", "#/jobs", "#job-list [data-job]"},
                new String[] {"fusion-job", "#/jobs/" + fuse, "#plot-alpha polyline"},
                new String[] {"pruning-job", "#/jobs/" + prune, "#plot-perplexity polyline"},
                new String[] {"merge-job", "#/jobs/" + merge, "#job-outputs a"},
                new String[] {"fusion-form", "#/new/fuse", "#f-target"},
                new String[] {"merge-form", "#/new/merge", "#f-configYaml"},
                new String[] {"artifacts", "#/artifacts", "#artifact-list"},
                new String[] {"artifact", "#/artifacts/" + artifact, "#lineage svg"},
                new String[] {"upload", "#/upload", "#import"});
        for (boolean phone : new boolean[] {true, false}) {
            if (phone) {
                page.viewport(390, 844, true);
            } else {
                page.viewport(1200, 800, false);
            }
            for (String[] s : screens) {
                page.navigate(base + "/" + s[1]);
                page.waitForSelector(s[2]);
                page.eval("new Promise(r => setTimeout(r, 400))");
                assertThat(page.scrollsHorizontally()).as((phone ? "390 px: " : "desktop: ") + s[0] + " scrolls sideways; " + page.widestOverflow()).isFalse();
                if (phone) {
                    page.screenshot("390-" + s[0]);
                    if (s[0].equals("fusion-job")) {
                        page.eval("document.querySelector('#plots').scrollIntoView()");
                        page.viewportShot("phone-fusion-job", 0.8);
                    }
                } else if (s[0].equals("jobs")) {
                    page.viewportShot("jobs", 0.6);
                } else if (s[0].equals("fusion-job")) {
                    page.eval("document.querySelector('#plots').scrollIntoView()");
                    page.viewportShot("fusion-job", 0.6);
                } else if (s[0].equals("artifact")) {
                    page.eval("document.querySelector('#lineage').scrollIntoView({block: 'end'})");
                    page.viewportShot("artifact", 0.6);
                }
            }
        }
        page.viewport(390, 844, true);
        page.eval("localStorage.clear()");
        page.navigate(base + "/#/jobs");
        page.waitForSelector("#api-key");
        assertThat(page.scrollsHorizontally()).as("390 px: sign-in").isFalse();
        page.screenshot("390-sign-in");
        page.viewport(1280, 900, false);
        page.fill("#api-key", key);
        page.click("form.signin button[type=submit]");
        page.waitFor("location.hash === '#/jobs'", "signed in again");
    }

    private void signedOutBy401(Page page) {
        page.click("#sign-out");
        page.waitFor("location.hash === '#/signin' && !localStorage.getItem('amalgam.apiKey')", "sign-out forgets the key");
        // a key revoked while signed in: the next request answers 401 and the user is sent to sign-in
        page.eval("localStorage.setItem('amalgam.apiKey', 'amk_revoked'); localStorage.setItem('amalgam.me', '{\"tenantName\":\"x\"}')");
        page.navigate(base + "/#/artifacts");
        page.waitFor("location.hash.startsWith('#/signin?expired=1') && document.querySelector('form.signin .alert')", "401 leads to sign-in");
        assertThat(page.text("form.signin .alert")).contains("did not accept");
    }

    // ---- helpers ----

    private String jobIdAfterSubmit(Page page) {
        page.waitFor("/^#\\/jobs\\/[0-9a-f-]{36}$/.test(location.hash) && document.querySelector('#job-title')", "the new job's page");
        return page.eval("location.hash.slice(7)").asString();
    }

    private void waitUntilFinished(Page page, String status) {
        // the status is kept as the condition saw it: the job's screen is drawn again as its last events arrive, so a
        // second query may find the element of a screen being redrawn
        page.waitFor("['SUCCEEDED','FAILED','CANCELLED'].includes(window.finalStatus ="
                + " (document.querySelector('#job-title + .status') || {}).textContent)", JOB_TIMEOUT, "the job to finish");
        assertThat(page.eval("window.finalStatus").asString()).as(page.text("#job-error")).isEqualTo(status);
    }

    private HttpResponse<String> post(String path, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode getJson(String path) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + key).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    /** Tiny Llama checkpoints and data: each job takes seconds. */
    private static void writeInputs(Path imports) throws Exception {
        TinySizes tiny = new TinySizes(64, 128, 8, 4, 2, 256, DType.BF16);
        TinyModels.write(Architecture.LLAMA, imports.resolve("base"), tiny, 1);
        TinyModels.write(Architecture.LLAMA, imports.resolve("a"), tiny, 2);
        TinyModels.write(Architecture.LLAMA, imports.resolve("b"), tiny, 3);
        TinyModels.write(Architecture.LLAMA, imports.resolve("small"), tiny, 4);
        CrashRecoveryTest.writeCalibration(imports.resolve("calib.jsonl"), 16);
        CrashRecoveryTest.writePreferences(imports.resolve("prefs.jsonl"), 16);
        StringBuilder mc = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            mc.append("{\"context\": \"the model merges\", \"choices\": [\" layers\", \" tokens %d\"], \"gold\": %d}\n".formatted(i, i % 2));
        }
        Files.writeString(imports.resolve("mc.jsonl"), mc.toString());
        // an MT-Bench judgments file as the judge job writes it: one question, its two turns rated 8 and 5
        var question = new dev.amalgam.modelengine.judge.MtBench.Question("1", "writing", List.of("Write.", "Again."), null);
        var tasks = dev.amalgam.modelengine.judge.MtBench.tasks(List.of(question),
                java.util.Map.of("1", new dev.amalgam.modelengine.judge.MtBench.Answer("1", "small", List.of("x", "y"))),
                java.util.Map.of());
        Files.writeString(imports.resolve("small-judged.jsonl"),
                tasks.get(0).record(new dev.amalgam.modelengine.judge.ChatClient.Response("[[8]]", List.of())) + "\n"
                        + tasks.get(1).record(new dev.amalgam.modelengine.judge.ChatClient.Response("[[5]]", List.of())) + "\n");
    }
}
