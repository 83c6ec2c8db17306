// The page: asks GET /search, shows the answers as cards, opens related articles in place.
// No framework and no build step. Text from the archive only ever enters the DOM as text nodes
// (`el` below), never as HTML, so an article cannot inject markup or script.

const form = document.getElementById("ask");
const input = (id) => document.getElementById(id);
const question = input("question");
const errorBox = input("error");
const statusLine = input("status");
const banner = input("interpreted");
const results = input("results");
const DATES = { since: "Since", until: "Until", as_of: "As of" };
const DUPLICATES_SHOWN = 5;

let inFlight = null; // the AbortController of the request being answered
const articles = new Map(); // article id -> Promise of its record, for "also published by"

/** An element with attributes (`on*` functions become listeners) and children (strings become text). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** The url when it is a web address; anything else (e.g. `javascript:`) is not made a link. */
function webUrl(url) {
  if (!url) return null;
  try {
    const parsed = new URL(url, document.baseURI);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function linkOrText(text, url) {
  const href = webUrl(url);
  return href ? el("a", { href, rel: "noopener noreferrer" }, text) : el("span", {}, text);
}

function showError(message) {
  errorBox.hidden = !message;
  errorBox.textContent = message || "";
}

async function getJson(path, signal) {
  let response;
  try {
    response = await fetch(path, { signal, headers: { accept: "application/json" } });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new Error("The server could not be reached. Is `qa serve` running?");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(body && typeof body.detail === "string" ? body.detail : `The server answered ${response.status}.`);
  }
  return body;
}

// --- the form and the address bar ----------------------------------------------------------------

/** The /search parameters the form holds; the page's own address carries the same ones. */
function formParams(interpret = true) {
  const params = new URLSearchParams();
  params.set("question", question.value.trim());
  params.set("k", input("k").value.trim() || "5");
  for (const name of Object.keys(DATES)) {
    if (input(name).value) params.set(name, input(name).value);
  }
  if (input("source").value) params.set("sources", input("source").value);
  if (!interpret) params.set("interpret", "false");
  return params;
}

/** Fill the form from an address's parameters; the problems found, as messages. */
function fillForm(params) {
  const problems = [];
  question.value = params.get("question") || "";
  input("k").value = params.get("k") || "5";
  for (const [name, label] of Object.entries(DATES)) {
    const given = params.get(name) || "";
    input(name).value = given;
    if (given && input(name).value !== given) problems.push(`${label}: “${given}” is not a date (YYYY-MM-DD).`);
  }
  const source = params.get("sources") || params.get("source") || "";
  const select = input("source");
  if (source && ![...select.options].some((option) => option.value === source)) {
    select.append(el("option", { value: source }, source)); // the sources list may still be loading
  }
  select.value = source;
  if ([...Object.keys(DATES), "sources", "source"].some((name) => params.get(name))) input("filters").open = true;
  return problems;
}

/** What is wrong with the form before asking (an empty question, a date typed only in part), as
 * `[messages, the field to fix first]`. */
function formProblems() {
  if (!question.value.trim()) return [["Type a question first."], question];
  const bad = Object.keys(DATES).filter((name) => input(name).validity.badInput);
  return [bad.map((name) => `${DATES[name]}: enter a whole date (YYYY-MM-DD).`), bad.length ? input(bad[0]) : null];
}

// --- asking ----------------------------------------------------------------------------------------

async function ask(params, { push = true } = {}) {
  if (push) history.pushState(null, "", `?${params}`);
  inFlight?.abort();
  const controller = (inFlight = new AbortController());
  showError(null);
  results.setAttribute("aria-busy", "true");
  // Said only when the answer is slow to come: most take milliseconds, and a message shown for that
  // long only flickers (and costs a repaint while the server works).
  const slow = setTimeout(() => (statusLine.textContent = "Searching…"), 200);
  const asked = performance.now();
  try {
    const answer = await getJson(`search?${params}`, controller.signal);
    const received = performance.now();
    render(answer, params);
    // What the page adds over the API call, for benchmarks/bench_page.py (performance entries).
    performance.measure("qa:api", { start: asked, end: received });
    performance.measure("qa:render", { start: received, end: performance.now() });
  } catch (error) {
    if (error.name === "AbortError") return;
    results.replaceChildren();
    banner.hidden = true;
    statusLine.textContent = "";
    showError(error.message);
  } finally {
    clearTimeout(slow);
    if (inFlight === controller) {
      inFlight = null;
      results.removeAttribute("aria-busy");
    }
  }
}

function render(answer, params) {
  const hits = answer.hits;
  results.replaceChildren(...hits.map((hit, n) => card(hit, n)));
  statusLine.textContent = hits.length
    ? `${hits.length} ${hits.length === 1 ? "answer" : "answers"}, as of ${answer.as_of}.`
    : `No passages found as of ${answer.as_of}. Try fewer filters${answer.interpreted ? ", or ignore the dates read from the question" : ""}.`;
  showInterpretation(answer, params);
}

function showInterpretation(answer, params) {
  const ignored = params.get("interpret") === "false";
  const read = answer.interpreted;
  if (!ignored && !read) {
    banner.hidden = true;
    return;
  }
  const again = new URLSearchParams(params);
  if (ignored) {
    again.delete("interpret");
    banner.replaceChildren(
      el("span", {}, "Time words in the question are not read as dates. "),
      el("button", { type: "button", class: "link", onclick: () => ask(again) }, "Read them as dates"),
    );
  } else {
    again.set("interpret", "false");
    banner.replaceChildren(
      el("span", {}, "Reading “", el("strong", {}, read.text), `” as ${span(read.since, read.until)}${clock(read)}. `),
      ...outside(read, answer.hits.length),
      el("button", { type: "button", class: "link", onclick: () => ask(again) }, "Ignore these dates"),
    );
  }
  banner.hidden = false;
}

function outside(read, count) {
  // Said when every answer comes from other dates: the archive may hold nothing of that time.
  if (read.filtered || !count || read.inside !== 0) return [];
  return [el("span", { class: "outside" }, "None of these answers is from then. ")];
}

function clock(read) {
  // Said only when it matters: the words were read against the archive's last day, or filter.
  const archive = read.clock === "archive" ? `, counted back from ${read.anchor}, the archive's last day` : "";
  return archive + (read.filtered ? "; only articles from then" : "");
}

function span(since, until) {
  if (since && until) return since === until ? since : `${since} to ${until}`;
  return since ? `from ${since} on` : `up to ${until}`;
}

// --- cards ---------------------------------------------------------------------------------------

function card(hit, n) {
  const titleId = `hit-${n}-title`;
  const relatedId = `hit-${n}-related`;
  const related = el("div", { id: relatedId, class: "related", hidden: true });
  const toggle = el(
    "button",
    {
      type: "button",
      class: "related-toggle",
      "aria-expanded": "false",
      "aria-controls": relatedId,
      "aria-describedby": titleId, // which article's related articles, for a screen reader
    },
    "Related articles",
  );
  toggle.addEventListener("click", () => toggleRelated(toggle, related, hit.article_id));
  return el(
    "li",
    { class: "card" },
    el(
      "article",
      { "aria-labelledby": titleId },
      el("h2", { id: titleId }, linkOrText(hit.title || hit.article_id, hit.url)),
      el(
        "p",
        { class: "meta" },
        hit.date ? el("time", { datetime: hit.date }, hit.date) : el("span", {}, "undated"),
        " · ",
        el("span", { class: "source" }, hit.source || "unknown source"),
      ),
      passage(hit),
      hit.duplicates.length ? duplicates(hit.duplicates) : null,
      toggle,
      related,
    ),
  );
}

/** The passage with its answering sentence marked; spans count code points, as Python does. */
function passage(hit) {
  const [start, end] = hit.highlight_span;
  const chars = Array.from(hit.text);
  if (!hit.highlight || !(0 <= start && start < end && end <= chars.length)) {
    return el("p", { class: "passage" }, hit.text);
  }
  return el(
    "p",
    { class: "passage" },
    chars.slice(0, start).join(""),
    el("mark", {}, chars.slice(start, end).join("")),
    chars.slice(end).join(""),
  );
}

function duplicates(ids) {
  const list = el("ul", { class: "duplicates" });
  for (const id of ids.slice(0, DUPLICATES_SHOWN)) {
    const item = el("li", {}, id);
    list.append(item);
    describe(id, item);
  }
  if (ids.length > DUPLICATES_SHOWN) list.append(el("li", {}, `and ${ids.length - DUPLICATES_SHOWN} more`));
  return el("div", { class: "also" }, el("span", {}, "Also published by "), list);
}

/** A related article's syndicated copies: their source and date, linked (no request needed). */
function copies(list) {
  const items = list.slice(0, DUPLICATES_SHOWN).map((c) =>
    el("li", {}, linkOrText(`${c.source || c.article_id}${c.date ? ` (${c.date})` : ""}`, c.url)),
  );
  if (list.length > DUPLICATES_SHOWN) items.push(el("li", {}, `and ${list.length - DUPLICATES_SHOWN} more`));
  const shown = el("ul", { class: "duplicates" }, ...items);
  return el("div", { class: "also" }, el("span", {}, "Also published by "), shown);
}

/** Replace an article id by its source and date once the article is read (the id stays on failure). */
async function describe(id, item) {
  if (!articles.has(id)) articles.set(id, getJson(`articles/${encodeURIComponent(id)}`).catch(() => null));
  const article = await articles.get(id);
  if (!article) return;
  const label = `${article.source || article.title || id}${article.date ? ` (${article.date})` : ""}`;
  item.replaceChildren(linkOrText(label, article.url));
}

async function toggleRelated(button, panel, id) {
  const open = button.getAttribute("aria-expanded") === "true";
  button.setAttribute("aria-expanded", String(!open));
  button.textContent = open ? "Related articles" : "Hide related articles";
  panel.hidden = open;
  if (open || panel.dataset.state) return;
  panel.dataset.state = "loading";
  panel.replaceChildren(el("p", { class: "status" }, "Looking for related articles…"));
  try {
    const { related } = await getJson(`articles/${encodeURIComponent(id)}/related?k=5`);
    panel.replaceChildren(
      related.length
        ? el(
            "ul",
            { class: "related-list", "aria-label": "Related articles" },
            ...related.map((r) =>
              el(
                "li",
                {},
                linkOrText(r.title || r.article_id, r.url),
                el("span", { class: "meta" }, ` ${r.date || "undated"} · ${r.source || "unknown source"}`),
                r.copies.length ? copies(r.copies) : null,
              ),
            ),
          )
        : el("p", { class: "status" }, "No related articles."),
    );
    panel.dataset.state = "loaded";
  } catch (error) {
    panel.replaceChildren(el("p", { class: "error" }, error.message));
    delete panel.dataset.state; // a later click tries again
  }
}

// --- the archive: sources for the filter, its last day for "as of" ------------------------------

async function loadArchive() {
  let archive;
  try {
    archive = await getJson("sources");
  } catch (error) {
    showError(error.message);
    return;
  }
  const select = input("source");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "" }, "Any source"),
    ...archive.sources.map((s) => el("option", { value: s.name }, `${s.name} (${s.articles})`)),
  );
  if (chosen && ![...select.options].some((option) => option.value === chosen)) {
    select.append(el("option", { value: chosen }, chosen));
  }
  select.value = chosen;
  if (archive.newest) {
    input("newest").textContent = archive.newest;
    input("newest").setAttribute("datetime", archive.newest);
    input("archive-end").hidden = false;
    input("use-newest").addEventListener("click", () => {
      input("as_of").value = archive.newest;
      if (question.value.trim()) form.requestSubmit();
    });
  }
}

// --- wiring --------------------------------------------------------------------------------------

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const [problems, field] = formProblems();
  if (problems.length) {
    showError(problems.join(" "));
    field.focus();
    return;
  }
  ask(formParams());
});

function fromAddress() {
  const params = new URLSearchParams(location.search);
  const problems = fillForm(params);
  if (problems.length) showError(problems.join(" "));
  else if (question.value.trim()) ask(formParams(params.get("interpret") !== "false"), { push: false });
  else {
    showError(null);
    results.replaceChildren();
    banner.hidden = true;
    statusLine.textContent = "";
  }
}

window.addEventListener("popstate", fromAddress);
if (window.matchMedia("(min-width: 48rem)").matches) input("filters").open = true;
fromAddress();
loadArchive();
