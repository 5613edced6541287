// The exercise page: a sheet drawn by POST /api/exercise, the student's answers marked by
// POST /api/exercise/check. Nothing here counts or marks; every verdict is the server's.
// Every text from the server goes in with textContent: no HTML is built from data.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const MAX_SEED = 2n ** 63n - 1n;
  let sheet = null; // the last sheet, as the server sent it
  let seedText = ""; // its seed as typed: a JSON number past 2^53 would come back rounded
  let drawing = 0; // the latest draw: an earlier one answering late must not replace its sheet

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function call(path, body) {
    const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    const payload = await response.json().catch(() => ({ error: { message: `HTTP ${response.status}` } }));
    if (!response.ok) throw new Error(payload.error ? payload.error.message : `HTTP ${response.status}`);
    return payload;
  }

  function showError(message) {
    $("error").hidden = !message;
    $("error").textContent = message || "";
  }

  function expectedText(value) {
    // as the sheet's key prints it: a shape 20 × 20 × 3, one axis (512,), names by commas
    if (Array.isArray(value) && value.length && typeof value[0] === "number") {
      return value.length === 1 ? `(${value[0]},)` : value.join(" × ");
    }
    if (Array.isArray(value)) return value.join(", ") || "none";
    return Number(value).toLocaleString("en-US");
  }

  function newSeed() {
    const words = crypto.getRandomValues(new Uint32Array(2)); // 63 random bits
    $("seed").value = String(((BigInt(words[0]) << 32n) | BigInt(words[1])) & MAX_SEED);
  }

  async function draw(event) {
    if (event) event.preventDefault();
    const request = { level: $("level").value, seed: $("seed").value.trim(), count: Number($("count").value) };
    $("status").textContent = "Drawing the networks…";
    const ticket = ++drawing;
    try {
      const drawn = await call("api/exercise", request);
      if (ticket !== drawing) return;
      sheet = drawn;
      seedText = request.seed;
      showError("");
      showSheet(request);
      $("status").textContent = "";
    } catch (error) {
      if (ticket !== drawing) return;
      showError(error.message);
      $("status").textContent = "";
    }
  }

  function showSheet(request) {
    const query = new URLSearchParams({ level: request.level, seed: request.seed, count: String(request.count) });
    $("print").href = `exercise/sheet.html?${query}`;
    history.replaceState(null, "", `#${query}`); // the address gives the same sheet to whoever opens it
    $("print").hidden = false;
    $("description").textContent = `Level ${sheet.level} (${sheet.description}), seed ${seedText}: ` +
      "answer in the boxes (a number, a shape such as 22x22x4, or layer names) and press Check.";
    const box = $("exercises");
    box.replaceChildren(...sheet.exercises.map(exerciseBlock));
    $("answers").hidden = false;
    $("score").textContent = "";
    showAnswers(false);
  }

  function exerciseBlock(exercise) {
    const block = el("section", "exercise");
    const network = el("pre", "", exercise.layers.join("\n"));
    network.tabIndex = 0; // it scrolls sideways on a phone: the keyboard can reach and scroll it
    network.setAttribute("role", "region");
    network.setAttribute("aria-label", `The network of exercise ${exercise.id.slice(1)}`);
    block.append(el("h2", "", `Exercise ${exercise.id.slice(1)}`), network);
    for (const q of exercise.questions) {
      const row = el("div", "question");
      row.dataset.question = q.id;
      const input = el("input");
      input.name = q.id;
      input.setAttribute("aria-label", `${q.id}: ${q.prompt}`);
      const worked = el("div", "worked");
      worked.hidden = true;
      worked.append(el("b", "", expectedText(q.expected)), ...q.worked.map((line) => el("div", "", line)));
      row.append(el("span", "qid", q.id), el("label", "prompt", q.prompt), input, el("div", "result"), worked);
      block.append(row);
    }
    return block;
  }

  async function check(event) {
    event.preventDefault();
    const answers = {};
    for (const input of $("answers").querySelectorAll(".question input")) {
      if (input.value.trim()) answers[input.name] = input.value.trim();
    }
    $("status").textContent = "Marking…";
    try {
      const marked = await call("api/exercise/check", { sheet: { ...sheet, seed: seedText }, answers });
      showError("");
      marked.marks.forEach(showMark);
      $("score").textContent = `${marked.right} of ${marked.questions} right`;
    } catch (error) {
      showError(error.message);
    }
    $("status").textContent = "";
  }

  function showMark(mark) {
    const row = $("answers").querySelector(`.question[data-question="${CSS.escape(mark.question)}"]`);
    if (!row) return;
    row.classList.toggle("right", mark.ok === true);
    row.classList.toggle("wrong", mark.ok === false);
    const box = row.querySelector(".result");
    box.replaceChildren();
    if (mark.ok === null) return;
    box.append(el("span", "verdict", mark.ok ? "right" : "wrong"));
    if (mark.ok) return;
    const names = mark.mistakes && mark.mistakes.length ? mark.mistakes : [];
    if (names.length) {
      box.append(el("span", "mistake", names.length > 1 ? `either ${names.join(" or ")}` : names[0]), " · ");
    }
    box.append(el("span", "detail", mark.verdict));
    if (mark.first_wrong_step) box.append(el("span", "step", `first wrong step: ${mark.first_wrong_step}`));
  }

  function showAnswers(shown) {
    $("show-answers").setAttribute("aria-pressed", String(shown));
    $("show-answers").textContent = shown ? "Hide answers" : "Show answers";
    for (const worked of $("answers").querySelectorAll(".worked")) worked.hidden = !shown;
  }

  $("draw").addEventListener("submit", draw);
  $("new-seed").addEventListener("click", () => { newSeed(); draw(); });
  $("answers").addEventListener("submit", check);
  $("show-answers").addEventListener("click",
    () => showAnswers($("show-answers").getAttribute("aria-pressed") !== "true"));
  fromAddress();
  draw();

  // #level=conv&seed=1&count=10, as showSheet writes it: a shared address opens the same sheet
  function fromAddress() {
    const query = new URLSearchParams(location.hash.slice(1));
    const level = query.get("level"), seed = query.get("seed"), count = query.get("count");
    if (level && [...$("level").options].some((o) => o.value === level)) $("level").value = level;
    if (seed && /^\d{1,19}$/.test(seed)) $("seed").value = seed;
    if (count && /^\d{1,2}$/.test(count)) $("count").value = count;
  }
})();
