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
const UNREADABLE = "The server's answer could not be read.";

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

/** The url when it is an absolute web address; anything else (`javascript:`, `story.html`) is not
 * made a link. */
function webUrl(url) {
  if (!url) return null;
  try {
    const parsed = new URL(url); // no base: a relative url would point at this server, not the article
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function linkOrText(text, url) {
  const href = webUrl(url);
  // dir="auto": a right-to-left title keeps its own direction and leaves the text around it alone.
  return href ? el("a", { href, rel: "noopener noreferrer", dir: "auto" }, text) : el("span", { dir: "auto" }, text);
}

function showError(message) {
  errorBox.hidden = !message;
  errorBox.textContent = message || "";
}

/** The JSON object at `path`; an abort stays an AbortError (a newer request took over), anything
 * else becomes an Error with a message to show. */
async function getJson(path, signal) {
  let response;
  try {
    response = await fetch(path, { signal, headers: { accept: "application/json" } });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new Error("The server could not be reached. Is qa serve running?");
  }
  const body = await response.json().catch((error) => {
    // Aborted while the body was still arriving: the browser may say so as another error.
    if (error.name === "AbortError" || signal?.aborted) throw error;
    return null;
  });
  if (!response.ok) {
    throw new Error(body && typeof body.detail === "string" ? body.detail : `The server answered ${response.status}.`);
  }
  if (body === null || typeof body !== "object") throw new Error(UNREADABLE);
  return body;
}

// --- the form and the address bar ----------------------------------------------------------------

/** The /search parameters the form holds; the page's own address carries the same ones. */
function formParams() {
  const params = new URLSearchParams();
  params.set("question", question.value.trim());
  params.set("k", input("k").value.trim() || "5");
  for (const name of Object.keys(DATES)) {
    if (input(name).value) params.set(name, input(name).value);
  }
  for (const source of chosenSources()) params.append("sources", source);
  if (!input("interpret").checked) params.set("interpret", "false");
  return params;
}

function chosenSources() {
  return [...input("source").selectedOptions].map((option) => option.value).filter(Boolean);
}

/** Choose `sources` in the source list, adding any it lacks (the list may still be loading); a
 * link with several sources makes the list a multiple choice, so none is dropped. A name is matched
 * without regard to case, as the API matches it: "usa today" chooses the archive's "USA Today". */
function chooseSources(sources) {
  const select = input("source");
  const listed = (name) =>
    [...select.options].find((option) => option.value && option.value.toLowerCase() === name.toLowerCase());
  const chosen = sources.map((source) => {
    const option = listed(source) ?? select.appendChild(el("option", { value: source }, source));
    return option.value;
  });
  if (sources.length > 1) {
    select.multiple = true;
    select.size = Math.min(select.options.length, 6);
  }
  for (const option of select.options) option.selected = chosen.includes(option.value);
  if (!sources.length) select.value = "";
}

/** "(2 set)" after the filters' summary: what a folded panel would otherwise hide. */
function showActive() {
  const set =
    Object.keys(DATES).filter((name) => input(name).value).length +
    (chosenSources().length ? 1 : 0) +
    ((input("k").value.trim() || "5") !== "5" ? 1 : 0) +
    (input("interpret").checked ? 0 : 1);
  input("active").textContent = set ? ` (${set} set)` : "";
}

/** Fill the form from an address's parameters; the problems found, as messages. */
function fillForm(params) {
  const problems = [];
  question.value = params.get("question") || params.get("q") || ""; // `q`: the API's older name
  const k = params.get("k") || "5";
  const whole = /^[0-9]+$/.test(k) && 1 <= Number(k) && Number(k) <= 100;
  input("k").value = whole ? String(Number(k)) : "5";
  if (!whole) problems.push(`Passages: “${k}” is not a whole number from 1 to 100.`);
  for (const [name, label] of Object.entries(DATES)) {
    const given = params.get(name) || "";
    input(name).value = given;
    if (given && input(name).value !== given) problems.push(`${label}: “${given}” is not a date (YYYY-MM-DD).`);
  }
  const sources = params.getAll("sources");
  chooseSources(sources.length ? sources : params.getAll("source"));
  input("interpret").checked = params.get("interpret") !== "false";
  if ([...Object.keys(DATES), "sources", "source"].some((name) => params.get(name))) input("filters").open = true;
  showActive();
  return problems;
}

/** What is wrong with the form before asking, as `[field, message]` pairs, the field to fix first
 * first: an empty question, a date typed only in part, since after until, passages out of range. */
function formProblems() {
  if (!question.value.trim()) return [[question, "Type a question first."]];
  const problems = Object.keys(DATES)
    .filter((name) => input(name).validity.badInput)
    .map((name) => [input(name), `${DATES[name]}: enter a whole date.`]);
  const since = input("since").value;
  const until = input("until").value;
  if (since && until && since > until) problems.push([input("since"), `Since (${since}) is after Until (${until}).`]);
  if (!input("k").validity.valid) problems.push([input("k"), "Passages: a whole number from 1 to 100."]);
  return problems;
}

function markInvalid(fields) {
  for (const field of form.querySelectorAll("[aria-invalid]")) {
    field.removeAttribute("aria-invalid");
    describeByError(field, false);
  }
  for (const field of fields) {
    field.setAttribute("aria-invalid", "true");
    describeByError(field, true);
  }
}

/** Make the error box (not) part of the field's description: a screen reader says why when the
 * field takes the focus, which may cut the alert short. Other ids it names (help) are kept. */
function describeByError(field, on) {
  const ids = (field.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== errorBox.id);
  if (on) ids.unshift(errorBox.id);
  if (ids.length) field.setAttribute("aria-describedby", ids.join(" "));
  else field.removeAttribute("aria-describedby");
}

// --- asking ----------------------------------------------------------------------------------------

async function ask(params, { push = true } = {}) {
  if (push && location.search !== `?${params}`) history.pushState(null, "", `?${params}`);
  document.title = `${params.get("question")} — News QA`;
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
    // Whether the archive is empty, when that may be why nothing was found (its count of articles
    // now: /sources lists only articles that name a source).
    const stats = answer.hits?.length === 0 ? await getJson("stats", controller.signal).catch(() => null) : null;
    if (controller.signal.aborted) return;
    render(answer, params, stats);
    // What the page adds over the API call, for benchmarks/bench_page.py (performance entries).
    performance.measure("qa:api", { start: asked, end: received });
    performance.measure("qa:render", { start: received, end: performance.now() });
  } catch (error) {
    if (error.name === "AbortError" || controller.signal.aborted) return; // a newer question took over
    results.replaceChildren();
    hideBanner();
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

function render(answer, params, stats) {
  if (!Array.isArray(answer.hits)) throw new Error(UNREADABLE);
  const hits = answer.hits;
  showError(null);
  results.replaceChildren(...hits.map((hit, n) => card(hit, n)));
  statusLine.textContent =
    (hits.length
      ? `${hits.length} ${hits.length === 1 ? "answer" : "answers"}, as of ${answer.as_of}.${matchNote(hits)}`
      : nothingFound(answer, stats)) + unknownSources(answer);
  showInterpretation(answer, params);
}

// A hit that matches the question less than 99 % of the answers to the train questions did
// (`weak`, qa/retrieval/match.py); null where it was not measured.
const weak = (hit) => hit.weak === true;

function matchNote(hits) {
  if (!hits.length || !hits.every(weak)) return "";
  return " They match the question only weakly: the archive may not hold the answer.";
}

function nothingFound(answer, stats) {
  if (stats && stats.articles === 0) return "The archive is empty: no article has been indexed yet.";
  const dates = answer.interpreted ? ", or ignore the dates read from the question" : "";
  return `No passages found as of ${answer.as_of}. Try fewer filters${dates}.`;
}

function unknownSources(answer) {
  // A source in a link that the archive holds no article from (misspelt, or not indexed yet).
  const names = answer.unknown_sources ?? [];
  if (!names.length) return "";
  const quoted = names.map((name) => `“${name}”`).join(", ");
  return ` No article in the archive is from ${quoted}.`;
}

function showInterpretation(answer, params) {
  const focused = banner.contains(document.activeElement); // its button is about to be replaced
  fillBanner(answer, params);
  // The focus stays on the banner's new button; where there is none now, the question takes it
  // rather than leave it nowhere (the start of the page, for the next Tab).
  if (focused) ((!banner.hidden && banner.querySelector("button")) || question).focus();
}

/** Hide the time-words banner, moving the focus to the question when it was in the banner. */
function hideBanner() {
  if (banner.contains(document.activeElement)) question.focus();
  banner.hidden = true;
}

function fillBanner(answer, params) {
  const ignored = params.get("interpret") === "false";
  const read = answer.interpreted;
  if (!ignored && !read) {
    banner.hidden = true;
    return;
  }
  const again = new URLSearchParams(params);
  const reask = (interpret) => () => {
    input("interpret").checked = interpret; // the choice holds for the questions asked after
    showActive();
    ask(again);
  };
  if (!ignored && read.set_aside) {
    // the form's own Since/Until decide: the question's time words are said, not used
    banner.replaceChildren(
      el("span", {}, "“", el("strong", {}, read.text), `” (${span(read.since, read.until)}) is not read as dates: `),
      el("span", {}, "the Since and Until filters decide."),
    );
  } else if (ignored) {
    again.delete("interpret");
    banner.replaceChildren(
      el("span", {}, "Time words in the question are not read as dates. "),
      el("button", { type: "button", class: "link", onclick: reask(true) }, "Read them as dates"),
    );
  } else {
    again.set("interpret", "false");
    banner.replaceChildren(
      el("span", {}, "Reading “", el("strong", {}, read.text), `” as ${span(read.since, read.until)}${clock(read)}. `),
      ...outside(read, answer.hits.length),
      el("button", { type: "button", class: "link", onclick: reask(false) }, "Ignore these dates"),
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
  toggle.addEventListener("click", () => toggleRelated(toggle, related, hit));
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
        el("span", { class: "source", dir: "auto" }, hit.source || "unknown source"),
        weak(hit) ? " · " : null,
        weak(hit) ? el("span", { class: "weak" }, "weak match") : null,
      ),
      ...passage(hit, `hit-${n}-text`, titleId),
      hit.copies.length ? copies(hit.copies) : null,
      toggle,
      related,
    ),
  );
}

/** The passage with its answering sentence marked; spans count code points, as Python does. A
 * long one (neighbouring passages of an article shown as one hit) is folded to an excerpt around
 * the marked sentence, with a button that shows the whole text and folds it again. */
function passage(hit, id, titleId) {
  const chars = Array.from(hit.text);
  const [start, end] = hit.highlight_span ?? [0, 0];
  const marked = Boolean(hit.highlight) && 0 <= start && start < end && end <= chars.length;
  const [from, to] = marked ? [start, end] : [0, 0];
  const text = el("p", { class: "passage", id, dir: "auto" }); // right-to-left text keeps its direction
  const show = (lo, hi) =>
    text.replaceChildren(
      lo > 0 ? "… " : "",
      chars.slice(lo, from).join(""),
      to > from ? el("mark", {}, chars.slice(from, to).join("")) : "",
      hi < chars.length ? `${chars.slice(Math.max(from, to), hi).join("").trimEnd()} …` : chars.slice(Math.max(from, to)).join(""),
    );
  const [lo, hi] = excerpt(chars, from, to);
  if (lo === 0 && hi === chars.length) {
    show(0, chars.length);
    return [text];
  }
  const words = hit.text.split(/\s+/).filter(Boolean).length;
  const more = // text written without spaces (Chinese, Japanese) is counted in characters
    words >= chars.length / 20
      ? `Show all ${NUMBER.format(words)} words`
      : `Show all ${NUMBER.format(chars.length)} characters`;
  const button = el(
    "button",
    { type: "button", class: "more", "aria-expanded": "false", "aria-controls": id, "aria-describedby": titleId },
    more,
  );
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    const before = button.getBoundingClientRect().top;
    if (open) show(0, chars.length);
    else {
      show(lo, hi);
      // The text above the button shrank: scroll back by as much, so the button stays under the
      // pointer rather than leave the reader thousands of pixels further on, in other cards.
      window.scrollBy(0, button.getBoundingClientRect().top - before);
    }
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "Show less" : more;
  });
  show(lo, hi);
  return [text, button];
}

const NUMBER = new Intl.NumberFormat("en"); // made once: a toLocaleString call makes one each time
const FOLD_AT = 1500; // code points: longer than one passage of the chunker, so only merged hits fold
const EXCERPT = 900; // about what is shown of a folded one
const BEFORE = 300; // at most this much before the marked sentence

/** `[lo, hi)` of `chars` to show folded: whole sentences from up to BEFORE before the mark
 * `[from, to)` to about EXCERPT in all, never cutting the mark; the whole text when short. Where
 * no sentence begins or ends near enough, it is cut at a word (a character in text without spaces). */
export function excerpt(chars, from, to) {
  if (chars.length <= FOLD_AT) return [0, chars.length];
  const starts = sentenceStarts(chars);
  const lo =
    from <= BEFORE ? 0 : starts.find((s) => s >= from - BEFORE && s <= from) ?? wordStart(chars, from - BEFORE / 2, from);
  const wanted = Math.max(to, lo + EXCERPT);
  let hi = starts.find((s) => s >= wanted) ?? chars.length;
  if (hi > wanted + BEFORE) {
    // a long sentence runs past: end before it, or cut it at a word when that leaves too little
    const before = starts.findLast((s) => s > to && s < wanted);
    hi = before !== undefined && before >= lo + EXCERPT / 2 ? before : wordEnd(chars, wanted);
  }
  if (chars.length - hi < BEFORE) hi = chars.length; // not worth hiding a short tail
  return [lo, hi];
}

const ENDS = new Set(".!?");
const WIDE_ENDS = new Set("。！？"); // a sentence's end that needs no space after it
const CLOSERS = new Set("\"'”’)]」』）");
const space = (c) => c.trim() === ""; // what `\s` matches, without a regex per character
const WORD = 40; // a "word" longer than this (text without spaces) is cut where it is

/** Where a sentence or a paragraph begins in `chars` (code point offsets, ascending, 0 and the
 * length included): the first non-space after a line break, after a sentence's end (.!? and any
 * closing quotes or brackets) and a space, or right after 。！？ and their closing quotes. */
function sentenceStarts(chars) {
  const starts = [0];
  let ended = false; // a sentence's end (or a line break) seen
  let spaced = false; // and the space after it
  let wide = false; // a 。！？ end: the next character begins a sentence, space or none
  for (let i = 0; i < chars.length; i += 1) {
    const c = chars[i];
    if (space(c)) {
      if (ended || c === "\n") [ended, spaced] = [true, true];
      continue;
    }
    if (ended && !spaced && CLOSERS.has(c)) continue; // a closing quote after the end
    if (spaced || wide) starts.push(i);
    spaced = false;
    wide = WIDE_ENDS.has(c);
    ended = wide || ENDS.has(c);
  }
  starts.push(chars.length);
  return starts;
}

/** The start of the word at or after `at`, before `ceiling`; `at` itself in a word too long. */
function wordStart(chars, at, ceiling) {
  for (let lo = at; lo < Math.min(ceiling, at + WORD); lo += 1) if (space(chars[lo - 1])) return lo;
  return at;
}

/** The end of the word at `at` (where a space follows); `at` itself in a word too long. */
function wordEnd(chars, at) {
  for (let hi = at; hi < Math.min(chars.length, at + WORD); hi += 1) if (space(chars[hi])) return hi;
  return Math.min(at, chars.length);
}

/** Syndicated copies: their source and date, linked (no request needed). */
function copies(list, label = "Also published by ") {
  const items = list.slice(0, DUPLICATES_SHOWN).map((c) =>
    el("li", {}, linkOrText(`${c.source || c.article_id}${c.date ? ` (${c.date})` : ""}`, c.url)),
  );
  if (list.length > DUPLICATES_SHOWN) items.push(el("li", {}, `and ${list.length - DUPLICATES_SHOWN} more`));
  const shown = el("ul", { class: "duplicates" }, ...items);
  return el("div", { class: "also" }, el("span", {}, label), shown);
}

/** A hit's related articles, opened in its card; the article's own copies come first, those the
 * card does not already name ("also published by" of its passage). */
async function toggleRelated(button, panel, hit) {
  const id = hit.article_id;
  const open = button.getAttribute("aria-expanded") === "true";
  button.setAttribute("aria-expanded", String(!open)); // the arrow before the label follows it
  panel.hidden = open;
  if (open || panel.dataset.state) return;
  panel.dataset.state = "loading";
  // An empty live region first, its words later: a region inserted with its words is often not read.
  const said = el("p", { class: "sr-only", role: "status" });
  const body = el("div", {}, el("p", { class: "status" }, "Looking for related articles…"));
  panel.replaceChildren(said, body);
  try {
    const { related, copies: own = [] } = await getJson(`articles/${encodeURIComponent(id)}/related?k=5`);
    said.textContent = related.length
      ? `${related.length} related article${related.length === 1 ? "" : "s"}`
      : "No related articles.";
    body.replaceChildren(
      ...unnamed(own, hit).map((more) => copies(more, "The same story was also published by ")),
      related.length
        ? el(
            "ul",
            { class: "related-list", "aria-label": "Related articles" },
            ...related.map((r) =>
              el(
                "li",
                {},
                linkOrText(r.title || r.article_id, r.url),
                el("span", { class: "meta" }, ` ${r.date || "undated"} · `, el("bdi", {}, r.source || "unknown source")),
                r.copies.length ? copies(r.copies) : null,
              ),
            ),
          )
        : el("p", { class: "status" }, "No related articles."),
    );
    panel.dataset.state = "loaded";
  } catch (error) {
    body.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
    delete panel.dataset.state; // a later click tries again
  }
}

/** The article's copies the card does not name yet, as one list (or none). */
function unnamed(own, hit) {
  const named = new Set(hit.duplicates);
  const more = own.filter((c) => !named.has(c.article_id));
  return more.length ? [more] : [];
}

// --- the archive: sources for the filter, its last day for "as of" ------------------------------

/** Fill the source filter and the archive's last day from GET /sources. */
async function loadArchive() {
  let archive;
  try {
    archive = await getJson("sources");
    if (!Array.isArray(archive.sources)) throw new Error(UNREADABLE);
  } catch (error) {
    showError(error.message);
    return;
  }
  const select = input("source");
  const chosen = chosenSources();
  select.replaceChildren(
    el("option", { value: "" }, "Any source"),
    ...archive.sources.map((s) => el("option", { value: s.name }, `${s.name} (${s.articles})`)),
  );
  chooseSources(chosen);
  if (archive.newest) {
    input("newest").textContent = archive.newest;
    input("newest").setAttribute("datetime", archive.newest);
    input("archive-end").hidden = false;
    input("use-newest").addEventListener("click", () => {
      input("as_of").value = archive.newest;
      showActive();
      if (question.value.trim()) form.requestSubmit();
    });
  }
}

// --- wiring --------------------------------------------------------------------------------------

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const problems = formProblems();
  markInvalid(problems.map(([field]) => field));
  if (problems.length) {
    showError(problems.map(([, message]) => message).join(" "));
    const [field] = problems[0];
    if (input("filters").contains(field)) input("filters").open = true; // a folded field takes no focus
    field.focus();
    return;
  }
  ask(formParams());
});
form.addEventListener("change", showActive);

/** Show what the address asks (on opening the page, and on Back and Forward). */
function fromAddress() {
  const params = new URLSearchParams(location.search);
  const problems = fillForm(params);
  markInvalid([]);
  if (!problems.length && question.value.trim()) {
    ask(formParams(), { push: false });
    return;
  }
  inFlight?.abort(); // an answer still coming belongs to another address
  inFlight = null;
  results.removeAttribute("aria-busy");
  results.replaceChildren();
  hideBanner();
  statusLine.textContent = "";
  document.title = "News QA";
  showError(problems.length ? problems.join(" ") : null);
}

window.addEventListener("popstate", fromAddress);
if (window.matchMedia("(min-width: 48rem)").matches) input("filters").open = true;
loadArchive();
fromAddress();
