package dev.amalgam.cli.browser;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What a test does with the page: run JavaScript, wait for a condition, type and click as a user does (through
 * DOM events, or real key presses for keyboard navigation), choose files, size the viewport, take screenshots.
 * Uncaught page errors and console errors are collected so that a test can require none.
 */
public final class Page {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Chromium browser;
    private final Path screenshots;
    private final List<String> errors = new CopyOnWriteArrayList<>();

    public Page(Chromium browser, Path screenshots) throws IOException {
        this.browser = browser;
        this.screenshots = Files.createDirectories(screenshots);
        browser.onEvent(e -> {
            String method = e.path("method").asString("");
            if (method.equals("Runtime.exceptionThrown")) {
                errors.add("uncaught: " + e.path("params").path("exceptionDetails"));
            } else if (method.equals("Runtime.consoleAPICalled") && e.path("params").path("type").asString("").equals("error")) {
                errors.add("console.error: " + e.path("params").path("args"));
            }
        });
        browser.command("Runtime.enable", Map.of());
        browser.command("Page.enable", Map.of());
    }

    /** Page errors seen so far (uncaught exceptions, console.error). */
    public List<String> errors() {
        return List.copyOf(errors);
    }

    public void navigate(String url) {
        browser.command("Page.navigate", Map.of("url", url));
        waitFor("document.readyState === 'complete'", Duration.ofSeconds(30), "the page loads: " + url);
    }

    /** Evaluates an expression (a promise is awaited); its value as JSON. */
    public JsonNode eval(String expression) {
        JsonNode r = browser.command("Runtime.evaluate", Map.of("expression", expression, "awaitPromise", true, "returnByValue", true));
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException("script failed: " + expression + "\n" + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    public String text(String selector) {
        return eval("(document.querySelector(" + js(selector) + ") || {}).textContent || ''").asString("");
    }

    /** Waits until the expression is truthy; on timeout saves a screenshot and fails with the page's text. */
    public void waitFor(String condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (eval("!!(" + condition + ")").asBoolean(false)) {
                    return;
                }
            } catch (IllegalStateException notYet) {
                // e.g. the page is navigating
            }
            if (System.nanoTime() > deadline) {
                screenshot("timeout-" + what.replaceAll("[^A-Za-z0-9]+", "-"));
                String body = "";
                try {
                    body = eval("document.body.innerText").asString("");
                } catch (RuntimeException ignored) {
                    // nothing more to show
                }
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what + " ("
                        + condition + "); page errors " + errors + "; page text:\n" + body.substring(0, Math.min(body.length(), 3000)));
            }
            try {
                Thread.sleep(150);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
    }

    public void waitFor(String condition, String what) {
        waitFor(condition, Duration.ofSeconds(30), what);
    }

    public void waitForSelector(String selector) {
        waitFor("document.querySelector(" + js(selector) + ")", selector + " to appear");
    }

    /** Sets a field's value as typing would and fires input and change (the form reacts as to a user). */
    public void fill(String selector, String value) {
        waitForSelector(selector);
        eval("(() => { const el = document.querySelector(" + js(selector) + "); el.focus(); el.value = " + js(value)
                + "; el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); })()");
    }

    public void check(String selector, boolean on) {
        waitForSelector(selector);
        eval("(() => { const el = document.querySelector(" + js(selector) + "); if (el.checked !== " + on + ") el.click(); })()");
    }

    public void click(String selector) {
        waitForSelector(selector);
        eval("document.querySelector(" + js(selector) + ").click()");
    }

    /** A real key press (keyDown, keyUp) on the focused element: Tab, Enter, ... */
    public void press(String key) {
        Map<String, Object> common = switch (key) {
            case "Tab" -> Map.of("key", "Tab", "code", "Tab", "windowsVirtualKeyCode", 9);
            case "Enter" -> Map.of("key", "Enter", "code", "Enter", "windowsVirtualKeyCode", 13, "text", "\r");
            default -> throw new IllegalArgumentException(key);
        };
        var down = new java.util.HashMap<String, Object>(common);
        down.put("type", "keyDown");
        browser.command("Input.dispatchKeyEvent", down);
        var up = new java.util.HashMap<String, Object>(common);
        up.put("type", "keyUp");
        up.remove("text");
        browser.command("Input.dispatchKeyEvent", up);
    }

    /** Chooses files in an input type=file, as the file dialog would. */
    public void chooseFiles(String selector, List<Path> files) {
        waitForSelector(selector);
        long root = browser.command("DOM.getDocument", Map.of("depth", 0)).path("root").path("nodeId").asLong();
        long node = browser.command("DOM.querySelector", Map.of("nodeId", root, "selector", selector)).path("nodeId").asLong();
        browser.command("DOM.setFileInputFiles", Map.of("nodeId", node, "files", files.stream().map(Path::toString).toList()));
        eval("document.querySelector(" + js(selector) + ").dispatchEvent(new Event('change', {bubbles: true}))");
    }

    /** The layout viewport: width x height CSS pixels, as a phone (touch, mobile) or a desktop. */
    public void viewport(int width, int height, boolean mobile) {
        browser.command("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height, "deviceScaleFactor", 1, "mobile", mobile));
        browser.command("Emulation.setTouchEmulationEnabled", Map.of("enabled", mobile));
    }

    /** Whether the page scrolls sideways (the document is wider than the viewport). */
    public boolean scrollsHorizontally() {
        return eval("document.documentElement.scrollWidth > document.documentElement.clientWidth"
                + " || document.body.scrollWidth > document.documentElement.clientWidth").asBoolean();
    }

    /** Width of the widest element that sticks out of the viewport, with its description, for failure messages. */
    public String widestOverflow() {
        return eval("(() => { const w = document.documentElement.clientWidth; let worst = null;"
                + " for (const el of document.querySelectorAll('body *')) { const r = el.getBoundingClientRect();"
                + " if (r.right > w + 1 && (!worst || r.right > worst.r)) worst = {r: r.right, d: el.tagName + '#' + el.id + '.' + el.className}; }"
                + " return worst ? worst.d + ' reaches ' + Math.round(worst.r) + 'px of ' + w : 'none'; })()").asString();
    }

    /** Saves a PNG of the full page under the screenshot directory; returns its path. */
    public Path screenshot(String name) {
        try {
            JsonNode shot = browser.command("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true));
            Path file = screenshots.resolve(name + ".png");
            Files.write(file, Base64.getDecoder().decode(shot.get("data").asString()));
            return file;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Saves a PNG of what the viewport shows now, scaled (small pictures for the README); returns its path. */
    public Path viewportShot(String name, double scale) {
        try {
            JsonNode vp = browser.command("Page.getLayoutMetrics", Map.of()).path("cssVisualViewport");
            Map<String, Object> clip = Map.of("x", vp.path("pageX").asDouble(), "y", vp.path("pageY").asDouble(),
                    "width", vp.path("clientWidth").asDouble(), "height", vp.path("clientHeight").asDouble(), "scale", scale);
            JsonNode shot = browser.command("Page.captureScreenshot", Map.of("format", "png", "clip", clip));
            Path file = Files.createDirectories(screenshots.resolve("readme")).resolve(name + ".png");
            Files.write(file, Base64.getDecoder().decode(shot.get("data").asString()));
            return file;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A JavaScript string literal. */
    public static String js(String s) {
        return JSON.valueToTree(s).toString();
    }

    public Chromium browser() {
        return browser;
    }
}
